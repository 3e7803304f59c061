"""End to end: ``wsframe echo`` beside the peers' echo servers, under one load client.

Each server runs in its own process on asyncio's event loop (picows',
websockets' and aiohttp's as their users write them: benchmarks/echo_servers.py
and tests/peers/aiohttp_echo.py), compression off. picows runs on aiofastnet's
compiled transports (its default when aiofastnet is installed, as picows 2
installs it) and the others on asyncio's own, so each transport gets a pair:
picows-asyncio is picows on asyncio's transports, wsframe-aiofastnet is
``wsframe echo --loop aiofastnet``: compare wsframe with picows-asyncio and
wsframe-aiofastnet with picows. The C load client (benchmarks/load/load.c)
keeps 8 connections busy with round trips on loopback. For each server and message
size the benchmark records round trips per second, the p50/p99 round-trip
times and the CPU both processes used. Read the results as ratios, from one
run (``python benchmarks/report.py --echo bench.json``):

    pytest benchmarks/bench_echo.py --benchmark-only --benchmark-json=bench.json
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from typing import Any, Dict, Iterator, List, Tuple

import pytest
from loadgen import Server, run_rounds

HERE = Path(__file__).resolve().parent
# message size -> round trips per round
SIZES = {16: 60_000, 1024: 50_000, 65536: 6_000}
SERVERS: Dict[str, Tuple[List[str], str]] = {
    "wsframe": ([sys.executable, "-m", "wsframe", "echo", "--port", "0", "--no-compression", "--loop", "asyncio",
                 "--log-level", "warning"], "wsframe"),
    # The same server on aiofastnet's compiled transports, picows' default.
    "wsframe-aiofastnet": ([sys.executable, "-m", "wsframe", "echo", "--port", "0", "--no-compression", "--loop",
                            "aiofastnet", "--log-level", "warning"], "aiofastnet"),
    "picows": ([sys.executable, str(HERE / "echo_servers.py"), "picows"], "picows"),
    "picows-asyncio": ([sys.executable, str(HERE / "echo_servers.py"), "picows-asyncio"], "picows"),
    "websockets": ([sys.executable, str(HERE / "echo_servers.py"), "websockets"], "websockets"),
    "aiohttp": ([sys.executable, str(HERE.parent / "tests" / "peers" / "aiohttp_echo.py"), "--no-compression"],
                "aiohttp"),
}


@pytest.fixture(scope="module", params=list(SERVERS))
def echo_server(request: pytest.FixtureRequest) -> Iterator[Tuple[str, Server]]:
    command, library = SERVERS[request.param]
    if importlib.util.find_spec(library) is None:
        pytest.skip(f"{library} is not installed")
    env = {name: value for name, value in os.environ.items() if name != "WSFRAME_PURE_PYTHON"}
    ready = r"ws://127\.0\.0\.1:(\d+)/" if request.param.startswith("wsframe") else r"PORT (\d+)"
    server = Server(command, ready, env)
    yield request.param, server
    server.stop()


@pytest.mark.parametrize("size", list(SIZES))
def bench_echo(benchmark: Any, echo_server: Tuple[str, Server], size: int) -> None:
    name, server = echo_server
    run_rounds(benchmark, "echo server", name, server, size, SIZES[size])
