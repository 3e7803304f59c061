"""An ASGI WebSocket protocol for uvicorn on wsframe's connection layer.

    uvicorn app:app --ws wsframe.integrations.uvicorn:WSFrameProtocol

or ``uvicorn.Config(app, ws=WSFrameProtocol)`` in code. uvicorn's HTTP
protocol hands an upgrade request to the class; from there a
:class:`wsframe.ServerConnection` makes every protocol decision (the opening
handshake and permessage-deflate, RFC 6455 section 4.2 and RFC 7692; pongs;
the closing handshake, section 7; failing the connection after a
violation, with its close code) and this class is the I/O between it, the
transport and the ASGI application.

It implements the ASGI WebSocket spec as uvicorn's own implementations do:
``websocket.connect``/``websocket.accept`` (subprotocol, extra headers),
denial with ``websocket.close`` (403) or ``websocket.http.response.start`` and
``.body``, ``websocket.receive`` and ``websocket.send`` (text and bytes),
``websocket.close`` with a code and reason, and ``websocket.disconnect`` with
the peer's code, 1005 or 1006 when there was none, and 1012 when the server
shuts down. It reads uvicorn's settings:

- ``ws_max_size``: the largest message, checked from the frame header, and
  for a compressed message while it inflates (1009 beyond it);
- ``ws_max_queue``: how many received messages may wait for the application.
  Past it the connection stops decoding, and reading the socket stops, until
  the application catches up;
- ``ws_ping_interval`` / ``ws_ping_timeout``: server pings, and a close with
  1011 when a pong does not come in time;
- ``ws_per_message_deflate``: negotiate permessage-deflate (windows of 12 bits
  each way, as uvicorn does).

Flow control: the connection's output is written only while the transport
is writable, and the connection stops decoding (so reading stops) once its
output passes its write limit, pongs included: a client that does not read
cannot grow the server. Every close (the application's, a failure, a
keepalive timeout) is followed by ``close_timeout`` after which the
transport is aborted, so a peer that stopped reading is let go.

After the peer's close frame or a violation, the messages that came before
it reach the application, which gets its turn to answer them (it asks for
the next message, or ``final_turn`` seconds pass) before the close frame
goes out.
"""

from __future__ import annotations

import asyncio
import http
import importlib.metadata
import logging
import os
import weakref
from typing import Any, Dict, List, Optional, Tuple, cast
from urllib.parse import unquote

from .._backend import ServerConnection
from .._deflate import DeflateParameters
from .._errors import ProtocolError
from .._events import BinaryMessage, Close, Pong, TextMessage
from .._io import write_output
from ..handshake import InvalidRequest, Request
from .._types import CloseCode, State
from ._dropin import version_in

try:
    from uvicorn.logging import TRACE_LOG_LEVEL
    from uvicorn.protocols.utils import (
        ClientDisconnected,
        get_client_addr,
        get_local_addr,
        get_path_with_query_string,
        get_remote_addr,
        is_ssl,
    )
except ImportError as exc:  # pragma: no cover - uvicorn is what this module is for
    raise ImportError(f"wsframe.integrations.uvicorn needs uvicorn ({exc})") from exc

__all__ = ["SUPPORTED", "WSFrameProtocol", "version_in"]

#: The uvicorn releases this protocol was tested with (its own WebSocket test
#: suite passes); another refuses to load unless WSFRAME_UVICORN_ANY_VERSION=1.
SUPPORTED = ">=0.54,<0.56"

if os.environ.get("WSFRAME_UVICORN_ANY_VERSION", "") in ("", "0") and not version_in(
        importlib.metadata.version("uvicorn"), SUPPORTED):
    raise RuntimeError(
        f"wsframe's uvicorn protocol supports uvicorn {SUPPORTED}, and uvicorn "
        f"{importlib.metadata.version('uvicorn')} is installed; install a supported release, use uvicorn's own "
        "--ws, or set WSFRAME_UVICORN_ANY_VERSION=1 to try it anyway"
    )

# What uvicorn's websockets-sansio implementation agrees to: 4 KiB windows.
DEFLATE_WINDOW_BITS = 12
_STATUSES = {status.value for status in http.HTTPStatus}
# One read buffer per event loop, shared by its connections: asyncio reads
# into it and calls buffer_updated() at once, the connection copies what it
# keeps, so a connection holds no buffer of its own (and no read allocates
# one: a 256 KiB bytes object per read, which glibc maps and unmaps each time).
READ_SIZE = 65536
_READ_BUFFERS: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, memoryview]" = weakref.WeakKeyDictionary()


