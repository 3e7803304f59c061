"""The connection layer: ServerConnection and ClientConnection in memory, on both backends.

Every test's connections run on the backend of its ``on_backend`` fixture.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any, List, Tuple

import pytest
from helpers import frame, splits

import wsframe
from wsframe import (
    BinaryMessage,
    ClientConnection,
    Close,
    DeflateParameters,
    InvalidRequest,
    InvalidResponse,
    InvalidState,
    Opcode,
    Ping,
    Pong,
    ProtocolError,
    Request,
    Response,
    Role,
    ServerConnection,
    State,
    TextMessage,
)

pytestmark = pytest.mark.usefixtures("on_backend")

KEY = "dGhlIHNhbXBsZSBub25jZQ=="  # RFC 6455 section 1.3
REQUEST = (b"GET /chat?room=1 HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: http://example.com\r\n"
           b"Sec-WebSocket-Protocol: chat, superchat\r\nSec-WebSocket-Version: 13\r\n\r\n")


def written(connection: Any) -> bytes:
    return b"".join(connection.data_to_send())


def frames_from_server(data: bytes) -> List[wsframe.Frame]:
    return wsframe.FrameDecoder(Role.CLIENT, max_frame_size=None, allowed_rsv=wsframe.Rsv.RSV1).feed(data)


def frames_from_client(data: bytes) -> List[wsframe.Frame]:
    return wsframe.FrameDecoder(Role.SERVER, max_frame_size=None, allowed_rsv=wsframe.Rsv.RSV1).feed(data)


def close_of(frames: List[wsframe.Frame]) -> Tuple[int, str]:
    close = wsframe._close.parse_close_payload(frames[-1].payload)
    assert frames[-1].opcode == Opcode.CLOSE
    return close.code, close.reason


# --- one source, two copies ----------------------------------------------------


def test_each_backend_runs_its_own_copy_of_the_connection_layer(on_backend: ModuleType) -> None:
    # The C backend's classes are _connection.py compiled (C fields and C
    # calls between the methods); the twin's are the module itself.
    from wsframe import _backend

    c = on_backend.__name__ == "wsframe._cframe"
    assert ServerConnection.__module__ == (_backend.C_CONNECTION_MODULE if c else "wsframe._connection")
    assert ClientConnection.__module__ == ServerConnection.__module__
    server = ServerConnection()
    assert isinstance(server, wsframe.Connection) and isinstance(server, ServerConnection)
    # Attributes of the user's own live beside the connection's, as on any object.
    server.user_data = {"room": 1}
    assert server.user_data == {"room": 1}


@pytest.mark.parametrize("side", ["ServerConnection", "ClientConnection"])
def test_both_copies_have_the_same_api(side: str) -> None:
    import importlib
    import inspect

    from wsframe import _backend, _connection

    compiled = getattr(importlib.import_module(_backend.C_CONNECTION_MODULE), side)
    twin = getattr(_connection, side)
    names = {name for name in dir(twin) if not name.startswith("_")}
    assert names <= set(dir(compiled))
    for name in names:
        if callable(getattr(twin, name)):
            assert inspect.signature(getattr(compiled, name)) == inspect.signature(getattr(twin, name)), name
    arguments = ("ws://example.com/",) if side == "ClientConnection" else ()
    fresh_twin, fresh_compiled = twin(*arguments), compiled(*arguments)
    for name in names:
        value = getattr(fresh_twin, name)
        if not callable(value):
            assert getattr(fresh_compiled, name) == value, name


def open_server(**options: Any) -> ServerConnection:
    server = ServerConnection(**options)
    server.receive_data(REQUEST)
    [request] = server.events_received()
    assert isinstance(request, Request)
    server.accept()
    response = written(server)
    assert response.startswith(b"HTTP/1.1 101 Switching Protocols\r\n")
    return server


def pair(server_options: Any = None, **client_options: Any) -> Tuple[ClientConnection, ServerConnection]:
    """A client and a server connection with their handshake done."""
    client = ClientConnection("ws://example.com/chat", **client_options)
    server = ServerConnection(**(server_options or {}))
    server.receive_data(written(client))
    [request] = server.events_received()
    server.accept()
    client.receive_data(written(server))
    [response] = client.events_received()
    assert isinstance(response, Response) and client.state is server.state is State.OPEN
    return client, server


def transfer(source: Any, target: Any) -> List[Any]:
    target.receive_data(written(source))
    return target.events_received()


# The server's handshake -----------------------------------------------------------


def test_the_request_is_an_event_and_accept_answers_it_with_101(on_backend: ModuleType) -> None:
    server = ServerConnection(subprotocols=["superchat", "chat"])
    assert server.state is State.CONNECTING
    server.receive_data(REQUEST)
    [request] = server.events_received()
    assert (request.path, request.query, request.origin) == ("/chat", "room=1", "http://example.com")
    assert request.subprotocols == ["chat", "superchat"] and server.subprotocol == "superchat"
    server.accept(headers=[("X-Server", "wsframe")])
    assert server.state is State.OPEN
    response = written(server).decode()
    assert response.startswith("HTTP/1.1 101 Switching Protocols\r\n")
    # RFC 6455 section 1.3's example key gives this accept value.
    assert "\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n" in response
    assert "\r\nSec-WebSocket-Protocol: superchat\r\n" in response and "\r\nX-Server: wsframe\r\n" in response
    assert response.endswith("\r\n\r\n")


def test_the_request_may_arrive_a_byte_at_a_time() -> None:
    server = ServerConnection()
    for index in range(len(REQUEST)):
        assert server.events_received() == []
        server.receive_data(REQUEST[index:index + 1])
    assert isinstance(server.events_received()[0], Request)


@pytest.mark.parametrize("request_bytes, status", [
    (REQUEST.replace(b"GET", b"POST"), 405),
    (REQUEST.replace(b"HTTP/1.1", b"HTTP/1.0"), 505),
    (REQUEST.replace(b"Upgrade: websocket", b"Upgrade: h2c"), 426),
    (REQUEST.replace(b"Connection: Upgrade", b"Connection: close"), 400),
    (REQUEST.replace(b"Sec-WebSocket-Version: 13", b"Sec-WebSocket-Version: 8"), 426),
    (REQUEST.replace(b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", b"Sec-WebSocket-Key: short"), 400),
    (REQUEST.replace(b"Host: server.example.com\r\n", b""), 400),
    (REQUEST.replace(b"\r\n\r\n", b"\r\nX-Big: " + b"x" * 9000 + b"\r\n\r\n"), 431),
    (b"GET / HTTP/1.1\r\nX: " + b"x" * 9000, 431),  # no end in sight: refused before more is buffered
], ids=["post", "http-1.0", "not-websocket", "no-connection-upgrade", "version-8", "bad-key", "no-host",
        "head-too-long", "head-without-end"])
def test_requests_that_cannot_be_upgraded_are_answered_with_their_http_error(request_bytes: bytes,
                                                                               status: int) -> None:
    server = ServerConnection()
    server.receive_data(request_bytes)
    assert server.events_received() == []
    assert server.state is State.CLOSED and server.close_expected()
    assert isinstance(server.failure, InvalidRequest) and server.failure.status == status
    assert written(server).startswith(f"HTTP/1.1 {status} ".encode())
    with pytest.raises(InvalidState):
        server.accept()


def test_origins_not_allowed_are_refused_with_403() -> None:
    server = ServerConnection(origins=["https://app.example"])
    server.receive_data(REQUEST)
    assert isinstance(server.failure, InvalidRequest) and server.failure.status == 403
    assert written(server).startswith(b"HTTP/1.1 403 Forbidden\r\n")
    allowed = ServerConnection(origins=["http://example.com"])
    allowed.receive_data(REQUEST)
    assert isinstance(allowed.events_received()[0], Request)


def test_reject_answers_with_the_applications_http_response() -> None:
    server = ServerConnection()
    server.receive_data(REQUEST)
    server.events_received()
    server.reject(401, b"log in first", [("WWW-Authenticate", "Bearer")])
    response = written(server)
    assert response.startswith(b"HTTP/1.1 401 Unauthorized\r\n") and response.endswith(b"\r\n\r\nlog in first")
    assert b"\r\nWWW-Authenticate: Bearer\r\n" in response and b"\r\nContent-Length: 12\r\n" in response
    assert server.state is State.CLOSED and server.close_expected() and server.failure is None
    with pytest.raises(InvalidState):
        server.reject()


def test_accept_refuses_a_subprotocol_the_client_did_not_offer() -> None:
    server = ServerConnection()
    server.receive_data(REQUEST)
    server.events_received()
    with pytest.raises(ValueError, match="not offered"):
        server.accept(subprotocol="v9")
    server.accept(subprotocol="chat")
    assert b"\r\nSec-WebSocket-Protocol: chat\r\n" in written(server)


def test_nothing_can_be_sent_before_the_handshake() -> None:
    server = ServerConnection()
    server.receive_data(REQUEST)
    for send in (lambda: server.send_text("x"), lambda: server.send_binary(b"x"), lambda: server.send_ping(),
                 lambda: server.send_close()):
        with pytest.raises(InvalidState, match="before the opening handshake"):
            send()
    with pytest.raises(InvalidState):
        server.fail()


def test_frames_that_came_with_the_request_are_decoded_once_accepted() -> None:
    server = ServerConnection()
    server.receive_data(REQUEST + frame(Opcode.TEXT, b"early"))
    assert [type(event) for event in server.events_received()] == [Request]
    assert server.receiving_paused  # kept, not decoded, until the answer
    server.accept()
    assert server.events_received() == [TextMessage("early")]


def test_permessage_deflate_is_negotiated_from_the_offer() -> None:
    offer = REQUEST.replace(b"\r\n\r\n", b"\r\nSec-WebSocket-Extensions: permessage-deflate; "
                                         b"client_max_window_bits\r\n\r\n")
    server = ServerConnection(compression=DeflateParameters(server_max_window_bits=12, client_max_window_bits=12))
    server.receive_data(offer)
    server.events_received()
    server.accept()
    assert b"\r\nSec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=12; " \
           b"client_max_window_bits=12\r\n" in written(server)
    assert server.deflate == DeflateParameters(server_max_window_bits=12, client_max_window_bits=12)
    declined = ServerConnection(compression=None)
    declined.receive_data(offer)
    declined.events_received()
    declined.accept()
    assert b"Sec-WebSocket-Extensions" not in written(declined) and declined.deflate is None


def test_an_extension_header_that_does_not_parse_is_a_400() -> None:
    server = ServerConnection()
    server.receive_data(REQUEST.replace(b"\r\n\r\n", b"\r\nSec-WebSocket-Extensions: permessage-deflate;;\r\n\r\n"))
    assert isinstance(server.failure, InvalidRequest) and server.failure.status == 400


# The client's handshake -------------------------------------------------------------


def test_the_client_queues_its_request_at_once_and_opens_on_a_valid_101() -> None:
    client = ClientConnection("ws://example.com:8080/chat?x=1", origin="http://example.com",
                              subprotocols=["chat"], headers=[("Authorization", "Bearer t")])
    assert client.state is State.CONNECTING
    request = written(client)
    assert request.startswith(b"GET /chat?x=1 HTTP/1.1\r\nHost: example.com:8080\r\n")
    assert b"\r\nAuthorization: Bearer t\r\n" in request
    assert b"\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n" in request
    server = ServerConnection(subprotocols=["chat"])
    server.receive_data(request)
    server.events_received()
    server.accept()
    client.receive_data(written(server) + frame(Opcode.TEXT, b"right after the 101", mask=False))
    response, message = client.events_received()
    assert isinstance(response, Response) and response.status == 101
    assert message == TextMessage("right after the 101")
    assert client.state is State.OPEN and client.subprotocol == "chat" and client.deflate == DeflateParameters()


def answer_to(client: ClientConnection, *extra: str, status: str = "101 Switching Protocols",
              accept: str = "") -> bytes:
    key = written(client).split(b"Sec-WebSocket-Key: ")[1].split(b"\r\n")[0].decode()
    accept = accept or wsframe.handshake.accept_key(key)
    lines = [f"HTTP/1.1 {status}", "Upgrade: websocket", "Connection: Upgrade", f"Sec-WebSocket-Accept: {accept}",
             *extra]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


@pytest.mark.parametrize("extra, options, status, accept, complaint", [
    ((), {}, "403 Forbidden", "", "answered 403 Forbidden"),
    ((), {}, "101 Switching Protocols", "AAAAAAAAAAAAAAAAAAAAAAAAAAA=", "Sec-WebSocket-Accept does not match"),
    (("Sec-WebSocket-Protocol: chat",), {}, "101 Switching Protocols", "", "did not offer"),
    (("Sec-WebSocket-Extensions: permessage-deflate",), {"compression": None}, "101 Switching Protocols", "",
     "extensions the client did not offer"),
    (("Sec-WebSocket-Extensions: x-custom",), {}, "101 Switching Protocols", "", "expected one permessage-deflate"),
    (("Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=10",),
     {"compression": "permessage-deflate"}, "101 Switching Protocols", "", "did not offer"),
])
def test_a_response_that_breaks_section_4_1_fails_the_client(extra: tuple, options: dict, status: str, accept: str,
                                                              complaint: str) -> None:
    client = ClientConnection("ws://example.com/", **options)
    client.receive_data(answer_to(client, *extra, status=status, accept=accept) + b"body")
    assert client.events_received() == []
    assert client.state is State.CLOSED and client.close_expected()
    assert isinstance(client.failure, InvalidResponse) and complaint in str(client.failure)
    if status.startswith("403"):
        assert client.failure.response is not None and client.failure.response.body == b"body"
    with pytest.raises(InvalidState):
        client.send_text("x")


def test_the_server_closing_during_the_handshake_fails_the_client() -> None:
    client = ClientConnection("ws://example.com/")
    client.receive_eof()
    assert client.state is State.CLOSED and isinstance(client.failure, InvalidResponse)


# Messages --------------------------------------------------------------------------


@pytest.mark.parametrize("compression", [True, False], ids=["deflate", "plain"])
def test_messages_both_ways(compression: bool) -> None:
    client, server = pair({} if compression else {"compression": None})
    messages = ["", "héllo ✓", "x" * 70_000]
    for text in messages:
        client.send_text(text)
    client.send_binary(bytes(range(256)) * 300)
    wire = written(client)
    sent = frames_from_client(wire)
    # Client frames are masked (RFC 6455 section 5.3: the server's decoder
    # refuses them otherwise); large ones compressed when deflate is agreed.
    assert [frame.rsv1 for frame in sent] == [False, False, compression, compression]
    server.receive_data(wire)
    received = server.events_received()
    assert received == [TextMessage(text) for text in messages] + [BinaryMessage(bytes(range(256)) * 300)]
    for event in received:
        if isinstance(event, TextMessage):
            server.send_text(event.data)
        else:
            server.send_binary(event.data)
    reply = written(server)
    assert [frame.rsv1 for frame in frames_from_server(reply)] == [False, False, compression, compression]
    client.receive_data(reply)
    assert client.events_received() == received


def test_send_text_takes_a_str() -> None:
    client, _ = pair()
    with pytest.raises(TypeError, match="takes a str, not bytes"):
        client.send_text(b"bytes")  # type: ignore[arg-type]


def test_bytes_to_send_counts_what_waits() -> None:
    client, server = pair({"compression": None})
    server.send_binary(b"x" * 1000)
    server.send_ping(b"p")
    assert server.bytes_to_send == 1004 + 3
    assert len(written(server)) == 1007 and server.bytes_to_send == 0


# Control frames -------------------------------------------------------------------


def test_pings_are_answered_and_still_delivered() -> None:
    client, server = pair()
    client.send_ping(b"are you there")
    assert transfer(client, server) == [Ping(b"are you there")]
    assert transfer(server, client) == [Pong(b"are you there")]


def test_with_auto_pong_off_the_application_answers() -> None:
    client, server = pair({"auto_pong": False})
    client.send_ping(b"1")
    assert transfer(client, server) == [Ping(b"1")]
    assert server.bytes_to_send == 0
    server.send_pong(b"1")
    assert transfer(server, client) == [Pong(b"1")]


def test_a_control_frame_over_125_bytes_is_refused() -> None:
    client, _ = pair()
    with pytest.raises(ValueError, match="125 bytes"):
        client.send_ping(b"x" * 126)


# Closing ----------------------------------------------------------------------------


def test_client_initiated_close_handshake() -> None:
    client, server = pair()
    client.send_close(4001, "done")
    assert client.state is State.CLOSING and not client.can_send
    assert transfer(client, server) == [Close(4001, "done")]
    assert server.state is State.CLOSING and server.can_send  # it may still answer what came before
    reply = written(server)
    # Section 5.5.1: the server echoes the code; then it closes TCP (7.1.1).
    assert close_of(frames_from_server(reply)) == (4001, "")
    assert server.state is State.CLOSED and server.close_expected() and server.close_code == 4001
    client.receive_data(reply)
    assert client.events_received() == [Close(4001, "")]
    # The client waits for the server to close TCP.
    assert client.state is State.CLOSED and not client.close_expected()
    client.receive_eof()
    assert client.close_expected() and client.close_code == 4001


def test_server_initiated_close_handshake() -> None:
    client, server = pair()
    server.send_close(1001, "going away")
    assert transfer(server, client) == [Close(1001, "going away")]
    assert close_of(frames_from_client(written(client))) == (1001, "")
    assert client.state is State.CLOSED and not client.close_expected()
    server.receive_data(wsframe.encode_frame(Opcode.CLOSE, wsframe.close_payload(1001), mask=True))
    assert server.events_received() == [Close(1001, "")]
    assert server.state is State.CLOSED and server.close_expected()


def test_a_close_without_a_code_is_answered_without_one() -> None:
    client, server = pair()
    client.send_close(None)
    assert transfer(client, server) == [Close(1005, "")]
    [echo] = frames_from_server(written(server))
    assert (echo.opcode, echo.payload) == (Opcode.CLOSE, b"")


def test_answers_to_messages_before_the_peers_close_go_out_before_the_echo() -> None:
    _, server = pair()
    server.receive_data(frame(Opcode.TEXT, b"Hello") + frame(Opcode.CLOSE, b"\x03\xe8"))
    events = server.events_received()
    assert events == [TextMessage("Hello"), Close(1000, "")]
    server.send_text("Hello")
    replies = frames_from_server(written(server))
    assert [(reply.opcode, reply.payload) for reply in replies] == [(Opcode.TEXT, b"Hello"),
                                                                   (Opcode.CLOSE, b"\x03\xe8")]
    assert server.state is State.CLOSED


def test_with_auto_close_off_the_application_answers_the_close() -> None:
    client, server = pair({"auto_close": False})
    client.send_close(1000)
    assert transfer(client, server) == [Close(1000, "")]
    assert server.state is State.CLOSING and server.bytes_to_send == 0 and written(server) == b""
    server.send_close(4000, "my code")
    assert close_of(frames_from_server(written(server))) == (4000, "my code")
    assert server.state is State.CLOSED


def test_nothing_is_sent_after_the_close_frame() -> None:
    client, server = pair()
    server.send_close()
    for send in (lambda: server.send_text("x"), lambda: server.send_binary(b"x"), lambda: server.send_ping(),
                 lambda: server.send_pong(), lambda: server.send_close()):
        with pytest.raises(InvalidState, match="after this side's close frame"):
            send()


def test_a_peer_ping_after_our_close_is_not_answered() -> None:
    client, server = pair()
    server.send_close()
    written(server)
    server.receive_data(frame(Opcode.PING, b"late"))
    assert server.events_received() == [Ping(b"late")] and server.bytes_to_send == 0


def test_frames_after_the_peers_close_are_discarded() -> None:
    client, server = pair()
    server.receive_data(frame(Opcode.CLOSE, b"\x03\xe8") + frame(Opcode.TEXT, b"late") + b"garbage")
    assert server.events_received() == [Close(1000, "")]
    server.receive_data(frame(Opcode.TEXT, b"later still"))
    assert server.events_received() == [] and server.failure is None


def test_fail_closes_at_once() -> None:
    client, server = pair()
    server.fail(1011, "keepalive ping timeout")
    assert server.state is State.CLOSED and server.close_expected()
    assert close_of(frames_from_server(written(server))) == (1011, "keepalive ping timeout")
    with pytest.raises(ValueError):
        client.fail(1005)  # a code no peer may send


def test_tcp_closed_without_a_close_frame_is_1006() -> None:
    client, server = pair()
    server.receive_eof()
    assert server.state is State.CLOSED and server.close_code == 1006 and server.close_expected()


# Violations ---------------------------------------------------------------------------


VIOLATIONS = {
    "reserved opcode": (frame(0x3, b""), 1002),
    "unmasked client frame": (frame(Opcode.TEXT, b"x", mask=False), 1002),
    "invalid UTF-8": (frame(Opcode.TEXT, b"\xff"), 1007),
    "too big": (frame(Opcode.BINARY, b"x" * 2000), 1009),
    "close code 1006": (frame(Opcode.CLOSE, b"\x03\xee"), 1002),
}


@pytest.mark.parametrize("case", list(VIOLATIONS), ids=list(VIOLATIONS))
def test_a_violation_fails_the_connection_after_the_events_before_it(case: str) -> None:
    violation, code = VIOLATIONS[case]
    stream = frame(Opcode.TEXT, b"Hello") + frame(Opcode.PING, b"1") + violation + frame(Opcode.TEXT, b"after")
    for cuts in splits(stream):
        pieces = [stream[start:end] for start, end in zip([0, *cuts], [*cuts, len(stream)])]
        _, server = pair({"max_message_size": 1024})
        events: List[Any] = []
        output = b""
        for piece in pieces:
            server.receive_data(piece)
            for event in server.events_received():
                events.append(event)
                if isinstance(event, TextMessage) and server.can_send:
                    server.send_text(event.data)
            output += written(server)
        assert events == [TextMessage("Hello"), Ping(b"1")], pieces
        replies = frames_from_server(output)
        # The echo and the pong (which goes out as soon as its ping is
        # decoded, so before or after the echo, by how the bytes were cut),
        # then the close with the violation's code and why.
        assert sorted(reply.opcode for reply in replies[:-1]) == [Opcode.TEXT, Opcode.PONG]
        assert close_of(replies)[0] == code
        assert isinstance(server.failure, ProtocolError) and server.failure.close_code == code
        assert server.state is State.CLOSED and server.close_expected()


# Flow control -------------------------------------------------------------------------


def test_max_queue_bounds_what_one_read_decodes() -> None:
    _, server = pair({"max_queue": 4})
    server.receive_data(b"".join(frame(Opcode.BINARY, bytes([n])) for n in range(10)))
    got = server.events_received()
    assert len(got) == 4 and server.receiving_paused
    # Each call decodes the next batch, until nothing is left.
    while events := server.events_received():
        assert len(events) <= 4
        got += events
    assert got == [BinaryMessage(bytes([n])) for n in range(10)] and not server.receiving_paused


def test_receive_data_of_nothing_decodes_what_was_kept_back() -> None:
    _, server = pair({"max_queue": 2})
    server.receive_data(b"".join(frame(Opcode.BINARY, bytes([n])) for n in range(3)))
    assert len(server.events_received()) == 2
    server.receive_data(b"")
    assert server.events_received() == [BinaryMessage(b"\x02")]


def test_write_limit_stops_decoding_while_answers_pile_up() -> None:
    # A peer that sends pings and never reads: the pongs count as output, and
    # past write_limit the connection decodes no more.
    _, server = pair({"write_limit": 1000, "max_queue": 1000})
    server.receive_data(frame(Opcode.PING, b"x" * 100) * 100)
    assert 1000 <= server.bytes_to_send < 1000 + 102 and server.receiving_paused
    assert len(server.events_received()) == server.bytes_to_send // 102
    # Nothing more is decoded until the pongs are taken.
    assert server.events_received() == []
    answered = 0
    while True:
        answered += len(frames_from_server(written(server)))
        if not server.events_received():
            break
    answered += len(frames_from_server(written(server)))
    assert answered == 100 and not server.receiving_paused


def test_input_arriving_while_paused_is_kept_in_order() -> None:
    _, server = pair({"max_queue": 1})
    server.receive_data(frame(Opcode.TEXT, b"1") + frame(Opcode.TEXT, b"2"))
    server.receive_data(frame(Opcode.TEXT, b"3"))
    got = server.events_received()
    while events := server.events_received():
        got += events
    assert got == [TextMessage("1"), TextMessage("2"), TextMessage("3")]


def test_receive_data_takes_any_buffer_and_copies_what_it_keeps() -> None:
    _, server = pair()
    data = frame(Opcode.TEXT, b"Hello") + frame(Opcode.TEXT, b"world")
    buffer = bytearray(data)
    cut = len(data) - 3
    server.receive_data(memoryview(buffer)[:cut])
    buffer[:] = bytes(len(buffer))  # the caller reuses its buffer
    server.receive_data(data[cut:])
    assert server.events_received() == [TextMessage("Hello"), TextMessage("world")]
