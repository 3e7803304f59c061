"""uvicorn serving one ASGI echo application with each WebSocket implementation.

The server runs in its own process (``uvicorn uvicorn_app:app --ws ...``,
compression off, access log off), the load client in another: a small C
program (benchmarks/load/load.c, compiled on first use) that keeps 8
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

import os
import sys
from pathlib import Path
from typing import Any, Dict, Iterator, Tuple

import pytest
from loadgen import Server, run_rounds

HERE = Path(__file__).resolve().parent
# message size -> round trips per round
SIZES = {16: 40_000, 1024: 30_000, 65536: 4_000}
IMPLEMENTATIONS: Dict[str, Tuple[str, Dict[str, str]]] = {
    "websockets-sansio": ("websockets-sansio", {}),
    "wsproto": ("wsproto", {}),
    "wsproto+wsframe-dropin": ("wsproto", {"WSFRAME_BENCH_DROPIN": "wsproto"}),
    "wsframe": ("wsframe.integrations.uvicorn:WSFrameProtocol", {}),
}


@pytest.fixture(scope="module", params=list(IMPLEMENTATIONS))
def uvicorn_server(request: pytest.FixtureRequest) -> Iterator[Tuple[str, Server]]:
    pytest.importorskip("uvicorn")
    ws, extra_env = IMPLEMENTATIONS[request.param]
    if "wsproto" in ws:
        pytest.importorskip("wsproto")
    server = Server(
        [sys.executable, "-m", "uvicorn", "uvicorn_app:app", "--app-dir", str(HERE), "--host", "127.0.0.1",
         "--port", "0", "--ws", ws, "--ws-per-message-deflate", "False", "--no-access-log", "--log-level", "info",
         "--ws-max-size", str(1 << 20)],
        r"Uvicorn running on http://127\.0\.0\.1:(\d+)", dict(os.environ, **extra_env), stream="stderr")
    yield request.param, server
    server.stop()


@pytest.mark.parametrize("size", list(SIZES))
def bench_uvicorn(benchmark: Any, uvicorn_server: Tuple[str, Server], size: int) -> None:
    name, server = uvicorn_server
    run_rounds(benchmark, "uvicorn echo", name, server, size, SIZES[size])
