"""wsframe's drop-in under tornado: tornado's own WebSocket tests, real peers, and ours.

tornado ships its tests inside the package: ``tornado.test.websocket_test``
runs here under tornado's own runner (tests/plugins/tornado_suite.py) once on
tornado's code and once with the drop-in on each backend, in the same run;
every test must pass on wsframe's code as on tornado's, with wsframe's loop
demonstrably reading every frame. Then a tornado echo server with the drop-in
(tests/peers/tornado_server.py, in its own process, on each backend, with
and without permessage-deflate) talks to the websockets and aiohttp clients
and to headless Chromium, and answers frames tornado alone only aborts on
with the close code RFC 6455 names.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import json
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from pathlib import Path
from types import ModuleType
from typing import Any, Dict, Iterator, List, Optional, Tuple

import pytest
from helpers import failed_tests, frame, require_peer

import wsframe
from wsframe.handshake import accept_key
from wsframe.integrations import version_in

RUNNER = Path(__file__).parent / "plugins" / "tornado_suite.py"
SERVER = Path(__file__).parent / "peers" / "tornado_server.py"
SUITE = "tornado.test.websocket_test"
# tornado's tests that cannot pass with the drop-in whatever it does, and why: none.
NOT_APPLICABLE: Dict[str, str] = {}
BIG = random.Random(7692).randbytes(4 << 20)


def backend_env(backend: str, **extra: str) -> Dict[str, str]:
    env = dict(os.environ, **extra)
    env.pop("WSFRAME_PURE_PYTHON", None)
    if backend == "python":
        env["WSFRAME_PURE_PYTHON"] = "1"
    return env


# tornado's own tests ---------------------------------------------------------


def run_tornado_suite(workdir: Path, mode: str, backend: str = "c") -> Dict[str, Any]:
    """tornado's WebSocket tests under its own runner; each test's outcome and the call counts."""
    report = workdir / f"{mode}-{backend}.json"
    run = subprocess.run([sys.executable, str(RUNNER), SUITE], cwd=workdir, capture_output=True, text=True,
                         timeout=600, env=backend_env(backend, WSFRAME_DROPIN=mode, WSFRAME_PEER_REPORT=str(report)))
    assert report.exists(), run.stdout[-2000:] + run.stderr[-4000:]
    result: Dict[str, Any] = json.loads(report.read_text())
    assert result["backend"] == backend and result["mode"] == mode
    result["log"] = run.stderr[-4000:]
    return result


@pytest.fixture(scope="module")
def tornado_baseline(tmp_path_factory: pytest.TempPathFactory) -> Dict[str, Any]:
    require_peer("tornado")
    dropin = require_peer("wsframe.integrations.tornado")
    # The tests of the release installed: CI runs the oldest and the newest of dropin.SUPPORTED.
    version = importlib.metadata.version("tornado")
    assert version_in(version, dropin.SUPPORTED), f"tornado {version} is outside {dropin.SUPPORTED}"
    result = run_tornado_suite(tmp_path_factory.mktemp("baseline"), "off")
    assert not result["status"] and not failed_tests(result), result["log"]
    assert len(result["outcomes"]) >= 40, result["outcomes"]  # 50 on tornado 6.5, 70 on 6.6.1
    assert result["calls"]["frame read by tornado's own code"] > 100, result["calls"]
    return result


@pytest.mark.peer_suite
@pytest.mark.parametrize("backend", ["c", "python"], ids=lambda name: f"backend={name}")
def test_tornado_own_suite_passes_with_the_dropin(tornado_baseline: Dict[str, Any], tmp_path: Path,
                                                  backend: str) -> None:
    result = run_tornado_suite(tmp_path, "on", backend)
    assert result["outcomes"].keys() == tornado_baseline["outcomes"].keys()
    assert failed_tests(result) == set(NOT_APPLICABLE), result["log"]
    # tornado's runner fails a run that logged a warning, even with every test passing.
    assert not result["status"], result["log"]
    assert result["outcomes"] == tornado_baseline["outcomes"]
    assert result["installed_at_end"] is True
    calls = result["calls"]
    # wsframe's loop read every frame of tornado's servers and clients; tornado's never ran.
    assert calls.get("frame read by tornado's own code", 0) == 0, calls
    assert calls["bytes fed to wsframe's decoder"] > 50, calls
    assert calls["message handed on by wsframe's loop"] > 100, calls
    assert calls["frame written by wsframe"] > 50, calls
    feeds = calls["bytes fed to wsframe's decoder"]
    print(f"tornado's WebSocket tests: {len(result['outcomes'])}, all passing on tornado's code and with the "
          f"drop-in ({backend}); wsframe's decoder was fed {feeds} reads")


# A tornado server with the drop-in, and real clients --------------------------


class TornadoServer:
    """tests/peers/tornado_server.py in its own process; collects its per-connection records."""

    def __init__(self, backend: str, *, dropin: bool = True, compression: bool = True) -> None:
        arguments = (["--dropin"] if dropin else []) + ([] if compression else ["--no-compression"])
        self.process = subprocess.Popen([sys.executable, str(SERVER), *arguments], cwd=tempfile.gettempdir(),
                                        env=backend_env(backend), stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        match = re.fullmatch(r"PORT (\d+) (\S+)\n", line)
        if match is None:
            self.process.kill()
            pytest.fail(f"tornado server did not start: {line!r}")
        self.port = int(match.group(1))
        assert (match.group(2) == "wsframe.integrations.tornado") is dropin, match.group(2)
        self.url = f"ws://127.0.0.1:{self.port}"
        self.compression = compression
        self._records: List[Dict[str, Any]] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._records.append(json.loads(line))

    def record(self, path: str) -> Dict[str, Any]:
        """What the server saw of the connection to ``path``, once it closed."""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            found = [record for record in self._records if record["path"] == path]
            if found:
                [record] = found
                return record
            time.sleep(0.05)
        raise AssertionError(f"the server reported no connection to {path}: {self._records}")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(30)


@pytest.fixture(scope="module", params=[("c", True), ("c", False), ("python", True), ("python", False)],
                ids=lambda param: f"backend={param[0]}-{'deflate' if param[1] else 'uncompressed'}")
def tornado_server(request: pytest.FixtureRequest) -> Iterator[TornadoServer]:
    require_peer("tornado")
    require_peer("wsframe.integrations.tornado")
    backend, compression = request.param
    server = TornadoServer(backend, compression=compression)
    yield server
    server.stop()


MESSAGES: List[Any] = ["héllo ✓", bytes(range(256)), "a" * 65536, random.Random(6455).randbytes(100_000), BIG, ""]


def test_websockets_client_talks_to_tornado_with_the_dropin(tornado_server: TornadoServer) -> None:
    require_peer("websockets")
    from websockets.asyncio.client import connect

    async def conversation() -> Tuple[List[str], Optional[int]]:
        async with connect(tornado_server.url + "/websockets", max_size=32 << 20) as ws:
            extensions = [extension.name for extension in ws.protocol.extensions]
            for message in MESSAGES:
                await ws.send(message)
                assert await ws.recv() == message
            await ws.send(["frag", "mented ✓"])
            assert await ws.recv() == "fragmented ✓"
            await ws.send([b"\xff", b"", b"\xfe"])
            assert await ws.recv() == b"\xff\xfe"
            await asyncio.wait_for(await ws.ping(b"client ping"), 10)
            await ws.close(4321, "client bye")
        return extensions, ws.close_code

    extensions, close_code = asyncio.run(asyncio.wait_for(conversation(), 120))
    assert extensions == (["permessage-deflate"] if tornado_server.compression else [])
    assert close_code == 4321  # tornado echoes the code
    record = tornado_server.record("/websockets")
    assert record == {"path": "/websockets", "echoed": len(MESSAGES) + 2, "close_code": 4321,
                      "close_reason": "client bye", "compressed": tornado_server.compression}


def test_aiohttp_client_talks_to_tornado_with_the_dropin(tornado_server: TornadoServer) -> None:
    aiohttp = require_peer("aiohttp")

    async def conversation() -> Tuple[int, Optional[int]]:
        async with aiohttp.ClientSession() as session:
            async with session.ws_connect(tornado_server.url + "/aiohttp", compress=15, max_msg_size=32 << 20,
                                          autoping=False) as ws:
                for message in MESSAGES:
                    await (ws.send_str(message) if isinstance(message, str) else ws.send_bytes(message))
                    reply = await ws.receive()
                    assert reply.data == message
                await ws.ping(b"aiohttp ping")
                pong = await ws.receive()
                assert (pong.type, pong.data) == (aiohttp.WSMsgType.PONG, b"aiohttp ping")
                await ws.close(code=4000, message=b"aiohttp bye")
                return ws.compress, ws.close_code

    compress, close_code = asyncio.run(asyncio.wait_for(conversation(), 120))
    assert bool(compress) is tornado_server.compression
    assert close_code == 4000
    record = tornado_server.record("/aiohttp")
    assert record == {"path": "/aiohttp", "echoed": len(MESSAGES), "close_code": 4000,
                      "close_reason": "aiohttp bye", "compressed": tornado_server.compression}


def test_chromium_talks_to_tornado_with_the_dropin(tornado_server: TornadoServer, tmp_path: Path) -> None:
    from test_browser import run_echo_page

    result = run_echo_page(tornado_server.url + "/chromium", tmp_path)
    assert result["checks"] == [["text", True], ["binary", True], ["1 MiB", True], ["repetitive text", True]]
    # Chromium always offers permessage-deflate; tornado accepts it when its
    # handler's get_compression_options says so.
    assert result["extensions"].startswith("permessage-deflate") is tornado_server.compression, result["extensions"]
    assert (result["closeCode"], result["wasClean"]) == (1000, True)
    record = tornado_server.record("/chromium")
    assert (record["close_code"], record["close_reason"], record["echoed"]) == (1000, "done", 4)


def close_frame(code: int, reason: bytes = b"") -> bytes:
    return frame(8, code.to_bytes(2, "big") + reason)


# Frames no real client sends, and the close code RFC 6455 gives each.
VIOLATIONS: Dict[str, Tuple[bytes, int]] = {
    "text that is not UTF-8": (frame(1, b"caf\xc3"), 1007),
    "an encoded surrogate, in a first fragment": (frame(1, b"ok \xed\xa0\x80", fin=False), 1007),
    "an unmasked client frame": (frame(2, b"x", mask=False), 1002),
    "a fragmented ping": (frame(9, b"p", fin=False), 1002),
    "a ping of 126 bytes": (frame(9, b"p" * 126), 1002),
    "reserved opcode 3": (frame(3, b""), 1002),
    "RSV2 set": (bytes([0xA2]) + frame(2, b"x")[1:], 1002),
    "a continuation with no message": (frame(0, b"x"), 1002),
    "a length not in its shortest form": (b"\x82\xfe\x00\x01" + frame(2, b"x")[2:], 1002),
    "close code 1005": (close_frame(1005), 1002),
    "close code 999": (close_frame(999), 1002),
    "close code 2999": (close_frame(2999), 1002),
    "a 1-byte close payload": (frame(8, b"\x03"), 1002),
    "a close reason that is not UTF-8": (close_frame(1000, b"\xff"), 1007),
    "a frame over websocket_max_message_size": (b"\x82\xff" + (32 << 20).to_bytes(8, "big") + b"\x00" * 4, 1009),
}


def first_reply(port: int, path: str, stream: bytes, *, deflate: bool = False,
                timeout: float = 30) -> Optional[Tuple[int, bytes]]:
    """Open a connection (offering permessage-deflate if ``deflate``), send
    ``stream``, return the server's first frame (opcode, payload), or None if
    it closed TCP without sending one; TimeoutError if it did neither."""
    offer = "Sec-WebSocket-Extensions: permessage-deflate\r\n" if deflate else ""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     f"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n{offer}\r\n".encode())
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            assert chunk, "no handshake response"
            data += chunk
        assert data.startswith(b"HTTP/1.1 101"), data
        assert (b"permessage-deflate" in data.split(b"\r\n\r\n")[0]) is deflate, data
        sock.sendall(stream)
        decoder = wsframe.FrameDecoder(wsframe.Role.CLIENT, max_frame_size=None)
        frames = decoder.feed(data.split(b"\r\n\r\n", 1)[1])
        while not frames:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                return None
            if not chunk:
                return None
            frames = decoder.feed(chunk)
        return int(frames[0].opcode), frames[0].payload


@pytest.mark.parametrize("violation", list(VIOLATIONS))
def test_the_dropin_fails_a_violation_with_the_rfcs_close_code(tornado_server: TornadoServer,
                                                                violation: str) -> None:
    stream, code = VIOLATIONS[violation]
    path = "/violation/" + violation.replace(" ", "-")
    reply = first_reply(tornado_server.port, path, stream)
    assert reply is not None, "the server closed TCP without a close frame"
    opcode, payload = reply
    assert opcode == 8 and int.from_bytes(payload[:2], "big") == code, payload
    # Every close frame says why, in words the peer can log.
    reason = payload[2:].decode()
    if code == 1009:
        assert reason == "message too big"  # tornado's words, which its own tests pin
    else:
        assert len(reason) > 10, reason
    # The server saw no valid close frame: its handler's close_code stays None.
    assert tornado_server.record(path)["close_code"] is None


def deflated(data: bytes) -> bytes:
    """``data`` as one permessage-deflate message payload (RFC 7692 section 7.2.1)."""
    compressor = zlib.compressobj(wbits=-15)
    return (compressor.compress(data) + compressor.flush(zlib.Z_SYNC_FLUSH))[:-4]


# Compressed messages that break RFC 7692 or the limit, and the close code and reason for each.
DEFLATE_VIOLATIONS: Dict[str, Tuple[bytes, int, Optional[str]]] = {
    "data that is not deflate": (frame(2, b"\xff" * 10, rsv1=True), 1002, None),
    "RSV1 on a continuation": (frame(1, deflated(b"a"), fin=False, rsv1=True) + frame(0, b"x", rsv1=True),
                               1002, None),
    "text that is not UTF-8, once inflated": (frame(1, deflated(b"ok \xc3\x28"), rsv1=True), 1007, None),
    "a bomb: 17 MiB inflated from 17 KiB": (frame(2, deflated(bytes(17 << 20)), rsv1=True), 1009,
                                            "message too big after decompression"),
}


SERVER_PARAMS = [("c", True), ("c", False), ("python", True), ("python", False)]


def server_id(param: Tuple[str, bool]) -> str:
    return f"backend={param[0]}-{'deflate' if param[1] else 'uncompressed'}"


@pytest.mark.parametrize("tornado_server", [param for param in SERVER_PARAMS if param[1]], ids=server_id,
                         indirect=True)
@pytest.mark.parametrize("violation", list(DEFLATE_VIOLATIONS))
def test_the_dropin_fails_a_compressed_violation_with_the_rfcs_close_code(tornado_server: TornadoServer,
                                                                           violation: str) -> None:
    stream, code, words = DEFLATE_VIOLATIONS[violation]
    reply = first_reply(tornado_server.port, "/deflate/" + violation.replace(" ", "-"), stream, deflate=True)
    assert reply is not None and reply[0] == 8, reply
    assert int.from_bytes(reply[1][:2], "big") == code, reply
    if words is not None:
        assert reply[1][2:].decode() == words


@pytest.mark.parametrize("backend", ["c", "python"], ids=lambda name: f"backend={name}")
def test_tornado_alone_aborts_or_echoes_where_the_dropin_names_the_violation(backend: str) -> None:
    # What the drop-in changes for tornado's users: the same frames against
    # tornado's own code get no close frame at all, an echo of a code no peer
    # may send, or are taken as messages.
    require_peer("tornado")
    server = TornadoServer(backend, dropin=False)
    try:
        assert first_reply(server.port, "/a", VIOLATIONS["text that is not UTF-8"][0]) is None
        assert first_reply(server.port, "/b", VIOLATIONS["an unmasked client frame"][0]) == (2, b"x")
        assert first_reply(server.port, "/c", VIOLATIONS["a fragmented ping"][0]) is None
        assert first_reply(server.port, "/d", VIOLATIONS["close code 1005"][0]) == (8, (1005).to_bytes(2, "big"))
        # The zlib.error escapes tornado's loop (logged as an uncaught
        # exception): tornado 6.6 then closes TCP, 6.5 leaves the connection
        # open, silent. Either way no close frame comes.
        stream = DEFLATE_VIOLATIONS["data that is not deflate"][0]
        try:
            reply = first_reply(server.port, "/e", stream, deflate=True, timeout=5)
        except TimeoutError:
            reply = None
        assert reply is None
    finally:
        server.stop()


# The drop-in in this process, on each backend ---------------------------------


@pytest.fixture
def tornado_dropin(codec: ModuleType, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The drop-in, installed, decoding and encoding with the backend under test."""
    require_peer("tornado")
    dropin = require_peer("wsframe.integrations.tornado")
    monkeypatch.setattr(dropin, "MessageDecoder", codec.MessageDecoder)
    monkeypatch.setattr(dropin, "encode_frame", codec.encode_frame)
    dropin.install()
    yield dropin
    dropin.uninstall()


