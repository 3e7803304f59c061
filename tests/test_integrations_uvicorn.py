"""wsframe's ASGI WebSocket protocol under uvicorn: uvicorn's own tests, and real clients.

uvicorn's sdist carries tests/protocols/test_websocket.py, which runs every
test against each WebSocket implementation its ws_protocol_cls fixture lists.
Here that fixture gets wsframe's class too, and every test that passes for
uvicorn's websockets-sansio implementation must pass for wsframe's, on both
wsframe backends, but the ones in CANNOT_APPLY. Then real clients (the
websockets and aiohttp clients, headless Chromium) talk to an ASGI echo
application under ``uvicorn --ws wsframe.integrations.uvicorn:WSFrameProtocol``.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import os
import re
import socket
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ElementTree
from pathlib import Path
from typing import Any, Dict, Iterator, Tuple

import pytest
from helpers import frame, peer_sdist_tests, require_peer

import wsframe

PEERS = Path(__file__).parent / "peers"
PROTOCOL = "wsframe.integrations.uvicorn:WSFrameProtocol"
SANSIO = "uvicorn.protocols.websockets.websockets_sansio_impl:WebSocketsSansIOProtocol"
# Tests of uvicorn's file that cannot pass for wsframe's class as written:
# they assert that the connection object is an instance of one of uvicorn's
# own two classes. The run with ISINSTANCE_PATCH shows the rest of each passes.
CANNOT_APPLY = {"test_server_keepalive_ping_pong": "asserts isinstance(protocol, (WSProtocol, WebSocketsSansIOProtocol))",
                "test_server_keepalive_disabled": "asserts isinstance(protocol, (WSProtocol, WebSocketsSansIOProtocol))"}
ISINSTANCE = "isinstance(protocol, (_WSProtocol, WebSocketsSansIOProtocol))"


# uvicorn's own tests -----------------------------------------------------------


@pytest.fixture(scope="module")
def uvicorn_suite(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """uvicorn's tests/ from the sdist of the installed release, with wsframe's class in the fixture."""
    require_peer("uvicorn")
    require_peer("httpx2")
    protocol = require_peer("wsframe.integrations.uvicorn")
    version = importlib.metadata.version("uvicorn")
    assert protocol.version_in(version, protocol.SUPPORTED), f"uvicorn {version} is outside {protocol.SUPPORTED}"
    suite = peer_sdist_tests(request, tmp_path_factory, "uvicorn", version)
    conftest = suite / "tests" / "conftest.py"
    text = conftest.read_text()
    anchor = f'"{SANSIO}", id="websockets-sansio"\n        ),\n'
    assert anchor in text, "uvicorn's ws_protocol_cls fixture changed shape"
    conftest.write_text(text.replace(anchor, anchor + f'        pytest.param("{PROTOCOL}", id="wsframe"),\n'))
    return suite


def run_uvicorn_suite(suite: Path, workdir: Path, backend: str, isinstance_patch: bool = False,
                      select: str = "") -> Dict[str, str]:
    """Run uvicorn's WebSocket tests (those ``select`` picks with -k); each test id's outcome."""
    test_file = suite / "tests" / "protocols" / "test_websocket.py"
    if isinstance_patch:
        patched = test_file.read_text().replace(
            ISINSTANCE, "isinstance(protocol, (_WSProtocol, WebSocketsSansIOProtocol, WSFrameProtocol))")
        patched = patched.replace("from uvicorn.server import ServerState",
                                  "from uvicorn.server import ServerState\n"
                                  "from wsframe.integrations.uvicorn import WSFrameProtocol", 1)
        test_file = test_file.with_name("test_websocket_isinstance.py")
        test_file.write_text(patched)
    report = workdir / f"{backend}-{isinstance_patch}.xml"
    env = {name: value for name, value in os.environ.items() if name != "WSFRAME_PURE_PYTHON"}
    if backend == "python":
        env["WSFRAME_PURE_PYTHON"] = "1"
    # uvicorn's own settings, less xdist: warnings are errors.
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-o", "addopts=", "-W", "error",
         "-W", "ignore: The global interpreter lock (GIL)*:RuntimeWarning", f"--junitxml={report}",
         *(["-k", select] if select else []), str(test_file.relative_to(suite))],
        cwd=suite, env=env, capture_output=True, text=True, timeout=900,
    )
    assert report.exists(), run.stdout[-3000:] + run.stderr[-2000:]
    outcomes = {}
    for case in ElementTree.parse(report).getroot().iter("testcase"):
        outcome = "passed"
        if case.find("skipped") is not None:
            outcome = "skipped"
        elif case.find("failure") is not None or case.find("error") is not None:
            outcome = "failed"
        outcomes[case.get("name", "")] = outcome
    return outcomes


def by_implementation(outcomes: Dict[str, str], implementation: str) -> Dict[str, str]:
    """{test[http]: outcome} for one WebSocket implementation's test ids."""
    found = {}
    for name, outcome in outcomes.items():
        match = re.fullmatch(rf"(\w+)\[{re.escape(implementation)}-(\w+)\]", name)
        if match:
            found[f"{match.group(1)}[{match.group(2)}]"] = outcome
    return found


