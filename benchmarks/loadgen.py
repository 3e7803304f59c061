"""The end-to-end benchmarks' load: a small C client (load/load.c) and the
server process it measures.

The client keeps N connections busy with round trips, each sending a masked
binary message and waiting for its whole echo; it prints round trips,
seconds and the p50/p99 round-trip times. It is in C so that it is not what
bounds the rate (node's ws client, tried first, needed more than a core of
this 2-core machine). ``measure`` runs it once against a server process and
adds both processes' CPU time, as a share of one core.
"""

from __future__ import annotations

import json
import os
import queue
import re
import resource
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Dict, List, Optional

import pytest

HERE = Path(__file__).resolve().parent
CONNECTIONS = 8
_CLIENT: Dict[str, Path] = {}


def load_client() -> Path:
    """The C load client, compiled once per session into a temporary folder."""
    if "path" not in _CLIENT:
        compiler = shutil.which("cc") or shutil.which("gcc")
        if compiler is None:
            pytest.skip("no C compiler for the load client")
        path = Path(tempfile.mkdtemp()) / "load"
        subprocess.run([compiler, "-O2", "-Wall", "-o", str(path), str(HERE / "load" / "load.c")], check=True)
        _CLIENT["path"] = path
    return _CLIENT["path"]


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a running process (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


#: Seconds a server has to print the line that gives its port.
START_TIMEOUT = 30.0


class Server:
    """A server process on 127.0.0.1, its port read from the first line matching ``ready``
    (within ``START_TIMEOUT`` seconds: a server that prints something else fails the benchmark
    instead of hanging it)."""

    def __init__(self, command: List[str], ready: str, env: Optional[Dict[str, str]] = None,
                 stream: str = "stdout") -> None:
        pipes = {stream: subprocess.PIPE}
        self.process = subprocess.Popen(command, cwd=tempfile.gettempdir(), env=env, text=True,
                                        **pipes)  # type: ignore[call-overload]
        lines: "queue.Queue[Optional[str]]" = queue.Queue()

        def read_lines() -> None:
            # The pipe is read to its end, so the server never blocks on a full pipe.
            for line in getattr(self.process, stream):
                lines.put(line)
            lines.put(None)

        threading.Thread(target=read_lines, daemon=True).start()
        deadline = time.monotonic() + START_TIMEOUT
        seen: List[str] = []
        while True:
            try:
                line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                self.process.kill()
                self.process.wait()
                pytest.fail(f"{command} printed no line matching {ready!r} within {START_TIMEOUT} s; "
                            f"its last lines: {seen[-5:]}")
            if line is None:
                self.process.wait(10)
                pytest.fail(f"{command} did not start (exit {self.process.returncode}); its last lines: {seen[-5:]}")
            seen.append(line)
            match = re.search(ready, line)
            if match:
                self.port = match.group(1)
                return

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def measure(server: Server, size: int, round_trips: int) -> Dict[str, float]:
    """One run of the load client: its JSON line, plus both processes' CPU shares."""
    client = load_client()
    server_cpu = cpu_seconds(server.process.pid)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    load = subprocess.run([str(client), server.port, str(CONNECTIONS), str(round_trips), str(size), "30"],
                          capture_output=True, text=True, timeout=120)
    server_cpu = cpu_seconds(server.process.pid) - server_cpu
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    assert load.returncode == 0, load.stderr
    result: Dict[str, float] = json.loads(load.stdout)
    result["server_cpu"] = server_cpu
    result["client_cpu"] = after.ru_utime + after.ru_stime - children.ru_utime - children.ru_stime
    return result


def run_rounds(benchmark, group: str, implementation: str, server: Server, size: int, round_trips: int) -> None:
    """Three timed rounds (after one warm-up) of ``round_trips`` of ``size``
    bytes; the best round is kept in the benchmark's extra_info (report.py reads it)."""
    results: List[Dict[str, float]] = []
    benchmark.group = f"{group} {size} B"
    benchmark.pedantic(lambda: results.append(measure(server, size, round_trips)), rounds=3, warmup_rounds=1)
    best = max(results, key=lambda result: result["roundTrips"] / result["seconds"])
    assert best["roundTrips"] > 0
    benchmark.extra_info.update(
        implementation=implementation, size=size, round_trips=best["roundTrips"],
        messages_per_s=best["roundTrips"] / best["seconds"], p50_us=best["p50"], p99_us=best["p99"],
        server_cpu_share=best["server_cpu"] / best["seconds"], client_cpu_share=best["client_cpu"] / best["seconds"],
    )
