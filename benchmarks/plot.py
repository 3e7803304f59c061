"""Plot a saved benchmark run: throughput against payload size, and a table.

    pytest benchmarks --benchmark-only --benchmark-json=bench.json
    python benchmarks/plot.py bench.json --png benchmarks/results.png --markdown benchmarks/results.md

Left: masking (copying), bytes per second against payload size, log-log.
Right: decoding, frames per second for each stream. The machine and Python the
run came from are printed on the figure.
"""

from __future__ import annotations

import argparse
import json
import re
from collections import defaultdict

from bench_decode import STREAMS
from report import render

# wsframe in reds, each peer its own hue (compiled darker, pure Python
# lighter), bounds and references in greys.
COLOURS = {
    "wsframe-c": "#d62728",
    "wsframe-python": "#ff9896",
    "websockets": "#2ca02c",
    "websockets-c": "#2ca02c",
    "websockets-python": "#98df8a",
    "aiohttp-c": "#1f77b4",
    "aiohttp-cython": "#1f77b4",
    "aiohttp-python": "#aec7e8",
    "aiohttp": "#1f77b4",
    "wsproto": "#9467bd",
    "wsaccel": "#8c564b",
    "picows": "#17becf",
    "websockets+wsframe-dropin": "#bcbd22",
    "wsproto+wsframe-dropin": "#c5b0d5",
    "memcpy-bound": "#7f7f7f",
    "cpython-utf8-decode": "#c7c7c7",
}


def _size(group: str) -> int:
    match = re.search(r"(\d+) B$", group)
    return int(match.group(1)) if match else 0


def plot(run: dict, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    mask = defaultdict(list)
    decode = defaultdict(dict)
    for bench in run["benchmarks"]:
        name = bench["params"].get("name", bench["name"])
        median = bench["stats"]["median"]
        if bench["group"].startswith("mask (copy)"):
            size = _size(bench["group"])
            mask[name].append((size, size / median))
        elif bench["group"].startswith("decode") and name != "memcpy-bound":
            stream = bench["group"][len("decode ") : -len(" frames")]
            decode[stream][name] = bench["extra_info"]["frames"] / median

    figure, (left, right) = plt.subplots(1, 2, figsize=(13, 6))
    for name, points in sorted(mask.items()):
        points.sort()
        left.plot([p[0] for p in points], [p[1] / 1e9 for p in points], marker="o", label=name,
                  color=COLOURS.get(name))
    left.set(xscale="log", yscale="log", xlabel="payload size (bytes)", ylabel="GB/s",
             title="mask (copying), higher is better")
    left.legend(fontsize=8)
    left.grid(True, which="both", alpha=0.3)

    streams = [stream for stream in STREAMS if stream in decode]
    names = sorted({n for rates in decode.values() for n in rates})
    width = 0.8 / max(len(names), 1)
    for index, name in enumerate(names):
        right.bar([i + index * width for i in range(len(streams))],
                  [decode[s].get(name, 0) / 1e6 for s in streams], width, label=name, color=COLOURS.get(name))
    right.set_xticks([i + 0.4 - width / 2 for i in range(len(streams))], streams)
    right.set(yscale="log", ylabel="million frames/s", title="decode, 64 KiB chunks, higher is better")
    right.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=4)
    machine = run.get("machine_info", {})
    figure.suptitle(f"{machine.get('cpu', {}).get('brand_raw', '?')}, {machine.get('python_implementation', '')} "
                    f"{machine.get('python_version', '')}, {run.get('datetime', '')[:10]}", fontsize=9)
    figure.tight_layout()
    figure.savefig(path, dpi=90)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("json_file")
    parser.add_argument("--png", default="benchmarks/results.png")
    parser.add_argument("--markdown", default="benchmarks/results.md")
    arguments = parser.parse_args()
    with open(arguments.json_file) as file:
        run = json.load(file)
    plot(run, arguments.png)
    with open(arguments.markdown, "w") as file:
        file.write(render(run) + "\n")
    print(f"wrote {arguments.png} and {arguments.markdown}")


if __name__ == "__main__":
    main()