@pytest.fixture(scope="module")
def uvicorn_baseline(uvicorn_suite: Path, tmp_path_factory: pytest.TempPathFactory) -> Dict[str, str]:
    """The whole file once: uvicorn's implementations, and wsframe's on the C backend."""
    return run_uvicorn_suite(uvicorn_suite, tmp_path_factory.mktemp("uvicorn"), "c")


@pytest.mark.peer_suite
@pytest.mark.parametrize("backend", ["c", "python"], ids=lambda name: f"backend={name}")
def test_uvicorn_own_websocket_suite_passes_with_wsframes_protocol(
    uvicorn_suite: Path, uvicorn_baseline: Dict[str, str], tmp_path: Path, backend: str
) -> None:
    # uvicorn's implementations do not depend on wsframe's backend: the
    # Python backend's run repeats only wsframe's tests.
    outcomes = uvicorn_baseline if backend == "c" else run_uvicorn_suite(uvicorn_suite, tmp_path, backend,
                                                                         select="wsframe")
    sansio, ours = by_implementation(uvicorn_baseline, "websockets-sansio"), by_implementation(outcomes, "wsframe")
    wsproto = by_implementation(uvicorn_baseline, "wsproto")
    assert len(ours) > 150 and set(ours) == set(sansio), (len(ours), set(ours) ^ set(sansio))
    failing = {test for test, outcome in ours.items() if outcome != "passed"}
    assert {test.split("[")[0] for test in failing} == set(CANNOT_APPLY), sorted(failing)
    # The ones uvicorn skips for websockets-sansio (it sends a denial's start and
    # body together) run and pass for wsframe's class.
    skipped_for_sansio = {test for test, outcome in sansio.items() if outcome == "skipped"}
    assert skipped_for_sansio and all(ours[test] == "passed" for test in skipped_for_sansio)

    def count(results: Dict[str, str]) -> str:
        return ", ".join(f"{sum(1 for o in results.values() if o == kind)} {kind}"
                         for kind in ("passed", "failed", "skipped"))

    print(f"uvicorn's test_websocket.py ({backend}): websockets-sansio {count(sansio)}; wsproto {count(wsproto)}; "
          f"wsframe {count(ours)}")
    # With wsframe's class admitted to those isinstance checks, the rest of
    # those tests passes too.
    patched = by_implementation(run_uvicorn_suite(uvicorn_suite, tmp_path, backend, isinstance_patch=True,
                                                  select="wsframe and (" + " or ".join(CANNOT_APPLY) + ")"),
                                "wsframe")
    assert set(patched) == failing and all(outcome == "passed" for outcome in patched.values()), patched


# Real clients against uvicorn ----------------------------------------------------


class UvicornServer:
    """``uvicorn asgi_echo:app --ws wsframe.integrations.uvicorn:WSFrameProtocol`` on 127.0.0.1."""

    def __init__(self, backend: str, *arguments: str) -> None:
        env = {name: value for name, value in os.environ.items() if name != "WSFRAME_PURE_PYTHON"}
        if backend == "python":
            env["WSFRAME_PURE_PYTHON"] = "1"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "asgi_echo:app", "--app-dir", str(PEERS), "--host", "127.0.0.1",
             "--port", "0", "--ws", PROTOCOL, *arguments],
            cwd=tempfile.gettempdir(), env=env, stderr=subprocess.PIPE, text=True,
        )
        assert self.process.stderr is not None
        for line in self.process.stderr:
            match = re.search(r"Uvicorn running on http://127\.0\.0\.1:(\d+)", line)
            if match:
                self.port = int(match.group(1))
                break
        else:
            self.process.wait(10)
            pytest.fail(f"uvicorn did not start (exit {self.process.returncode})")
        self.url = f"ws://127.0.0.1:{self.port}"

    def stop(self) -> str:
        self.process.terminate()
        try:
            _, rest = self.process.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            _, rest = self.process.communicate()
        return rest or ""


