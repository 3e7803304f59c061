"""The reference echo server (``python -m wsframe echo``) against real clients.

The websockets and aiohttp clients check interop; a raw socket sends what no
well-behaved client would (bad handshakes, protocol violations) and reads the
server's exact answer. Every test runs against a server on each backend.
"""

from __future__ import annotations

import asyncio
import base64
import os
import socket
import time
from typing import List, Optional, Tuple

import pytest
from conftest import EchoServer
from helpers import frame, require_peer

import wsframe
from wsframe import Opcode, Role
from wsframe.handshake import accept_key


class RawClient:
    """A TCP socket that speaks just enough WebSocket to misbehave on purpose."""

    def __init__(self, server: EchoServer) -> None:
        self.sock = socket.create_connection((server.host, server.port), timeout=10)
        self.decoder = wsframe.FrameDecoder(Role.CLIENT, max_frame_size=None)
        self.host = f"{server.host}:{server.port}"

    def request(self, **overrides: Optional[str]) -> Tuple[str, bytes]:
        """Send an upgrade request (fields overridden or removed with None); return the status line and head."""
        self.key = base64.b64encode(os.urandom(16)).decode()
        fields = {
            "Host": self.host,
            "Upgrade": "websocket",
            "Connection": "Upgrade",
            "Sec-WebSocket-Key": self.key,
            "Sec-WebSocket-Version": "13",
        }
        method = overrides.pop("method", None) or "GET"
        for name, value in overrides.items():
            fields[name.replace("_", "-")] = value  # type: ignore[assignment]
        lines = [f"{method} / HTTP/1.1"] + [f"{name}: {value}" for name, value in fields.items() if value is not None]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        return self.read_head()

    def read_head(self) -> Tuple[str, bytes]:
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                break
            head += chunk
        head, _, rest = head.partition(b"\r\n\r\n")
        self.rest = rest
        return head.split(b"\r\n")[0].decode(), head

    def upgrade(self) -> None:
        status, head = self.request()
        assert status == "HTTP/1.1 101 Switching Protocols"
        assert f"Sec-WebSocket-Accept: {accept_key(self.key)}".encode() in head

    def read_until_closed(self) -> List[wsframe.Frame]:
        """Every frame the server sends until it closes TCP (which it must);
        it may send nothing after its close frame (RFC 6455 section 5.5.1)."""
        frames = list(self.decoder.feed(self.rest))
        while True:
            data = self.sock.recv(65536)
            if not data:
                assert self.decoder.bytes_after_close == 0, "the server sent bytes after its close frame"
                return frames
            frames.extend(self.decoder.feed(data))

    def read_frames(self, count: int) -> List[wsframe.Frame]:
        frames = list(self.decoder.feed(self.rest))
        self.rest = b""
        while len(frames) < count:
            data = self.sock.recv(65536)
            assert data, f"server closed after {len(frames)} of {count} frames"
            frames.extend(self.decoder.feed(data))
        return frames

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def raw(echo_server: EchoServer) -> RawClient:
    client = RawClient(echo_server)
    yield client  # type: ignore[misc]
    client.close()


def close_of(frames: List[wsframe.Frame]) -> wsframe.Close:
    assert frames and frames[-1].opcode == Opcode.CLOSE, frames
    return wsframe._close.parse_close_payload(frames[-1].payload)


# The websockets client (sync API) ------------------------------------------


def test_websockets_client_echoes_text_binary_and_fragments(echo_server: EchoServer) -> None:
    client = require_peer("websockets.sync.client")
    with client.connect(echo_server.url) as ws:
        ws.send("héllo, wörld ✓ 🎉")
        assert ws.recv() == "héllo, wörld ✓ 🎉"
        ws.send(bytes(range(256)))
        assert ws.recv() == bytes(range(256))
        ws.send(["frag", "mented ", "tëxt"])
        assert ws.recv() == "fragmented tëxt"
        ws.send([b"\x00\x01", b"", b"\x02"])
        assert ws.recv() == b"\x00\x01\x02"
        ws.send("")
        assert ws.recv() == ""
        assert ws.ping(b"are you there").wait(5)


