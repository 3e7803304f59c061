"""Plot a saved benchmark run: throughput against payload size, and a table.

    pytest benchmarks --benchmark-only --benchmark-json=bench.json
    python benchmarks/plot.py bench.json --png benchmarks/results.png --markdown benchmarks/results.md

Left: masking (copying), bytes per second against payload size, log-log.
Right: decoding, frames per second for each stream. The machine and Python the
run came from are printed on the figure.

A run that holds only some of the groups (``-k decode``, an interrupted run)
draws the panels it has data for and names the groups it lacks on stderr;
with ``--require-all`` it draws nothing and exits 1 instead. A run with
neither masking nor decoding results is refused.
"""

from __future__ import annotations

import argparse
import json
import re
from collections import defaultdict

import sys
from typing import Dict, List, Tuple

from bench_decode import STREAMS
from bench_mask import SIZES
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


#: The groups the two panels draw, as bench_mask.py and bench_decode.py name them.
MASK_GROUPS = [f"mask (copy) {size} B" for size in SIZES]
DECODE_GROUPS = [f"decode {stream} frames" for stream in STREAMS]


def collect(run: dict) -> Tuple[Dict[str, List[Tuple[int, float]]], Dict[str, Dict[str, float]], List[str]]:
    """The masking points per implementation, the decoding rates per stream,
    and the groups of the two panels that the run has no result for."""
    mask: Dict[str, List[Tuple[int, float]]] = defaultdict(list)
    decode: Dict[str, Dict[str, float]] = defaultdict(dict)
    seen = set()
    for bench in run.get("benchmarks", []):
        name = bench["params"].get("name", bench["name"])
        median = bench["stats"]["median"]
        if bench["group"] in MASK_GROUPS:
            size = _size(bench["group"])
            mask[name].append((size, size / median))
        elif bench["group"] in DECODE_GROUPS and name != "memcpy-bound":
            stream = bench["group"][len("decode ") : -len(" frames")]
            decode[stream][name] = bench["extra_info"]["frames"] / median
        else:
            continue
        seen.add(bench["group"])
    missing = [group for group in MASK_GROUPS + DECODE_GROUPS if group not in seen]
    return mask, decode, missing


def plot(run: dict, path: str) -> List[str]:
    """Draw the panels the run has data for; return the groups it lacks.

    ``ValueError`` when it has neither masking nor decoding results."""
    mask, decode, missing = collect(run)
    if not mask and not decode:
        raise ValueError("the run has no masking or decoding results to plot (groups "
                         f"{MASK_GROUPS[0]!r}... from bench_mask.py, {DECODE_GROUPS[0]!r}... from bench_decode.py); "
                         "run: pytest benchmarks/bench_mask.py benchmarks/bench_decode.py --benchmark-only "
                         "--benchmark-json=bench.json")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = int(bool(mask)) + int(bool(decode))
    figure, axes = plt.subplots(1, panels, figsize=(6.5 * panels, 6), squeeze=False)
    column = iter(axes[0])
    if mask:
        left = next(column)
        for name, points in sorted(mask.items()):
            points.sort()
            left.plot([p[0] for p in points], [p[1] / 1e9 for p in points], marker="o", label=name,
                      color=COLOURS.get(name))
        left.set(xscale="log", yscale="log", xlabel="payload size (bytes)", ylabel="GB/s",
                 title="mask (copying), higher is better")
        left.legend(fontsize=8)
        left.grid(True, which="both", alpha=0.3)
    if decode:
        right = next(column)
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
    return missing


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("json_file")
    parser.add_argument("--png", default="benchmarks/results.png")
    parser.add_argument("--markdown", default="benchmarks/results.md")
    parser.add_argument("--require-all", action="store_true",
                        help="refuse a run that lacks any group of the two panels instead of drawing what it has")
    arguments = parser.parse_args()
    with open(arguments.json_file) as file:
        run = json.load(file)
    missing = collect(run)[2]
    if missing and arguments.require_all:
        sys.exit(f"error: {arguments.json_file} has no results for {len(missing)} groups: {', '.join(missing)}")
    try:
        plot(run, arguments.png)
    except ValueError as error:
        sys.exit(f"error: {arguments.json_file}: {error}")
    if missing:
        print(f"note: {arguments.json_file} has no results for {len(missing)} groups, left out of "
              f"{arguments.png}: {', '.join(missing)}", file=sys.stderr)
    with open(arguments.markdown, "w") as file:
        file.write(render(run) + "\n")
    print(f"wrote {arguments.png} and {arguments.markdown}")


if __name__ == "__main__":
    main()