def _read_buffer(loop: asyncio.AbstractEventLoop) -> memoryview:
    buffer = _READ_BUFFERS.get(loop)
    if buffer is None:
        buffer = _READ_BUFFERS[loop] = memoryview(bytearray(READ_SIZE))
    return buffer
_OPEN = State.OPEN


class WSFrameProtocol(asyncio.BufferedProtocol):
    """uvicorn's ASGI WebSocket protocol, on :class:`wsframe.ServerConnection`.

    Made by uvicorn as ``WSFrameProtocol(config, server_state, app_state)``
    for each connection its HTTP protocol upgrades."""

    #: Seconds the peer has to finish the closing handshake before the
    #: transport is aborted (RFC 6455 section 7.1.1: the server closes TCP).
    close_timeout = 10.0
    #: Seconds the application has, after the peer's last messages (before a
    #: close frame or a violation), to answer them before the close goes out.
    final_turn = 1.0

    def __init__(self, config: Any, server_state: Any, app_state: Dict[str, Any],
                 _loop: Optional[asyncio.AbstractEventLoop] = None) -> None:
        if not config.loaded:
            config.load()
        self.config = config
        self.app = config.loaded_app
        self.loop = _loop or asyncio.get_event_loop()
        self.logger = logging.getLogger("uvicorn.error")
        self.root_path = config.root_path
        self.asgi_version = config.asgi_version
        self.app_state = app_state

        # Shared server state
        self.connections = server_state.connections
        self.tasks = server_state.tasks
        self.default_headers = server_state.default_headers

        self.max_queue = max(config.ws_max_queue, 1)
        self.connection = ServerConnection(
            compression=DeflateParameters(server_max_window_bits=DEFLATE_WINDOW_BITS,
                                          client_max_window_bits=DEFLATE_WINDOW_BITS)
            if config.ws_per_message_deflate else None,
            max_message_size=config.ws_max_size,
            max_queue=self.max_queue,
        )
        self.transport: asyncio.Transport = None  # type: ignore[assignment]
        self.opened = False  # the 101 was sent
        self.server: Optional[Tuple[str, Optional[int]]] = None
        self.client: Optional[Tuple[str, int]] = None
        self.scheme = "ws"
        self.scope: Dict[str, Any] = {}

        # What the application is told, in order.
        self.queue: asyncio.Queue[Dict[str, Any]] = asyncio.Queue()
        self.handshake_complete = False  # the 101, or a refusal, was sent
        self.closed_for_app = False  # the application sent websocket.close, or the connection ended
        self.disconnected = False  # the transport is gone
        self.disconnect_queued = False
        # Messages handed to the application since it last asked for one
        # with none waiting: answers it may still owe.
        self.answers_owed = 0
        # Messages in the queue: reading stops while one waits, as in uvicorn's
        # own implementations.
        self.messages_waiting = 0
        self.initial_response: Optional[Tuple[int, List[Tuple[str, str]], bytes]] = None

        # Flow control
        self.reading_paused = False
        # The transport takes writes (asyncio's pause_writing/resume_writing);
        # send() waits on the event while it does not.
        self.writing = True
        self.writable = asyncio.Event()
        self.writable.set()
        # The peer's last messages went to the application; the output waits
        # for its turn to answer them (or final_turn seconds).
        self.final_turn_timer: Optional[asyncio.TimerHandle] = None
        self.holding_output = False
        # Waiting for the peer's answer to this side's close frame (section 7.1.1).
        self.close_timer: Optional[asyncio.TimerHandle] = None
        # Closing waits for the output to drain: a peer that does not read
        # would hold it forever, so the transport is aborted after close_timeout.
        self.abort_timer: Optional[asyncio.TimerHandle] = None
        self.transport_closed = False

        # Keepalive
        self.ping_interval = config.ws_ping_interval
        self.ping_timeout = config.ws_ping_timeout
        self.ping_timer: Optional[asyncio.TimerHandle] = None
        self.pong_timer: Optional[asyncio.TimerHandle] = None
        self.pending_ping_payload: Optional[bytes] = None
        self.ping_sent_at = 0.0
        self.last_ping_rtt = 0.0

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        transport = cast(asyncio.Transport, transport)
        self.connections.add(self)
        self.transport = transport
        self.read_buffer = _read_buffer(self.loop)
        self.server = get_local_addr(transport)
        self.client = get_remote_addr(transport)
        self.scheme = "wss" if is_ssl(transport) else "ws"
        self._trace("WebSocket connection made")

    def connection_lost(self, exc: Optional[Exception]) -> None:
        self.stop_keepalive()
        for timer in (self.close_timer, self.final_turn_timer, self.abort_timer):
            if timer is not None:
                timer.cancel()
        self.close_timer = self.final_turn_timer = self.abort_timer = None
        connection = self.connection
        if connection.state is not State.CLOSED:
            connection.receive_eof()
        # RFC 6455 section 7.1.5: no close frame came, so the code is 1006,
        # or 1005 once the handshake is over (uvicorn's choice).
        self.queue_disconnect(1005 if self.handshake_complete else 1006)
        self.connections.discard(self)
        self._trace("WebSocket connection lost")
        if self.opened:
            self.logger.info("connection closed")
        self.handshake_complete = self.closed_for_app = self.disconnected = True
        # Unblock a send() waiting to write: a transport lost while paused
        # never resumes writing.
        self.writing = True
        self.writable.set()
        if exc is None:
            self.transport.close()

    def eof_received(self) -> None:
        pass

    def pause_writing(self) -> None:
        self.writing = False
        self.writable.clear()

    def resume_writing(self) -> None:
        self.writing = True
        self.writable.set()
        self.flush()

    def data_received(self, data: bytes) -> None:
        # uvicorn's HTTP protocol hands over what came with the request here.
        self.connection.receive_data(data)
        self.take_events()
        self.flush()

    def get_buffer(self, sizehint: int) -> memoryview:
        return self.read_buffer

    def buffer_updated(self, nbytes: int) -> None:
        self.connection.receive_data(self.read_buffer[:nbytes])
        self.take_events()
        self.flush()

    def shutdown(self) -> None:
        """uvicorn is shutting down: close with 1012 (Service Restart)."""
        self.stop_keepalive()
        connection = self.connection
        if connection.state is State.OPEN and connection.can_send:
            self.queue_disconnect(CloseCode.SERVICE_RESTART)
            connection.send_close(CloseCode.SERVICE_RESTART, "")
            self.holding_output = False
            self.flush()
        elif not self.handshake_complete:
            self.send_500_response()
        self.close_transport()

    # The connection: its events to the application, its output to the transport

    def take_events(self) -> None:
        """Hand the connection's events to the application, as far as ws_max_queue allows."""
        connection = self.connection
        while self.queue.qsize() < self.max_queue or connection.state is State.CONNECTING:
            events = connection.events_received()
            if not events:
                break
            for event in events:
                if isinstance(event, BinaryMessage):
                    self.send_receive_event_to_app({"type": "websocket.receive", "bytes": event.data})
                elif isinstance(event, TextMessage):
                    self.send_receive_event_to_app({"type": "websocket.receive", "text": event.data})
                elif isinstance(event, Pong):
                    self.handle_pong(event.payload)
                elif isinstance(event, Close):
                    if connection.close_sent is None:
                        self.queue_disconnect(event.code, event.reason)
                elif isinstance(event, Request):
                    self.handle_connect(event)
            if not connection.receiving_paused:
                break  # it decoded all it had: no more events until more data
        if connection.state is State.CLOSING and connection.can_send and self.answers_owed \
                and not self.holding_output and not self.closed_for_app:
            # The peer's close frame came, or it broke the protocol, after
            # messages the application has not answered yet: the connection
            # sends its close frame after what is written meanwhile, so hold
            # the output until the application has had its turn.
            self.holding_output = True
            self.final_turn_timer = self.loop.call_later(self.final_turn, self.end_turn)

    def flush(self, reading: bool = True) -> None:
        """Write the connection's output while the transport takes it; act on
        its state; and (unless ``reading`` is false: the application sent)
        pause or resume reading."""
        connection = self.connection
        while self.writing and not self.holding_output and not self.transport_closed:
            output = connection.data_to_send()
            if not output:
                break
            write_output(self.transport, output)
            if not connection.receiving_paused or self.queue.qsize() >= self.max_queue:
                break
            # The output was over the connection's write limit, so it kept
            # input back; now written, that input can be decoded.
            self.take_events()
            reading = True
        state = connection.state
        if state is not _OPEN:
            self.not_open()
            state = connection.state
            reading = True
        if reading:
            self.update_reading(state)

    def update_reading(self, state: State) -> None:
        """Reading stops while a message waits for the application (as in
        uvicorn's own implementations), or while the connection, in ``state``,
        keeps input back."""
        connection = self.connection
        paused = self.messages_waiting > 0 and state is _OPEN or connection.receiving_paused
        if paused is not self.reading_paused and not self.transport_closed:
            self.reading_paused = paused
            if paused:
                self.transport.pause_reading()
            else:
                self.transport.resume_reading()

    def not_open(self) -> None:
        """The connection is closing, closed, or not yet open: close TCP once it says so."""
        connection = self.connection
        if connection.close_expected() and not self.transport_closed:
            failure = connection.failure
            if isinstance(failure, ProtocolError):
                self.logger.info("WebSocket connection failed: %d %s", failure.close_code, failure.reason)
                self.queue_disconnect(int(failure.close_code), failure.reason)
            elif isinstance(failure, InvalidRequest):
                self.logger.info("connection rejected (%d %s): %s", failure.status,
                                 http.HTTPStatus(failure.status).phrase, failure.detail)
            self.close_transport()

    def close_transport(self) -> None:
        """Close TCP (once the output drained), and stop waiting for the peer's close frame."""
        if self.close_timer is not None:
            self.close_timer.cancel()
            self.close_timer = None
        self.stop_keepalive()
        if not self.transport_closed:
            self.transport_closed = True
            self.transport.close()
            self.abort_timer = self.loop.call_later(self.close_timeout, self.abort_transport)

    def abort_transport(self) -> None:
        self.abort_timer = None
        # A transport without abort() (a test double) is closed instead.
        getattr(self.transport, "abort", self.transport.close)()

    def start_close_timer(self) -> None:
        """This side's close frame is out: the peer has close_timeout to answer it."""
        if self.close_timer is None and not self.transport_closed:
            self.close_timer = self.loop.call_later(self.close_timeout, self.close_timed_out)

    def close_timed_out(self) -> None:
        self.close_timer = None
        self.close_transport()

    def queue_disconnect(self, code: int, reason: Optional[str] = None) -> None:
        if not self.disconnect_queued:
            self.disconnect_queued = True
            message: Dict[str, Any] = {"type": "websocket.disconnect", "code": code}
            if reason is not None:
                message["reason"] = reason
            self.queue.put_nowait(message)

    def send_receive_event_to_app(self, message: Dict[str, Any]) -> None:
        if self.closed_for_app:
            # The application is past websocket.close: drop the message, but
            # keep reading until the peer's close frame answers ours.
            return
        self.queue.put_nowait(message)
        self.messages_waiting += 1
        self.answers_owed += 1

    # The opening handshake

    def handle_connect(self, request: Request) -> None:
        raw_path, _, query_string = request.target.partition("?")
        self.scope = {
            "type": "websocket",
            "asgi": {"version": self.asgi_version, "spec_version": "2.4"},
            "http_version": "1.1",
            "scheme": self.scheme,
            "server": self.server,
            "client": self.client,
            "root_path": self.root_path,
            "path": self.root_path + unquote(raw_path),
            "raw_path": self.root_path.encode("ascii") + raw_path.encode("ascii"),
            "query_string": query_string.encode("ascii"),
            "headers": [(name.lower().encode("ascii"), value.encode("latin-1")) for name, value in request.fields],
            "subprotocols": request.subprotocols,
            "state": self.app_state.copy(),
            "extensions": {"websocket.http.response": {}},
        }
        self.queue.put_nowait({"type": "websocket.connect"})
        task = self.loop.create_task(self.run_asgi())
        task.add_done_callback(self.tasks.discard)
        self.tasks.add(task)

    # Keepalive

    def start_keepalive(self) -> None:
        if self.ping_interval is not None and self.ping_interval > 0:
            self.schedule_ping()

    def stop_keepalive(self) -> None:
        if self.ping_timer is not None:
            self.ping_timer.cancel()
            self.ping_timer = None
        if self.pong_timer is not None:
            self.pong_timer.cancel()
            self.pong_timer = None
        self.pending_ping_payload = None

    def schedule_ping(self) -> None:
        assert self.ping_interval is not None
        self.ping_timer = self.loop.call_later(max(0.0, self.ping_interval - self.last_ping_rtt),
                                               self.send_keepalive_ping)

    def send_keepalive_ping(self) -> None:
        self.ping_timer = None
        if not self.connection.can_send or self.connection.state is not State.OPEN:
            return
        # A fresh payload names this ping, so a late pong to an earlier one is told apart.
        self.pending_ping_payload = os.urandom(4)
        self.ping_sent_at = self.loop.time()
        self.connection.send_ping(self.pending_ping_payload)
        self.flush()
        if self.ping_timeout is not None:
            self.pong_timer = self.loop.call_later(self.ping_timeout, self.keepalive_timeout)
        else:
            self.schedule_ping()

    def handle_pong(self, payload: bytes) -> None:
        # An unsolicited pong, or one to an earlier ping, is not the answer (section 5.5.3).
        if self.pending_ping_payload is None or payload != self.pending_ping_payload:
            return
        self.last_ping_rtt = self.loop.time() - self.ping_sent_at
        self.pending_ping_payload = None
        if self.pong_timer is not None:
            self.pong_timer.cancel()
            self.pong_timer = None
            self.schedule_ping()

    def keepalive_timeout(self) -> None:
        self.pong_timer = None
        self.pending_ping_payload = None
        if not self.connection.can_send:
            return
        self._trace("WebSocket keepalive ping timeout")
        self.queue_disconnect(CloseCode.INTERNAL_ERROR, "keepalive ping timeout")
        self.connection.fail(CloseCode.INTERNAL_ERROR, "keepalive ping timeout")
        self.holding_output = False
        self.flush()

    # ASGI

    async def run_asgi(self) -> None:
        try:
            result = await self.app(self.scope, self.receive, self.send)
        except ClientDisconnected:
            pass
        except BaseException:
            # After the 101, uvicorn's own implementations drop the
            # connection without a close frame, and its test_duplicate_handshake
            # pins that (the client sees 1006): the same here.
            self.logger.exception("Exception in ASGI application\n")
            self.send_500_response()
        else:
            if self.initial_response is not None and not self.handshake_complete:
                # A denial response the application started and did not finish.
                self.send_initial_response()
            elif not self.handshake_complete:
                self.logger.error("ASGI callable returned without completing handshake.")
                self.send_500_response()
            elif result is not None:
                self.logger.error("ASGI callable should return None, but returned '%s'.", result)
        # The application is done: it has answered all it will.
        self.end_turn()
        if self.close_timer is None:
            self.close_transport()

    def send_500_response(self) -> None:
        if self.handshake_complete:
            return
        if self.initial_response is not None:
            # The application started its own denial: send what it gave.
            self.send_initial_response()
            return
        # The handshake is not complete for the disconnect code: a client that
        # never got its 101 left with 1006 (section 7.1.5).
        self.reject(500, [], b"Internal Server Error", complete=False)

    def send_initial_response(self) -> None:
        assert self.initial_response is not None
        status, headers, body = self.initial_response
        self.queue_disconnect(1006)
        self.reject(status, headers, body)

    def reject(self, status: int, headers: List[Tuple[str, str]], body: bytes, complete: bool = True) -> None:
        """Refuse the handshake with an HTTP response; ``complete``: it is the
        application's answer (uvicorn then reports 1005, not 1006, on loss)."""
        self.closed_for_app = True
        self.handshake_complete = self.handshake_complete or complete
        if self.connection.state is State.CONNECTING and self.connection.request is not None:
            self.logger.info("connection rejected (%d %s)", status, http.HTTPStatus(status).phrase
                             if status in _STATUSES else "")
            self.connection.reject(status, body, headers)
            self.flush()
        self.close_transport()

    async def send(self, message: Dict[str, Any]) -> None:
        await self.writable.wait()
        if self.disconnected:
            raise ClientDisconnected()
        message_type = message["type"]
        if not self.handshake_complete and self.initial_response is None:
            if message_type == "websocket.accept":
                self.accept(message)
            elif message_type == "websocket.close":
                self.queue_disconnect(1006)
                self.logger.info('%s - "WebSocket %s" 403', get_client_addr(self.scope),  # type: ignore[arg-type]
                                 get_path_with_query_string(self.scope))  # type: ignore[arg-type]
                self.reject(403, [], b"")
            elif message_type == "websocket.http.response.start":
                status = message["status"]
                if not 100 <= status < 600:
                    raise RuntimeError("Invalid HTTP status code '%d' in response." % status)
                self.logger.info('%s - "WebSocket %s" %d', get_client_addr(self.scope),  # type: ignore[arg-type]
                                 get_path_with_query_string(self.scope), status)  # type: ignore[arg-type]
                headers = [(name.decode("latin-1"), value.decode("latin-1"))
                           for name, value in message.get("headers", [])]
                self.initial_response = (status, headers, b"")
            else:
                raise RuntimeError(
                    "Expected ASGI message 'websocket.accept', 'websocket.close' "
                    f"or 'websocket.http.response.start' but got '{message_type}'."
                )
        elif not self.closed_for_app and self.initial_response is None:
            connection = self.connection
            if message_type == "websocket.send":
                if not connection.can_send:
                    raise ClientDisconnected()
                data = message.get("bytes")
                if data is not None:
                    connection.send_binary(data)
                elif message.get("text") is not None:
                    connection.send_text(message["text"])
                self.flush(reading=False)
            elif message_type == "websocket.close":
                self.closed_for_app = True
                if connection.can_send:
                    code = message.get("code", 1000)
                    reason = message.get("reason", "") or ""
                    self.queue_disconnect(code, reason)
                    connection.send_close(code, reason)
                    # Its close is its answer: nothing it owes comes after it.
                    self.end_turn()
                    self.flush()
                    self.start_close_timer()
            else:
                raise RuntimeError(
                    f"Expected ASGI message 'websocket.send' or 'websocket.close', but got '{message_type}'."
                )
        elif self.initial_response is not None and not self.handshake_complete:
            if message_type != "websocket.http.response.body":
                raise RuntimeError(f"Expected ASGI message 'websocket.http.response.body' but got '{message_type}'.")
            status, headers, body = self.initial_response
            self.initial_response = (status, headers, body + message["body"])
            if not message.get("more_body", False):
                self.send_initial_response()
        elif self.closed_for_app and self.transport.is_closing() and message_type in ("websocket.send",
                                                                                     "websocket.close"):
            raise ClientDisconnected()
        else:
            raise RuntimeError(f"Unexpected ASGI message '{message_type}', after sending 'websocket.close'.")

    def accept(self, message: Dict[str, Any]) -> None:
        self.logger.info('%s - "WebSocket %s" [accepted]', get_client_addr(self.scope),  # type: ignore[arg-type]
                         get_path_with_query_string(self.scope))  # type: ignore[arg-type]
        headers = [(name.decode("latin-1").lower(), value.decode("latin-1"))
                   for name, value in self.default_headers + list(message.get("headers", []))]
        if self.transport.is_closing() or self.connection.state is not State.CONNECTING:
            return
        # The application names the subprotocol (ASGI); it must be one the
        # client offered (RFC 6455 section 4.2.2), or accept() refuses it.
        self.connection.accept(subprotocol=message.get("subprotocol") or None, headers=headers)
        self.handshake_complete = self.opened = True
        self.logger.info("connection open")
        self.start_keepalive()
        self.take_events()  # frames that came with the request
        self.flush()

    async def receive(self) -> Dict[str, Any]:
        if self.queue.empty():
            # The application comes back for more: it has answered what it took.
            self.answers_owed = 0
            if self.holding_output:
                self.end_turn()
        message = await self.queue.get()
        if message["type"] == "websocket.receive":
            self.messages_waiting -= 1
        if self.reading_paused:
            if self.connection.receiving_paused:
                if self.queue.qsize() < self.max_queue:
                    # What the connection kept back while the queue was full.
                    self.take_events()
                    self.flush()
            elif not self.messages_waiting:
                self.update_reading(self.connection.state)
        return message

    def end_turn(self) -> None:
        """The application has had its turn: let the held output go (the close frame last)."""
        if self.final_turn_timer is not None:
            self.final_turn_timer.cancel()
            self.final_turn_timer = None
        if self.holding_output:
            self.holding_output = False
            self.flush()

    def _trace(self, text: str) -> None:
        if self.logger.level <= TRACE_LOG_LEVEL:
            prefix = "%s:%d - " % self.client if self.client else ""
            self.logger.log(TRACE_LOG_LEVEL, "%s%s", prefix, text)