def test_websockets_client_1_mib_message_round_trips(echo_server: EchoServer) -> None:
    client = require_peer("websockets.sync.client")
    payload = os.urandom(1 << 20)
    with client.connect(echo_server.url, max_size=None) as ws:
        ws.send(payload)
        assert ws.recv() == payload


def test_websockets_client_compresses_with_the_echo_server(echo_server: EchoServer) -> None:
    # websockets offers permessage-deflate by default: its compressor feeds
    # wsframe's inflater, and wsframe's deflater feeds its inflater.
    client = require_peer("websockets.sync.client")
    with client.connect(echo_server.url, max_size=None) as ws:
        assert [extension.name for extension in ws.protocol.extensions] == ["permessage-deflate"]
        for message in ["short", "JSON-ish {\"key\": [1, 2, 3]} " * 500, b"\x00" * 1_000_000, "é" * 100]:
            ws.send(message)
            assert ws.recv() == message


def test_echo_server_without_compression_declines_it(start_echo_server: object) -> None:
    client = require_peer("websockets.sync.client")
    server = start_echo_server("--no-compression")  # type: ignore[operator]
    with client.connect(server.url) as ws:
        assert ws.protocol.extensions == []
        ws.send("plain " * 100)
        assert ws.recv() == "plain " * 100


@pytest.mark.parametrize("code, reason", [(1000, ""), (1001, "bye"), (4321, "app-specific ✓")])
def test_websockets_client_close_code_is_echoed(echo_server: EchoServer, code: int, reason: str) -> None:
    client = require_peer("websockets.sync.client")
    with client.connect(echo_server.url) as ws:
        ws.close(code, reason)
    assert ws.close_code == code
    assert ws.close_reason == ""


def test_websockets_client_message_over_limit_gets_1009(echo_server: EchoServer) -> None:
    client = require_peer("websockets.sync.client")
    exceptions = require_peer("websockets.exceptions")
    with client.connect(echo_server.url, max_size=None) as ws:
        ws.send(b"x" * (wsframe.DEFAULT_MAX_SIZE + 1))
        with pytest.raises(exceptions.ConnectionClosedError):
            ws.recv()
    assert ws.close_code == 1009
    assert "1048576" in ws.close_reason


def test_websockets_client_refused_by_origin(start_echo_server: object) -> None:
    client = require_peer("websockets.sync.client")
    exceptions = require_peer("websockets.exceptions")
    server = start_echo_server("--allowed-origin", "http://good.example")  # type: ignore[operator]
    with client.connect(server.url, origin="http://good.example") as ws:
        ws.send("allowed")
        assert ws.recv() == "allowed"
    with pytest.raises(exceptions.InvalidStatus) as excinfo:
        client.connect(server.url, origin="http://evil.example")
    assert excinfo.value.response.status_code == 403


# aiofastnet's transports (--loop aiofastnet) ----------------------------------


def test_echo_server_on_aiofastnet_transports_echoes_and_fails_violations(start_echo_server: object) -> None:
    # The same protocol over another transport: echoes, pongs, the closing
    # handshake, and a violation's close code must not depend on it.
    require_peer("aiofastnet")
    client = require_peer("websockets.sync.client")
    server = start_echo_server("--loop", "aiofastnet")  # type: ignore[operator]
    assert "aiofastnet" in server.banner
    payload = os.urandom(1 << 20)
    with client.connect(server.url, max_size=None) as ws:
        ws.send("over aiofastnet ✓")
        assert ws.recv() == "over aiofastnet ✓"
        ws.send(payload)
        assert ws.recv() == payload
        ws.ping(b"p").wait(5)
        ws.close(4001, "done")
    assert ws.close_code == 4001
    raw = RawClient(server)
    raw.upgrade()
    raw.sock.sendall(frame(Opcode.BINARY, b"before") + frame(Opcode.TEXT, b"unmasked", mask=False))
    frames = raw.read_until_closed()
    assert frames[0].payload == b"before"
    assert close_of(frames).code == 1002
    raw.sock.close()


# The aiohttp client ------------------------------------------------------------