@pytest.fixture(scope="module", params=["c", "python"], ids=lambda name: f"backend={name}")
def uvicorn_server(request: pytest.FixtureRequest) -> Iterator[UvicornServer]:
    require_peer("uvicorn")
    server = UvicornServer(request.param)
    yield server
    log = server.stop()
    assert "Exception in ASGI application" not in log, log


def test_websockets_client(uvicorn_server: UvicornServer) -> None:
    require_peer("websockets")
    from websockets.exceptions import ConnectionClosedError, InvalidStatus
    from websockets.sync.client import connect

    with connect(uvicorn_server.url + "/echo", max_size=None) as ws:
        assert [extension.name for extension in ws.protocol.extensions] == ["permessage-deflate"]
        assert ws.response.headers["x-echo"] == "wsframe"
        for message in ["héllo ✓", bytes(range(256)), "compress me " * 10_000, os.urandom(1 << 20), ""]:
            ws.send(message)
            assert ws.recv() == message
        ws.send(["frag", "mented ", "text"])  # a fragmented message
        assert ws.recv() == "fragmented text"
        ws.ping(b"are you there").wait(10)
        ws.send("close 4001 bye")
        with pytest.raises(ConnectionClosedError) as closed:
            ws.recv()
    assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (4001, "bye")
    with connect(uvicorn_server.url + "/subprotocol", subprotocols=["chat.v2", "chat.v1"]) as ws:
        assert ws.subprotocol == "chat.v2"
    with pytest.raises(InvalidStatus) as denied:
        connect(uvicorn_server.url + "/deny")
    assert denied.value.response.status_code == 403 and denied.value.response.body == b"not here"


def test_websockets_client_without_compression(uvicorn_server: UvicornServer) -> None:
    require_peer("websockets")
    from websockets.sync.client import connect

    with connect(uvicorn_server.url, compression=None) as ws:
        assert ws.protocol.extensions == []
        ws.send(b"plain" * 1000)
        assert ws.recv() == b"plain" * 1000


def test_aiohttp_client(uvicorn_server: UvicornServer) -> None:
    aiohttp = require_peer("aiohttp")

    async def talk() -> Tuple[Any, ...]:
        async with aiohttp.ClientSession() as session:
            async with session.ws_connect(uvicorn_server.url, compress=15) as ws:
                compressed = ws.compress
                await ws.send_str("über " * 1000)
                text = await ws.receive_str()
                await ws.send_bytes(b"\x00\xff" * 40_000)
                data = await ws.receive_bytes()
                await ws.close(code=1000, message=b"done")
                return compressed, text, data, ws.close_code

    compressed, text, data, code = asyncio.run(asyncio.wait_for(talk(), 30))
    assert compressed == 12  # permessage-deflate agreed, with the 12-bit windows uvicorn asks for
    assert (text, data, code) == ("über " * 1000, b"\x00\xff" * 40_000, 1000)


def test_protocol_violations_close_with_their_code(uvicorn_server: UvicornServer) -> None:
    for stream, code in [(frame(1, b"\xff"), 1007), (frame(2, b"x", mask=False), 1002), (frame(0x3, b""), 1002),
                         (frame(1, b"Hello") + bytes([0xA1]) + frame(1, b"x")[1:], 1002)]:
        sock = socket.create_connection(("127.0.0.1", uvicorn_server.port), timeout=10)
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
        data = b""
        while b"\r\n\r\n" not in data:
            data += sock.recv(65536)
        assert data.startswith(b"HTTP/1.1 101 ")
        sock.sendall(stream)
        decoder = wsframe.FrameDecoder(wsframe.Role.CLIENT, max_frame_size=None)
        frames = decoder.feed(data.split(b"\r\n\r\n", 1)[1])
        while not decoder.closed:
            chunk = sock.recv(65536)
            assert chunk, "uvicorn closed TCP without a close frame"
            frames += decoder.feed(chunk)
        sock.close()
        close = wsframe._close.parse_close_payload(frames[-1].payload)
        assert close.code == code and close.reason, (stream, close)


def test_chromium(uvicorn_server: UvicornServer, tmp_path: Path) -> None:
    from test_browser import run_echo_page

    result = run_echo_page(uvicorn_server.url + "/", tmp_path)
    assert result["checks"] == [["text", True], ["binary", True], ["1 MiB", True], ["repetitive text", True]]
    assert result["extensions"].startswith("permessage-deflate"), result["extensions"]
    assert result["closeCode"] == 1000 and result["wasClean"] is True