async def echo_app(**settings: Any) -> Tuple[Any, str, List[Any]]:
    """A tornado echo server in this process; the handlers it made."""
    from tornado.web import Application
    from tornado.websocket import WebSocketHandler

    handlers: List[Any] = []

    class Echo(WebSocketHandler):
        def open(self) -> None:
            handlers.append(self)

        def get_compression_options(self) -> Optional[Dict[str, Any]]:
            return {}

        def on_message(self, message: Any) -> None:
            self.write_message(message, binary=isinstance(message, bytes))

    server = Application([(r"/", Echo)], **settings).listen(0, "127.0.0.1")
    [port] = {sock.getsockname()[1] for sock in server._sockets.values()}
    return server, f"ws://127.0.0.1:{port}/", handlers


def test_uninstall_restores_tornado(tornado_dropin: Any) -> None:
    from tornado.websocket import WebSocketProtocol13

    assert vars(WebSocketProtocol13)["_receive_frame_loop"] is tornado_dropin._receive_frame_loop
    tornado_dropin.install()  # twice is harmless
    tornado_dropin.uninstall()
    assert not tornado_dropin.installed()
    for name in ("_receive_frame_loop", "_write_frame"):
        assert vars(WebSocketProtocol13)[name].__module__ == "tornado.websocket"