def test_aiohttp_client_echoes_and_closes(echo_server: EchoServer) -> None:
    aiohttp = require_peer("aiohttp")
    payload = os.urandom(1 << 20)

    async def session() -> None:
        async with aiohttp.ClientSession() as http:
            async with http.ws_connect(echo_server.url, max_msg_size=0, autoping=False) as ws:
                await ws.send_str("aiohttp ✓")
                assert (await ws.receive()).data == "aiohttp ✓"
                await ws.send_bytes(payload)
                assert (await ws.receive()).data == payload
                await ws.ping(b"p")
                message = await ws.receive()
                assert message.type == aiohttp.WSMsgType.PONG and message.data == b"p"
                await ws.close(code=4000, message=b"done")
            assert ws.close_code == 4000

    asyncio.run(asyncio.wait_for(session(), 30))


# Raw sockets: handshakes the server must refuse ------------------------------


@pytest.mark.parametrize(
    "overrides, status",
    [
        ({"method": "POST"}, "405 Method Not Allowed"),
        ({"Upgrade": None}, "426 Upgrade Required"),
        ({"Connection": "keep-alive"}, "400 Bad Request"),
        ({"Sec-WebSocket-Key": None}, "400 Bad Request"),
        ({"Sec-WebSocket-Key": "dG9vIHNob3J0"}, "400 Bad Request"),
        ({"Sec-WebSocket-Version": "8"}, "426 Upgrade Required"),
        ({"Host": None}, "400 Bad Request"),
        ({"X-Padding": "x" * 9000}, "431 Request Header Fields Too Large"),
    ],
    ids=["post", "no-upgrade", "no-connection-upgrade", "no-key", "short-key", "version-8", "no-host", "huge-head"],
)
def test_bad_handshake_gets_an_http_error_and_tcp_close(raw: RawClient, overrides: dict, status: str) -> None:
    line, head = raw.request(**overrides)
    assert line == f"HTTP/1.1 {status}"
    if status.startswith("426") and "Sec-WebSocket-Version" in overrides:
        assert b"Sec-WebSocket-Version: 13" in head
    raw.sock.settimeout(5)
    while raw.sock.recv(65536):
        pass  # the body, then EOF: the server closed the connection


def test_stalled_handshake_is_dropped(start_echo_server: object) -> None:
    # A client that never finishes its request may not hold a connection
    # past the handshake timeout.
    server = start_echo_server("--handshake-timeout", "1")  # type: ignore[operator]
    sock = socket.create_connection((server.host, server.port), timeout=20)
    sock.sendall(b"GET / HTTP/1.1\r\n")
    started = time.monotonic()
    assert sock.recv(100) == b""
    assert 0.5 < time.monotonic() - started < 5
    sock.close()


# Raw sockets: protocol violations and the close handshake ---------------------


@pytest.mark.parametrize(
    "stream, code",
    [
        (frame(Opcode.TEXT, b"unmasked", mask=False), 1002),
        (frame(Opcode.TEXT, b"\xed\xa0\x80"), 1007),
        (frame(Opcode.BINARY, b"x", rsv1=True), 1002),
        (frame(Opcode.CONTINUATION, b"orphan"), 1002),
        (frame(Opcode.PING, b"", fin=False), 1002),
        (frame(Opcode.CLOSE, b"\x03"), 1002),
        (bytes([0x83, 0x80, 0, 0, 0, 0]), 1002),
    ],
    ids=["unmasked", "surrogate", "rsv1", "orphan-continuation", "fragmented-ping", "close-1-byte", "opcode-3"],
)
def test_protocol_violation_fails_the_connection_with_its_code(raw: RawClient, stream: bytes, code: int) -> None:
    raw.upgrade()
    raw.sock.sendall(stream)
    close = close_of(raw.read_until_closed())
    assert close.code == code
    assert close.reason


def test_too_big_is_refused_from_the_header_alone(raw: RawClient) -> None:
    raw.upgrade()
    # Claims 2 MiB and sends none of it: the server must not wait for it.
    raw.sock.sendall(bytes([0x82, 0xFF]) + (2 << 20).to_bytes(8, "big") + b"\x00" * 4)
    close = close_of(raw.read_until_closed())
    assert close.code == 1009