def test_an_unsupported_uvicorn_is_refused() -> None:
    require_peer("uvicorn")
    script = ("import importlib.metadata as m\n"
              "real = m.version\n"
              "m.version = lambda name: '0.40.0' if name == 'uvicorn' else real(name)\n"
              "import wsframe.integrations.uvicorn")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd="/")
    assert result.returncode != 0
    assert "supports uvicorn >=0.54,<0.56, and uvicorn 0.40.0 is installed" in result.stderr, result.stderr
    forced = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd="/",
                            env=dict(os.environ, WSFRAME_UVICORN_ANY_VERSION="1"))
    assert forced.returncode == 0, forced.stderr


# The protocol in this process, on a transport that records ------------------------


class RecordingTransport:
    """What uvicorn's HTTP protocol hands over: a transport to write to, pause and close."""

    def __init__(self) -> None:
        self.written = b""
        self.closed = False
        self.reading = True

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"sockname": ("127.0.0.1", 8000), "peername": ("127.0.0.1", 50000)}.get(name, default)

    def write(self, data: bytes) -> None:
        self.written += data

    def writelines(self, data: list) -> None:
        self.written += b"".join(data)

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def pause_reading(self) -> None:
        self.reading = False

    def resume_reading(self) -> None:
        self.reading = True


REQUEST = (b"GET /chat HTTP/1.1\r\nHost: example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")


async def connected(app: Any, **settings: Any) -> Tuple[Any, RecordingTransport]:
    from uvicorn.config import Config
    from uvicorn.server import ServerState

    protocol_class = require_peer("wsframe.integrations.uvicorn").WSFrameProtocol
    config = Config(app=app, ws=protocol_class, lifespan="off", **settings)
    config.load()
    protocol = protocol_class(config=config, server_state=ServerState(), app_state={})
    transport = RecordingTransport()
    protocol.connection_made(transport)
    protocol.data_received(REQUEST)
    for _ in range(10):
        await asyncio.sleep(0)
    assert transport.written.startswith(b"HTTP/1.1 101 "), transport.written[:200]
    transport.written = b""
    return protocol, transport


def server_frames(transport: RecordingTransport) -> list:
    return wsframe.FrameDecoder(wsframe.Role.CLIENT).feed(transport.written)


def test_the_application_gets_what_came_before_a_violation() -> None:
    require_peer("uvicorn")
    received: list = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        received.append(await receive())
        await send({"type": "websocket.accept"})
        while received[-1]["type"] != "websocket.disconnect":
            received.append(await receive())

    async def main() -> RecordingTransport:
        protocol, transport = await connected(app)
        protocol.data_received(frame(1, b"Hello") + frame(0x3, b"") + frame(9, b""))
        for _ in range(10):
            await asyncio.sleep(0)
        return transport

    transport = asyncio.run(main())
    assert received[1] == {"type": "websocket.receive", "text": "Hello"}
    assert received[2]["type"] == "websocket.disconnect" and received[2]["code"] == 1002
    [close] = server_frames(transport)
    assert wsframe._close.parse_close_payload(close.payload).code == 1002 and transport.closed


def test_ws_max_queue_bounds_what_one_read_decodes() -> None:
    require_peer("uvicorn")
    consumed = asyncio.Event()
    received: list = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        await consumed.wait()
        while True:
            message = await receive()
            received.append(message)
            if message["type"] == "websocket.disconnect":
                return

    async def main() -> Tuple[Any, RecordingTransport]:
        protocol, transport = await connected(app, ws_max_queue=4)
        protocol.data_received(b"".join(frame(2, bytes([n]) * 10) for n in range(10)))
        # Four were decoded for the application, the six others kept undecoded,
        # and reading stopped.
        assert not transport.reading
        assert protocol.queue.qsize() == 4 and protocol.connection.receiving_paused
        consumed.set()
        for _ in range(50):
            await asyncio.sleep(0)
        # The application took them all; what was kept came next, then reading resumed.
        assert not protocol.connection.receiving_paused and transport.reading
        protocol.data_received(frame(8, b"\x03\xe8"))
        for _ in range(10):
            await asyncio.sleep(0)
        return protocol, transport

    asyncio.run(main())
    assert [message.get("bytes") for message in received[:10]] == [bytes([n]) * 10 for n in range(10)]
    assert received[10]["type"] == "websocket.disconnect" and received[10]["code"] == 1000


def test_shutdown_closes_with_1012() -> None:
    require_peer("uvicorn")
    received: list = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        received.append(await receive())

    async def main() -> RecordingTransport:
        protocol, transport = await connected(app)
        protocol.shutdown()
        for _ in range(10):
            await asyncio.sleep(0)
        return transport

    transport = asyncio.run(main())
    [close] = server_frames(transport)
    assert wsframe._close.parse_close_payload(close.payload).code == 1012 and transport.closed
    assert received == [{"type": "websocket.disconnect", "code": 1012}]