def test_a_connection_keeps_the_code_it_started_with(tornado_dropin: Any) -> None:
    # uninstall() (or install()) while connections are open leaves each on
    # the receive loop it started with: no frame is lost between the two.
    from tornado.websocket import websocket_connect

    async def conversation() -> List[Any]:
        server, url, handlers = await echo_app()
        seen = []
        try:
            early = await websocket_connect(url, compression_options={})
            tornado_dropin.uninstall()
            late = await websocket_connect(url, compression_options={})
            tornado_dropin.install()
            for ws in (early, late):
                for message in ("before ✓", b"\x00" * 70_000, "after"):
                    await ws.write_message(message, binary=isinstance(message, bytes))
                    seen.append(await ws.read_message() == message)
                ws.close(1000, "bye")
                seen.append(await ws.read_message())
            return seen + [(handler.close_code, handler.close_reason) for handler in handlers]
        finally:
            server.stop()

    assert asyncio.run(asyncio.wait_for(conversation(), 60)) == [True] * 3 + [None] + [True] * 3 + [None] + [
        (1000, "bye"), (1000, "bye")]


def test_a_wrapped_handle_message_gets_tornados_arguments(tornado_dropin: Any) -> None:
    # Code that wraps tornado's _handle_message on a connection (as tornado's
    # own ping-timeout test does) sees every message as tornado hands it on:
    # an opcode and the payload's bytes.
    from tornado.websocket import websocket_connect

    async def conversation() -> List[Tuple[int, bytes]]:
        server, url, _ = await echo_app()
        try:
            ws = await websocket_connect(url, compression_options={})
            handled: List[Tuple[int, bytes]] = []
            own = ws.protocol._handle_message

            def wrapper(opcode: int, data: bytes) -> Any:
                handled.append((opcode, data))
                return own(opcode, data)

            ws.protocol._handle_message = wrapper
            await ws.write_message("héllo")
            assert await ws.read_message() == "héllo"
            ws.ping(b"are you there")
            await ws.write_message(b"\x01", binary=True)
            assert await ws.read_message() == b"\x01"
            ws.protocol.close(4001, "done")
            assert await ws.read_message() is None
            return handled
        finally:
            server.stop()

    assert asyncio.run(asyncio.wait_for(conversation(), 60)) == [
        (1, "héllo".encode()), (10, b"are you there"), (2, b"\x01"), (8, (4001).to_bytes(2, "big"))]


