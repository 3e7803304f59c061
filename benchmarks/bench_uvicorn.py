"""uvicorn serving one ASGI echo application with each WebSocket implementation.

The server runs in its own process (``uvicorn uvicorn_app:app --ws ...``,
compression off, access log off), the load client in another: a small C
program (benchmarks/uvicorn_load/load.c, compiled on first use) that keeps 8
connections busy with round trips, each sending a binary message and waiting
for its whole echo. (node's ws client, tried first, used more than a core of
this 2-core machine and was what bounded the rate; the C client uses a
fraction of one.) A round is a bounded number of round trips (and 30 s at
most). For each implementation and size the benchmark records round trips
per second, the 50th and 99th percentile round-trip times, and the CPU time
both processes used, as a share of one core. Read them as ratios to
websockets-sansio, uvicorn's default, from one run
(``python benchmarks/report.py --uvicorn bench.json``).

    pytest benchmarks/bench_uvicorn.py --benchmark-only --benchmark-json=bench.json
"""

from __future__ import annotations

import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Dict, Iterator, Tuple

import pytest

HERE = Path(__file__).resolve().parent
LOAD = HERE / "uvicorn_load"
CONNECTIONS = 8
# message size -> round trips per round
SIZES = {16: 40_000, 1024: 30_000, 65536: 4_000}
IMPLEMENTATIONS: Dict[str, Tuple[str, Dict[str, str]]] = {
    "websockets-sansio": ("websockets-sansio", {}),
    "wsproto": ("wsproto", {}),
    "wsproto+wsframe-dropin": ("wsproto", {"WSFRAME_BENCH_DROPIN": "wsproto"}),
    "wsframe": ("wsframe.integrations.uvicorn:WSFrameProtocol", {}),
}


_CLIENT: Dict[str, Path] = {}


def load_client() -> Path:
    """The C load client, compiled once per session into a temporary folder."""
    if "path" not in _CLIENT:
        compiler = shutil.which("cc") or shutil.which("gcc")
        if compiler is None:
            pytest.skip("no C compiler for the load client")
        path = Path(tempfile.mkdtemp()) / "load"
        subprocess.run([compiler, "-O2", "-Wall", "-o", str(path), str(LOAD / "load.c")], check=True)
        _CLIENT["path"] = path
    return _CLIENT["path"]


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a running process (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@pytest.fixture(scope="module", params=list(IMPLEMENTATIONS))
def uvicorn_server(request: pytest.FixtureRequest) -> Iterator[Tuple[str, str, subprocess.Popen]]:
    pytest.importorskip("uvicorn")
    ws, extra_env = IMPLEMENTATIONS[request.param]
    if "wsproto" in ws:
        pytest.importorskip("wsproto")
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "uvicorn_app:app", "--app-dir", str(HERE), "--host", "127.0.0.1",
         "--port", "0", "--ws", ws, "--ws-per-message-deflate", "False", "--no-access-log", "--log-level", "info",
         "--ws-max-size", str(1 << 20)],
        cwd=tempfile.gettempdir(), env=dict(os.environ, **extra_env), stderr=subprocess.PIPE, text=True,
    )
    assert process.stderr is not None
    for line in process.stderr:
        match = re.search(r"Uvicorn running on http://127\.0\.0\.1:(\d+)", line)
        if match:
            break
    else:
        pytest.fail(f"uvicorn with --ws {ws} did not start")
    yield request.param, match.group(1), process
    process.terminate()
    process.communicate(timeout=15)


@pytest.mark.parametrize("size", list(SIZES))
def bench_uvicorn(benchmark, uvicorn_server, size):
    name, port, server = uvicorn_server
    client = load_client()
    round_trips = SIZES[size]
    results = []

    def run() -> None:
        server_cpu = cpu_seconds(server.pid)
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        load = subprocess.run([str(client), port, str(CONNECTIONS), str(round_trips), str(size), "30"],
                              capture_output=True, text=True, timeout=120)
        server_cpu = cpu_seconds(server.pid) - server_cpu
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        assert load.returncode == 0, load.stderr
        result = json.loads(load.stdout)
        result["server_cpu"] = server_cpu
        result["client_cpu"] = after.ru_utime + after.ru_stime - children.ru_utime - children.ru_stime
        results.append(result)

    benchmark.group = f"uvicorn echo {size} B"
    benchmark.pedantic(run, rounds=3, warmup_rounds=1)
    best = max(results, key=lambda result: result["roundTrips"] / result["seconds"])
    assert best["roundTrips"] > 0
    benchmark.extra_info.update(
        implementation=name, size=size, round_trips=best["roundTrips"],
        messages_per_s=best["roundTrips"] / best["seconds"], p50_us=best["p50"], p99_us=best["p99"],
        server_cpu_share=best["server_cpu"] / best["seconds"], client_cpu_share=best["client_cpu"] / best["seconds"],
    )
