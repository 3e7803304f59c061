"""The examples in examples/ run as documented, on both backends."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path
from typing import Dict, Iterator

import pytest
from conftest import load_backend
from helpers import require_peer

import wsframe

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


# --- the hosts' examples: FastAPI under uvicorn, aiohttp with the drop-in -------------------


class ExampleServer:
    """One example script run as its own server process, on one wsframe backend."""

    def __init__(self, script: str, backend: str, ready: str, *, on_stderr: bool = False) -> None:
        self.process = subprocess.Popen([sys.executable, str(EXAMPLES / script), "0"], stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True, env=environment(backend),
                                        cwd=tempfile.gettempdir())
        stream = self.process.stderr if on_stderr else self.process.stdout
        assert stream is not None
        seen = []
        for line in stream:  # ends when the process does: then the assertion below names what it said
            seen.append(line)
            match = re.search(ready, line)
            if match:
                self.port = int(match.group(1))
                break
        else:
            self.stop()
            pytest.fail(f"{script} did not start: {''.join(seen)}")

    def stop(self) -> str:
        self.process.terminate()
        try:
            _, stderr = self.process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            _, stderr = self.process.communicate()
        return stderr


def non_minimal_frame_answer(uri: str) -> wsframe.Close:
    """Open a connection and send a text frame whose length, 5, is in the 16-bit
    field, which RFC 6455 section 5.2 forbids: the close frame the server answers."""
    connection = wsframe.ClientConnection(uri, compression=None)
    with socket.create_connection((connection.uri.host, connection.uri.port), timeout=10) as sock:
        for data in connection.data_to_send():
            sock.sendall(data)
        while connection.state is wsframe.State.CONNECTING:
            connection.receive_data(sock.recv(65536))
        assert connection.state is wsframe.State.OPEN, connection.failure
        key = b"\x37\xfa\x21\x3d"
        sock.sendall(bytes([0x81, 0x80 | 126, 0x00, 0x05]) + key + wsframe.mask(b"Hello", key))
        while connection.close_received is None and connection.state is not wsframe.State.CLOSED:
            data = sock.recv(65536)
            if not data:
                connection.receive_eof()
            else:
                connection.receive_data(data)
            while connection.events_received():
                pass
            for data in connection.data_to_send():
                sock.sendall(data)
    assert connection.close_received is not None, "the server closed TCP without a close frame"
    return connection.close_received


@pytest.fixture
def fastapi_server(backend: str) -> Iterator[ExampleServer]:
    require_peer("fastapi")
    require_peer("uvicorn")
    server = ExampleServer("fastapi_app.py", backend, r"Uvicorn running on http://127\.0\.0\.1:(\d+)", on_stderr=True)
    yield server
    server.stop()


def test_the_fastapi_app_chats_on_wsframe(fastapi_server: ExampleServer) -> None:
    require_peer("websockets")
    from websockets.sync.client import connect

    base = f"ws://127.0.0.1:{fastapi_server.port}/rooms/"
    with connect(base + "tea") as alice, connect(base + "tea") as bob, connect(base + "coffee") as carol:
        alice.send("hello")
        assert alice.recv(timeout=10) == bob.recv(timeout=10)
        carol.send("anyone?")
        assert carol.recv(timeout=10).endswith(": anyone?")
        bob.send("hi alice")
        assert alice.recv(timeout=10).endswith(": hi alice")
        with pytest.raises(TimeoutError):
            carol.recv(timeout=0.2)  # another room hears nothing
    with urllib.request.urlopen(f"http://127.0.0.1:{fastapi_server.port}/", timeout=10) as response:
        assert json.load(response) == {"rooms": "/rooms/{room}", "in use": "none"}


def test_the_fastapi_app_is_served_by_wsframes_protocol(fastapi_server: ExampleServer) -> None:
    close = non_minimal_frame_answer(f"ws://127.0.0.1:{fastapi_server.port}/rooms/tea")
    assert close.code == 1002
    assert "16-bit field" in close.reason  # wsframe's words, from WSFrameProtocol


@pytest.fixture
def aiohttp_server(backend: str) -> Iterator[ExampleServer]:
    require_peer("aiohttp")
    server = ExampleServer("aiohttp_server.py", backend, r"listening on ws://127\.0\.0\.1:(\d+)/ws")
    yield server
    server.stop()


def test_the_aiohttp_server_serves_a_real_client(aiohttp_server: ExampleServer) -> None:
    aiohttp = require_peer("aiohttp")
    import asyncio

    async def talk() -> list:
        async with aiohttp.ClientSession() as session:
            async with session.get(f"http://127.0.0.1:{aiohttp_server.port}/") as page:
                answers = [await page.text()]
            async with session.ws_connect(f"ws://127.0.0.1:{aiohttp_server.port}/ws") as websocket:
                await websocket.send_str("shout")
                answers.append((await websocket.receive(timeout=10)).data)
                await websocket.send_bytes(b"\x00\xff")
                answers.append((await websocket.receive(timeout=10)).data)
            return answers

    assert asyncio.run(talk()) == ["WebSocket at /ws\n", "SHOUT", b"\x00\xff"]


def test_the_aiohttp_server_runs_on_the_drop_in(aiohttp_server: ExampleServer) -> None:
    # aiohttp's own reader accepts a length in a longer field than it needs;
    # under the drop-in wsframe refuses it (RFC 6455 section 5.2).
    close = non_minimal_frame_answer(f"ws://127.0.0.1:{aiohttp_server.port}/ws")
    assert close.code == 1002
