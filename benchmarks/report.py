"""Turn a saved pytest-benchmark run into a Markdown table of ratios.

    pytest benchmarks --benchmark-only --benchmark-json=bench.json
    python benchmarks/report.py bench.json

Within each group every entry is shown against wsframe-c, so the table reads
the same on a fast or a slow machine.
"""

from __future__ import annotations

import argparse
import json
import re
from collections import defaultdict
from typing import Dict, List


def _throughput(size: int, seconds: float) -> str:
    if not size:
        return ""
    rate = size / seconds
    for unit in ("B/s", "KB/s", "MB/s", "GB/s"):
        if rate < 1000:
            return f"{rate:.1f} {unit}"
        rate /= 1000
    return f"{rate:.1f} TB/s"


def _duration(seconds: float) -> str:
    if seconds >= 0.1:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds * 1e6:.3f} us"


def _sort_key(group: str):
    number = re.search(r"(\d+) B$", group)
    return (re.sub(r"\d+ B$", "", group), int(number.group(1)) if number else 0)


def render(run: dict, baseline: str = "wsframe-c") -> str:
    groups: Dict[str, List[dict]] = defaultdict(list)
    for bench in run["benchmarks"]:
        groups[bench["group"]].append(bench)
    machine = run.get("machine_info", {})
    lines = [
        f"Machine: {machine.get('cpu', {}).get('brand_raw', '?')}, "
        f"{machine.get('python_implementation', '')} {machine.get('python_version', '')}; "
        f"median of each benchmark; ratio = that entry's time / {baseline}'s time (lower is faster).",
        "",
        "| group | implementation | median | throughput | frames/s | time vs " + baseline + " |",
        "|---|---|---|---|---|---|",
    ]
    for group in sorted(groups, key=_sort_key):
        entries = sorted(groups[group], key=lambda b: b["stats"]["median"])
        base = next((b["stats"]["median"] for b in entries if b["params"].get("name") == baseline), None)
        for bench in entries:
            median = bench["stats"]["median"]
            ratio = f"{median / base:.2f}x" if base else ""
            size = bench.get("extra_info", {}).get("size", 0)
            frames = bench.get("extra_info", {}).get("frames")
            frame_rate = f"{frames / median / 1e6:.3f} M" if frames else ""
            lines.append(
                f"| {group} | {bench['params'].get('name', bench['name'])} | {_duration(median)} "
                f"| {_throughput(size, median)} | {frame_rate} | {ratio} |"
            )
    return "\n".join(lines)


def render_uvicorn(run: dict, baseline: str = "websockets-sansio") -> str:
    """bench_uvicorn.py's results: one row per message size, one column per --ws."""
    rows: Dict[int, Dict[str, dict]] = defaultdict(dict)
    for bench in run["benchmarks"]:
        info = bench.get("extra_info", {})
        if "messages_per_s" in info:
            rows[info["size"]][info["implementation"]] = info
    names = sorted({name for row in rows.values() for name in row}, key=lambda name: (name != baseline, name))
    lines = [
        f"Round trips per second over 8 connections (ratio to {baseline}), p50 / p99 round trip in ms;"
        " server and client CPU as a share of one core.",
        "",
        "| message | " + " | ".join(names) + " |",
        "|---|" + "---|" * len(names),
    ]
    for size in sorted(rows):
        base = rows[size].get(baseline, {}).get("messages_per_s")
        cells = []
        for name in names:
            info = rows[size].get(name)
            if info is None:
                cells.append("")
                continue
            ratio = f" ({info['messages_per_s'] / base:.2f}x)" if base else ""
            cpu = f"; CPU {info['server_cpu_share']:.2f} / {info.get('client_cpu_share', float('nan')):.2f}"
            cells.append(f"{info['messages_per_s']:,.0f}/s{ratio}; {info['p50_us'] / 1000:.2f} / "
                         f"{info['p99_us'] / 1000:.2f} ms{cpu}")
        label = f"{size // 1024} KiB" if size >= 1024 else f"{size} B"
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("json_file")
    parser.add_argument("--baseline", default=None)
    parser.add_argument("--uvicorn", action="store_true", help="the uvicorn table (bench_uvicorn.py)")
    arguments = parser.parse_args()
    with open(arguments.json_file) as file:
        run = json.load(file)
    if arguments.uvicorn:
        print(render_uvicorn(run, arguments.baseline or "websockets-sansio"))
    else:
        run["benchmarks"] = [bench for bench in run["benchmarks"] if not bench["group"].startswith("uvicorn")]
        print(render(run, arguments.baseline or "wsframe-c"))


if __name__ == "__main__":
    main()