def test_messages_before_a_close_are_echoed_in_order(raw: RawClient) -> None:
    raw.upgrade()
    stream = (
        frame(Opcode.TEXT, b"one", fin=False)
        + frame(Opcode.PING, b"between fragments")
        + frame(Opcode.CONTINUATION, b" two")
        + frame(Opcode.BINARY, b"\xff")
        + frame(Opcode.CLOSE, b"")
    )
    for byte in range(len(stream)):  # one byte per segment: chunking must not matter
        raw.sock.sendall(stream[byte : byte + 1])
    frames = raw.read_until_closed()
    assert [(f.opcode, f.payload) for f in frames] == [
        (Opcode.PONG, b"between fragments"),
        (Opcode.TEXT, b"one two"),
        (Opcode.BINARY, b"\xff"),
        (Opcode.CLOSE, b""),  # no status code in, none out (section 7.1.5)
    ]


# Several frames in one sendall, so the server reads them in one chunk (and,
# under load, in any cut): what arrived first is answered first.
HELLO = frame(Opcode.TEXT, b"Hello")
ECHOED_HELLO = (Opcode.TEXT, b"Hello")
SEGMENT_CASES = {
    "text, close, ping": (HELLO + frame(Opcode.CLOSE, b"\x03\xe8") + frame(Opcode.PING, b"late"),
                          [ECHOED_HELLO, (Opcode.CLOSE, b"\x03\xe8")]),
    "text, close, close": (HELLO + frame(Opcode.CLOSE, b"\x03\xe8") + frame(Opcode.CLOSE, b"\x03\xe9"),
                           [ECHOED_HELLO, (Opcode.CLOSE, b"\x03\xe8")]),
    "text, close 1001, text": (HELLO + frame(Opcode.CLOSE, b"\x03\xe9") + frame(Opcode.TEXT, b"late"),
                               [ECHOED_HELLO, (Opcode.CLOSE, b"\x03\xe9")]),
    "fragment, close, fragment": (frame(Opcode.TEXT, b"Hel", fin=False) + frame(Opcode.CLOSE, b"\x03\xe8")
                                  + frame(Opcode.CONTINUATION, b"lo"), [(Opcode.CLOSE, b"\x03\xe8")]),
    "text, RSV2 frame, ping": (HELLO + bytes([0xA1]) + frame(Opcode.TEXT, b"x")[1:] + frame(Opcode.PING, b""),
                               [ECHOED_HELLO, (Opcode.CLOSE, 1002)]),
    "text, reserved opcode, ping": (HELLO + frame(0x3, b"x") + frame(Opcode.PING, b""),
                                    [ECHOED_HELLO, (Opcode.CLOSE, 1002)]),
    "fragments, then a bad continuation": (
        HELLO + frame(Opcode.TEXT, b"a", fin=False) + frame(Opcode.PING, b"1") + frame(Opcode.CONTINUATION, b"b")
        + frame(Opcode.CONTINUATION, b"c"),
        [ECHOED_HELLO, (Opcode.PONG, b"1"), (Opcode.TEXT, b"ab"), (Opcode.CLOSE, 1002)]),
    "text, invalid UTF-8": (HELLO + frame(Opcode.TEXT, b"\xff"), [ECHOED_HELLO, (Opcode.CLOSE, 1007)]),
}


def replies(frames: List[wsframe.Frame]) -> list:
    """What the server wrote back: (opcode, payload), a failure close as (CLOSE, its code)."""
    rows = []
    for reply in frames:
        if reply.opcode == Opcode.CLOSE and len(reply.payload) > 2:
            code = wsframe._close.parse_close_payload(reply.payload).code
            rows.append((Opcode.CLOSE, code))
        else:
            rows.append((reply.opcode, reply.payload))
    return rows


@pytest.mark.parametrize("case", list(SEGMENT_CASES), ids=list(SEGMENT_CASES))
def test_frames_in_one_segment_are_answered_in_order(raw: RawClient, case: str) -> None:
    # Messages are echoed in the order they came, and the close comes last.
    # A ping is answered by the connection as soon as it is decoded, which
    # may be before the echo of a message that came before it: its pong's
    # place among the echoes is not part of the contract.
    stream, expected = SEGMENT_CASES[case]
    raw.upgrade()
    raw.sock.sendall(stream)
    got = replies(raw.read_until_closed())
    pongs = [reply for reply in expected if reply[0] == Opcode.PONG]
    assert [reply for reply in got if reply[0] != Opcode.PONG] == [reply for reply in expected if reply not in pongs]
    assert [reply for reply in got if reply[0] == Opcode.PONG] == pongs
    assert got[-1][0] == Opcode.CLOSE