def test_the_client_refuses_a_masked_server_frame(tornado_dropin: Any) -> None:
    # tornado's client reads unmasked frames only (RFC 6455 section 5.1):
    # a masked one fails the connection with 1002, where tornado accepts it.
    from tornado.websocket import websocket_connect

    async def conversation() -> Tuple[Any, Optional[int], bytes]:
        received: "asyncio.Queue[bytes]" = asyncio.Queue()

        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            request = await reader.readuntil(b"\r\n\r\n")
            key = re.search(rb"Sec-WebSocket-Key: (\S+)", request, re.IGNORECASE).group(1).decode()  # type: ignore[union-attr]
            writer.write(f"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                         f"Sec-WebSocket-Accept: {accept_key(key)}\r\n\r\n".encode() + frame(1, b"masked"))
            await writer.drain()
            received.put_nowait(await reader.read(1024))
            writer.close()

        server = await asyncio.start_server(serve, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        try:
            ws = await websocket_connect(f"ws://127.0.0.1:{port}/")
            message = await ws.read_message()
            return message, ws.protocol.close_code if ws.protocol else None, await received.get()
        finally:
            server.close()

    message, _, sent = asyncio.run(asyncio.wait_for(conversation(), 30))
    assert message is None  # the connection ended without a message
    [close] = wsframe.FrameDecoder(wsframe.Role.SERVER).feed(sent)
    assert close.opcode == 8 and int.from_bytes(close.payload[:2], "big") == 1002
    assert b"masked" in close.payload
