"""benchmarks/plot.py on a run that lacks some groups: it says so, and refuses a run with nothing to draw."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List

import pytest

PLOT = Path(__file__).resolve().parent.parent / "benchmarks" / "plot.py"


def bench(group: str, name: str, median: float, frames: int = 0) -> Dict[str, Any]:
    return {"group": group, "name": f"test[{name}]", "params": {"name": name}, "stats": {"median": median},
            "extra_info": {"frames": frames} if frames else {}}


def run_plot(tmp_path: Path, benchmarks: List[Dict[str, Any]], *options: str) -> subprocess.CompletedProcess:
    run = tmp_path / "bench.json"
    run.write_text(json.dumps({"benchmarks": benchmarks, "machine_info": {}, "datetime": "2026-11-24"}))
    return subprocess.run([sys.executable, str(PLOT), str(run), "--png", str(tmp_path / "out.png"),
                           "--markdown", str(tmp_path / "out.md"), *options],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)


MASK_ONLY = [bench(f"mask (copy) {size} B", name, size / 1e9) for size in (16, 125, 4096, 65536, 1 << 20, 16 << 20)
             for name in ("wsframe-c", "wsframe-python")]


def test_a_run_with_nothing_to_draw_is_refused(tmp_path: Path) -> None:
    result = run_plot(tmp_path, [bench("encode 16 B server frames", "wsframe-c", 1e-3)])
    assert result.returncode == 1
    assert "no masking or decoding results to plot" in result.stderr
    assert "benchmarks/bench_decode.py" in result.stderr
    assert not (tmp_path / "out.png").exists()


def test_require_all_names_the_missing_groups(tmp_path: Path) -> None:
    result = run_plot(tmp_path, MASK_ONLY, "--require-all")
    assert result.returncode == 1
    assert "has no results for 5 groups" in result.stderr
    assert "decode 16 B frames" in result.stderr and "decode 1 KiB JSON text frames" in result.stderr
    assert not (tmp_path / "out.png").exists()


def test_a_partial_run_draws_what_it_has_and_says_what_it_lacks(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib", reason="plot.py draws with matplotlib (pip install '.[bench]')")
    result = run_plot(tmp_path, MASK_ONLY + [bench("decode 16 B frames", "wsframe-c", 0.01, frames=100_000)])
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out.png").stat().st_size > 10_000
    assert "has no results for 4 groups" in result.stderr
    assert "decode 1 MiB frames" in result.stderr and "mask (copy)" not in result.stderr
