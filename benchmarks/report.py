"""Turn a saved pytest-benchmark run into a Markdown table of ratios.

    pytest benchmarks --benchmark-only --benchmark-json=bench.json
    python benchmarks/report.py bench.json
    python benchmarks/report.py --dropin run1.json run2.json run3.json   # the drop-ins' gains
    python benchmarks/report.py --uvicorn bench.json                     # bench_uvicorn.py
    python benchmarks/report.py --echo bench.json                        # bench_echo.py

Within each group every entry is shown against wsframe-c, so the table reads
the same on a fast or a slow machine.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
from collections import defaultdict
from typing import Dict, List, Tuple


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


def render_servers(run: dict, group: str, baseline: str) -> str:
    """The end-to-end results (bench_echo.py, bench_uvicorn.py) of the groups
    starting with ``group``: one row per message size, one column per server."""
    rows: Dict[int, Dict[str, dict]] = defaultdict(dict)
    for bench in run["benchmarks"]:
        info = bench.get("extra_info", {})
        if "messages_per_s" in info and bench["group"].startswith(group):
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


# The libraries with a drop-in; each is compared with itself, except that on
# receive aiohttp runs its compiled reader (aiohttp-c), as its users do.
DROPIN_LIBRARIES = ("websockets", "wsproto", "aiohttp", "tornado")
DECODE_BASELINES = {"aiohttp": "aiohttp-c"}
# (row label, benchmark group, whether the peer's baseline is its decoder)
DROPIN_PATHS = [
    ("receive 16 B", "decode 16 B frames", True),
    ("receive 1 KiB", "decode 1 KiB frames", True),
    ("receive 1 KiB text", "decode 1 KiB text frames", True),
    ("receive 1 MiB", "decode 1 MiB frames", True),
    *[(f"send {size}, client (masked)", f"encode client (masked) {nbytes} B", False)
      for size, nbytes in (("16 B", 16), ("1 KiB", 1024), ("64 KiB", 65536))],
    *[(f"send {size}, server", f"encode server (unmasked) {nbytes} B", False)
      for size, nbytes in (("16 B", 16), ("1 KiB", 1024), ("64 KiB", 65536))],
]


def dropin_ratios(run: dict) -> Dict[Tuple[str, str], float]:
    """One run's drop-in gains: (path label, library) -> peer median / peer-with-drop-in median."""
    medians: Dict[str, Dict[str, float]] = defaultdict(dict)
    for bench in run["benchmarks"]:
        medians[bench["group"]][bench["params"].get("name", bench["name"])] = bench["stats"]["median"]
    ratios = {}
    for label, group, decode in DROPIN_PATHS:
        for library in DROPIN_LIBRARIES:
            peer = DECODE_BASELINES.get(library, library) if decode else library
            plain = medians.get(group, {}).get(peer)
            dropped = medians.get(group, {}).get(f"{library}+wsframe-dropin")
            if plain and dropped:
                ratios[label, library] = plain / dropped
    return ratios


def render_dropin(runs: List[dict]) -> str:
    """The drop-ins' gains over one or more runs: the median ratio, and the range when runs differ."""
    per_run = [dropin_ratios(run) for run in runs]
    lines = [
        f"Peer time / peer-with-drop-in time (higher is faster), median of {len(runs)} run(s)"
        + (" with the lowest and highest in brackets." if len(runs) > 1 else "."),
        "",
        "| path | " + " | ".join(DROPIN_LIBRARIES) + " |",
        "|---|" + "---|" * len(DROPIN_LIBRARIES),
    ]
    for label, _, _ in DROPIN_PATHS:
        cells = []
        for library in DROPIN_LIBRARIES:
            values = sorted(ratios[label, library] for ratios in per_run if (label, library) in ratios)
            if not values:
                cells.append("")
                continue
            cell = f"{statistics.median(values):.2f}x"
            if len(values) > 1:
                cell += f" ({values[0]:.2f}-{values[-1]:.2f})"
            cells.append(cell)
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("json_file", nargs="+", help="one run; --dropin takes several")
    parser.add_argument("--baseline", default=None)
    parser.add_argument("--uvicorn", action="store_true", help="the uvicorn table (bench_uvicorn.py)")
    parser.add_argument("--echo", action="store_true", help="the echo servers' table (bench_echo.py)")
    parser.add_argument("--dropin", action="store_true", help="the drop-ins' gains (peer time / peer+drop-in time)")
    arguments = parser.parse_args()
    runs = []
    for name in arguments.json_file:
        with open(name) as file:
            runs.append(json.load(file))
    if len(runs) > 1 and not arguments.dropin:
        parser.error("only --dropin summarises several runs")
    run = runs[0]
    if arguments.uvicorn:
        print(render_servers(run, "uvicorn", arguments.baseline or "websockets-sansio"))
    elif arguments.echo:
        print(render_servers(run, "echo server", arguments.baseline or "picows"))
    elif arguments.dropin:
        print(render_dropin(runs))
    else:
        run["benchmarks"] = [bench for bench in run["benchmarks"]
                             if not bench["group"].startswith(("uvicorn", "echo server"))]
        print(render(run, arguments.baseline or "wsframe-c"))


if __name__ == "__main__":
    main()
