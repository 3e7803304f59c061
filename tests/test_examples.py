"""The examples in examples/ run as documented, on both backends."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Dict, Iterator

import pytest
from conftest import load_backend
from helpers import require_peer

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def environment(backend: str) -> Dict[str, str]:
    env = {name: value for name, value in os.environ.items() if name != "WSFRAME_PURE_PYTHON"}
    if backend == "python":
        env["WSFRAME_PURE_PYTHON"] = "1"
    return env


@pytest.fixture(params=["c", "python"], ids=lambda name: f"backend={name}")
def backend(request: pytest.FixtureRequest) -> str:
    load_backend(request.param)
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def example_server(backend: str) -> Iterator[str]:
    process = subprocess.Popen([sys.executable, str(EXAMPLES / "asyncio_server.py"), "0"], stdout=subprocess.PIPE,
                               text=True, env=environment(backend), cwd=tempfile.gettempdir())
    assert process.stdout is not None
    line = process.stdout.readline()
    match = re.search(r"ws://127\.0\.0\.1:(\d+)/", line)
    assert match, line
    yield match.group(0)
    process.terminate()
    process.wait(10)
    process.stdout.close()


def test_the_asyncio_client_talks_to_the_asyncio_server(backend: str, example_server: str) -> None:
    result = subprocess.run([sys.executable, str(EXAMPLES / "asyncio_client.py"), example_server, "hello", "wörld"],
                            capture_output=True, text=True, env=environment(backend), cwd=tempfile.gettempdir(),
                            timeout=30)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["hello", "HELLO", "WÖRLD", "closed with 1000"]


def test_the_asyncio_server_serves_a_real_client(example_server: str) -> None:
    require_peer("websockets")
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect

    with connect(example_server) as ws:
        assert ws.recv() == "hello"
        ws.send("shout")
        assert ws.recv() == "SHOUT"
        ws.send(b"\x00\xff")
        assert ws.recv() == b"\x00\xff"
    with pytest.raises(InvalidStatus) as refused:
        connect(example_server + "elsewhere")
    assert refused.value.response.status_code == 404
    with pytest.raises(InvalidStatus) as other_site:
        connect(example_server, origin="https://evil.example")  # type: ignore[arg-type]
    assert other_site.value.response.status_code == 403