def test_request_and_frames_in_one_segment(echo_server: EchoServer) -> None:
    client = RawClient(echo_server)
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        f"GET /chat HTTP/1.1\r\nHost: {client.host}\r\nUpgrade: WebSocket\r\nConnection: keep-alive, Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    ).encode()
    client.sock.sendall(request + frame(Opcode.TEXT, b"pipelined") + frame(Opcode.CLOSE, b"\x03\xe8"))
    status, _ = client.read_head()
    assert status == "HTTP/1.1 101 Switching Protocols"
    frames = client.read_until_closed()
    assert [(f.opcode, f.payload) for f in frames] == [(Opcode.TEXT, b"pipelined"), (Opcode.CLOSE, b"\x03\xe8")]
    client.close()


def test_idle_connection_is_closed_by_the_server(start_echo_server: object) -> None:
    server = start_echo_server("--idle-timeout", "0.5")  # type: ignore[operator]
    client = RawClient(server)
    client.upgrade()
    [close] = client.read_frames(1)
    assert wsframe._close.parse_close_payload(close.payload) == wsframe.Close(1000, "idle timeout")
    client.sock.sendall(frame(Opcode.CLOSE, close.payload))
    assert client.read_until_closed() == []
    client.close()


def test_nothing_follows_the_servers_own_close(start_echo_server: object) -> None:
    # Section 5.5.1: after sending a close frame, no more data frames. A
    # client that keeps talking before it answers gets no echo.
    server = start_echo_server("--idle-timeout", "0.5")  # type: ignore[operator]
    client = RawClient(server)
    client.upgrade()
    [close] = client.read_frames(1)
    assert wsframe._close.parse_close_payload(close.payload).reason == "idle timeout"
    client.sock.sendall(frame(Opcode.TEXT, b"still here") + frame(Opcode.PING, b"?")
                       + frame(Opcode.CLOSE, close.payload))
    assert client.read_until_closed() == []
    client.close()


def test_many_concurrent_clients(echo_server: EchoServer) -> None:
    clients = [RawClient(echo_server) for _ in range(50)]
    for client in clients:
        client.upgrade()
    for number, client in enumerate(clients):
        client.sock.sendall(frame(Opcode.TEXT, f"client {number}".encode()))
    for number, client in enumerate(clients):
        [echo] = client.read_frames(1)
        assert echo.payload == f"client {number}".encode()
        client.close()


def test_a_burst_of_compressed_messages_in_one_segment_is_echoed_in_order(raw: RawClient) -> None:
    # The server decodes a batch at a time (max_events), writing each back
    # before inflating the next: every message still comes back, in order.
    status, head = raw.request(Sec_WebSocket_Extensions="permessage-deflate")
    assert status == "HTTP/1.1 101 Switching Protocols"
    response = [line.split(b":", 1)[1].strip().decode() for line in head.split(b"\r\n")
                if line.lower().startswith(b"sec-websocket-extensions:")]
    parameters = wsframe.accept_deflate_response(response[0], wsframe.deflate_offer())
    deflater = wsframe.Deflater(parameters, Role.CLIENT)
    messages = [f"message {number} ".encode() * 10 for number in range(200)]
    raw.sock.sendall(b"".join(frame(Opcode.TEXT, deflater.compress(message), rsv1=True) for message in messages)
                     + frame(Opcode.CLOSE, b"\x03\xe8"))
    decoder = wsframe.MessageDecoder(Role.CLIENT, deflate=parameters)
    events = decoder.feed(raw.rest)
    while not decoder.closed:
        data = raw.sock.recv(65536)
        assert data, "the server closed TCP before its close frame"
        events += decoder.feed(data)
    assert events == [wsframe.TextMessage(message.decode()) for message in messages] + [wsframe.Close(1000, "")]
