"""An ASGI WebSocket protocol for uvicorn with all its framing on wsframe.

    uvicorn app:app --ws wsframe.integrations.uvicorn:WSFrameProtocol

or ``uvicorn.Config(app, ws=WSFrameProtocol)`` in code. uvicorn's HTTP
protocol hands an upgrade request to the class; from there wsframe does the
work: the opening handshake (RFC 6455 section 4.2, wsframe's own checks),
permessage-deflate (RFC 7692), the frames both ways (``MessageDecoder``,
``encode_frame``, ``Deflater``), pings, and the close handshake (section 7).

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
  Reading the socket stops as soon as one waits, as in uvicorn's own
  implementations, and what one read carries is decoded (and inflated) no
  further than ``ws_max_queue`` waiting messages; the rest is kept undecoded
  until the application catches up;
- ``ws_ping_interval`` / ``ws_ping_timeout``: server pings, and a close with
  1011 when a pong does not come in time;
- ``ws_per_message_deflate``: negotiate permessage-deflate (windows of 12 bits
  each way, as uvicorn does).

wsframe's strictness holds: every rule of RFC 6455 section 5 is enforced, and
a violation closes the connection with its code (1002, 1007, 1009) and reason.
"""

from __future__ import annotations

import asyncio
import email.utils
import http
import importlib.metadata
import logging
import os
from typing import Any, Dict, List, Optional, Tuple, cast
from urllib.parse import unquote

from .. import _handshake
from . import version_in
from .._backend import MessageDecoder, encode_frame
from .._close import close_payload
from .._deflate import DeflateParameters, Deflater, NegotiationError, negotiate_deflate
from .._errors import ProtocolError
from .._events import BinaryMessage, Close, Ping, Pong, TextMessage
from .._types import CloseCode, Opcode, Role

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

__all__ = ["SUPPORTED", "WSFrameProtocol"]

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

# Messages of this size and up are sent compressed when permessage-deflate
# is agreed (RFC 7692 section 6: the sender chooses per message); smaller
# ones cost more to deflate than they could save.
COMPRESS_MIN_SIZE = 64
# What uvicorn's websockets-sansio implementation agrees to: 4 KiB windows.
DEFLATE_WINDOW_BITS = 12
_PHRASES = {status.value: status.phrase for status in http.HTTPStatus}


def _http_response(status: int, headers: List[Tuple[str, str]], body: bytes) -> bytes:
    """An HTTP/1.1 response that ends the connection, with the usual headers
    the application did not give (names compared without case)."""
    given = {name.lower() for name, _ in headers}
    defaults = [("Date", email.utils.formatdate(usegmt=True)), ("Connection", "close"),
                ("Content-Length", str(len(body))), ("Content-Type", "text/plain; charset=utf-8")]
    headers = headers + [(name, value) for name, value in defaults if name.lower() not in given]
    lines = [f"HTTP/1.1 {status} {_PHRASES.get(status, '')}".rstrip()]
    lines += [f"{name}: {value}" for name, value in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class WSFrameProtocol(asyncio.Protocol):
    """uvicorn's ASGI WebSocket protocol, on wsframe.

    Made by uvicorn as ``WSFrameProtocol(config, server_state, app_state)``
    for each connection its HTTP protocol upgrades."""

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

        # Connection state
        self.transport: asyncio.Transport = None  # type: ignore[assignment]
        self.server: Optional[Tuple[str, Optional[int]]] = None
        self.client: Optional[Tuple[str, int]] = None
        self.scheme = "ws"
        self.scope: Dict[str, Any] = {}

        # The opening handshake
        self.request_head = bytearray()  # the upgrade request until its empty line
        self.key = ""  # the client's Sec-WebSocket-Key, once checked
        self.deflate: Optional[DeflateParameters] = None
        self.extension_header: Optional[str] = None
        self.early_data = bytearray()  # frames that came before the handshake finished

        # WebSocket state
        self.queue: asyncio.Queue[Dict[str, Any]] = asyncio.Queue()
        self.handshake_initiated = False
        self.handshake_complete = False  # the 101, or a refusal, was sent
        self.accepted = False  # the 101 was sent
        self.close_sent = False
        self.disconnected = False
        self.close_timer: Optional[asyncio.TimerHandle] = None
        self.close_timeout = 10.0
        self.initial_response: Optional[Tuple[int, List[Tuple[str, str]], bytes]] = None
        self.decoder: Any = None
        self.deflater: Optional[Deflater] = None

        # Flow control: reading stops while a received message waits.
        self.read_paused = False
        self.writable = asyncio.Event()
        self.writable.set()

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
        self.server = get_local_addr(transport)
        self.client = get_remote_addr(transport)
        self.scheme = "wss" if is_ssl(transport) else "ws"
        self._trace("WebSocket connection made")

    def connection_lost(self, exc: Optional[Exception]) -> None:
        self.stop_keepalive()
        # RFC 6455 section 7.1.5: no close frame came, so the code is 1006,
        # or 1005 once the handshake is over (uvicorn's choice).
        code = 1005 if self.handshake_complete else 1006
        self.queue.put_nowait({"type": "websocket.disconnect", "code": code})
        self.connections.discard(self)
        self._trace("WebSocket connection lost")
        self.handshake_complete = True
        self.disconnected = True
        # Unblock a send() waiting to write: a transport lost while paused
        # never resumes writing.
        self.writable.set()
        if self.close_timer is not None:
            self.close_timer.cancel()
            self.close_timer = None
        if exc is None:
            self.transport.close()

    def eof_received(self) -> None:
        pass

    def pause_writing(self) -> None:
        self.writable.clear()

    def resume_writing(self) -> None:
        self.writable.set()

    def shutdown(self) -> None:
        """uvicorn is shutting down: close with 1012 (Service Restart)."""
        self.stop_keepalive()
        if self.close_sent:
            if self.close_timer is not None:
                self.close_timer.cancel()
                self.close_timer = None
            self.transport.close()
            return
        if self.accepted:
            self.queue.put_nowait({"type": "websocket.disconnect", "code": CloseCode.SERVICE_RESTART})
            self.send_close_frame(CloseCode.SERVICE_RESTART, "")
        else:
            self.send_500_response()
        self.transport.close()

    def data_received(self, data: bytes) -> None:
        if not self.handshake_initiated:
            self.request_head += data
            end = self.request_head.find(b"\r\n\r\n")
            if end < 0:
                if len(self.request_head) > _handshake.MAX_REQUEST_SIZE:
                    self.refuse(_handshake.HandshakeError(431, "Request Header Fields Too Large",
                                                          "request head too long"))
                return
            head, data = bytes(self.request_head[: end + 4]), bytes(self.request_head[end + 4 :])
            self.request_head = bytearray()
            self.handle_connect(head)
        if not data or self.close_sent and not self.accepted:
            return
        if not self.accepted:
            # A client may not send frames before the 101 (section 4.1); keep
            # them for when the application accepts, and stop reading meanwhile.
            self.early_data += data
            if not self.read_paused:
                self.read_paused = True
                self.transport.pause_reading()
            return
        self.handle_frames(data)

    # The opening handshake

    def handle_connect(self, head: bytes) -> None:
        self.handshake_initiated = True
        try:
            request = _handshake.parse_request(head)
            self.key = _handshake.check(request)
            if self.config.ws_per_message_deflate:
                offers = request.header("sec-websocket-extensions")
                agreed = negotiate_deflate(offers, server_max_window_bits=DEFLATE_WINDOW_BITS,
                                           client_max_window_bits=DEFLATE_WINDOW_BITS) if offers else None
                if agreed is not None:
                    self.extension_header, self.deflate = agreed
        except NegotiationError as error:
            self.refuse(_handshake.HandshakeError(400, "Bad Request", str(error)))
            return
        except _handshake.HandshakeError as error:
            self.refuse(error)
            return
        raw_path, _, query_string = request.target.partition("?")
        subprotocols: List[str] = []
        for value in request.headers.get("sec-websocket-protocol", []):
            subprotocols.extend(token.strip() for token in value.split(","))
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
            "subprotocols": subprotocols,
            "state": self.app_state.copy(),
            "extensions": {"websocket.http.response": {}},
        }
        self.queue.put_nowait({"type": "websocket.connect"})
        task = self.loop.create_task(self.run_asgi())
        task.add_done_callback(self.tasks.discard)
        self.tasks.add(task)

    def refuse(self, error: _handshake.HandshakeError) -> None:
        """Answer a request that cannot be upgraded, and close."""
        self.logger.info("WebSocket handshake refused: %s", error)
        self.handshake_complete = self.close_sent = True
        self.transport.write(error.response)
        self.transport.close()

    # Frames

    def handle_frames(self, data: bytes) -> None:
        """Decode what arrived, as far as the application's queue allows, and act on it."""
        if self.transport.is_closing():
            return  # failed, or closed after the close handshake: nothing more is read
        while True:
            room = max(self.config.ws_max_queue - self.queue.qsize(), 1)
            failure: Optional[ProtocolError] = None
            try:
                events = self.decoder.feed(data, max_events=room)
            except ProtocolError as error:
                # What the read completed before the violation came first (section 7.1.7).
                events, failure = error.events, error
            for event in events:
                if isinstance(event, TextMessage):
                    self.send_receive_event_to_app({"type": "websocket.receive", "text": event.data})
                elif isinstance(event, BinaryMessage):
                    self.send_receive_event_to_app({"type": "websocket.receive", "bytes": event.data})
                elif isinstance(event, Ping):
                    if not self.transport.is_closing():
                        self.transport.write(encode_frame(Opcode.PONG, event.payload))
                elif isinstance(event, Pong):
                    self.handle_pong(event.payload)
                elif isinstance(event, Close):
                    self.handle_close(event)
                    return
            if failure is not None:
                self.fail(failure)
                return
            if not self.decoder.undecoded or self.queue.qsize() >= self.config.ws_max_queue:
                # What is kept waits for the application to take its messages.
                return
            data = b""

    def send_receive_event_to_app(self, message: Dict[str, Any]) -> None:
        if self.close_sent:
            # The application is past websocket.close: drop the message, but
            # keep reading until the peer's close frame answers ours.
            return
        self.queue.put_nowait(message)
        if not self.read_paused:
            self.read_paused = True
            self.transport.pause_reading()

    def handle_close(self, event: Close) -> None:
        if self.close_sent:
            # The peer answered our close frame: the closing handshake is complete.
            if self.close_timer is not None:
                self.close_timer.cancel()
                self.close_timer = None
                self.transport.close()
            return
        if not self.transport.is_closing():
            self.queue.put_nowait({"type": "websocket.disconnect", "code": event.code, "reason": event.reason})
            # Section 5.5.1: echo the status code; a close with none gets none.
            self.send_close_frame(None if event.code == CloseCode.NO_STATUS_RCVD else event.code, "")
            self.transport.close()

    def fail(self, error: ProtocolError) -> None:
        """_Fail the WebSocket Connection_ (section 7.1.7): say why, then close."""
        self.logger.info("WebSocket connection failed: %d %s", error.close_code, error.reason)
        self.queue.put_nowait({"type": "websocket.disconnect", "code": int(error.close_code), "reason": error.reason})
        if not self.close_sent:
            self.send_close_frame(error.close_code, error.reason)
        self.transport.close()

    def send_close_frame(self, code: Optional[int], reason: str) -> None:
        self.close_sent = True
        self.transport.write(encode_frame(Opcode.CLOSE, close_payload(code, reason) if code is not None else b""))

    def send_data_frame(self, opcode: Opcode, payload: bytes) -> None:
        if self.deflater is not None and len(payload) >= COMPRESS_MIN_SIZE:
            self.transport.write(encode_frame(opcode, self.deflater.compress(payload), rsv1=True))
        else:
            self.transport.write(encode_frame(opcode, payload))

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
        if self.close_sent or self.transport.is_closing():
            return
        # A fresh payload names this ping, so a late pong to an earlier one is told apart.
        self.pending_ping_payload = os.urandom(4)
        self.ping_sent_at = self.loop.time()
        self.transport.write(encode_frame(Opcode.PING, self.pending_ping_payload))
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
        if self.close_sent or self.transport.is_closing():
            return
        self._trace("WebSocket keepalive ping timeout")
        self.queue.put_nowait({"type": "websocket.disconnect", "code": CloseCode.INTERNAL_ERROR,
                               "reason": "keepalive ping timeout"})
        self.send_close_frame(CloseCode.INTERNAL_ERROR, "keepalive ping timeout")
        self.transport.close()

    # ASGI

    async def run_asgi(self) -> None:
        try:
            result = await self.app(self.scope, self.receive, self.send)
        except ClientDisconnected:
            pass
        except BaseException:
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
        if self.close_timer is None:
            self.transport.close()

    def send_500_response(self) -> None:
        if self.handshake_complete:
            return
        if self.initial_response is not None:
            # The application started its own denial: send what it gave.
            self.send_initial_response()
            return
        # The handshake is not complete for the disconnect code: a client that
        # never got its 101 left with 1006 (section 7.1.5).
        self.close_sent = True
        self.transport.write(_http_response(500, [], b"Internal Server Error"))

    def send_initial_response(self) -> None:
        assert self.initial_response is not None
        status, headers, body = self.initial_response
        self.queue.put_nowait({"type": "websocket.disconnect", "code": 1006})
        self.handshake_complete = self.close_sent = True
        self.transport.write(_http_response(status, headers, body))
        self.transport.close()

    async def send(self, message: Dict[str, Any]) -> None:
        await self.writable.wait()
        if self.disconnected:
            raise ClientDisconnected()
        message_type = message["type"]
        if not self.handshake_complete and self.initial_response is None:
            if message_type == "websocket.accept":
                self.accept(message)
            elif message_type == "websocket.close":
                self.queue.put_nowait({"type": "websocket.disconnect", "code": 1006})
                self.logger.info('%s - "WebSocket %s" 403', get_client_addr(self.scope),  # type: ignore[arg-type]
                                 get_path_with_query_string(self.scope))  # type: ignore[arg-type]
                self.handshake_complete = self.close_sent = True
                self.transport.write(_http_response(403, [], b""))
                self.transport.close()
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
        elif not self.close_sent and self.initial_response is None:
            if message_type == "websocket.send":
                data = message.get("bytes")
                if data is not None:
                    self.send_data_frame(Opcode.BINARY, data)
                elif message.get("text") is not None:
                    self.send_data_frame(Opcode.TEXT, message["text"].encode("utf-8"))
            elif message_type == "websocket.close":
                if not self.transport.is_closing():
                    code = message.get("code", 1000)
                    reason = message.get("reason", "") or ""
                    self.queue.put_nowait({"type": "websocket.disconnect", "code": code, "reason": reason})
                    self.send_close_frame(code, reason)
                    if self.read_paused:
                        # The peer's close frame must still be read.
                        self.read_paused = False
                        self.transport.resume_reading()
                    self.close_timer = self.loop.call_later(self.close_timeout, self.transport.close)
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
        elif self.close_sent and self.transport.is_closing() and message_type in ("websocket.send",
                                                                                   "websocket.close"):
            raise ClientDisconnected()
        else:
            raise RuntimeError(f"Unexpected ASGI message '{message_type}', after sending 'websocket.close'.")

    def accept(self, message: Dict[str, Any]) -> None:
        self.logger.info('%s - "WebSocket %s" [accepted]', get_client_addr(self.scope),  # type: ignore[arg-type]
                         get_path_with_query_string(self.scope))  # type: ignore[arg-type]
        headers = [(name.decode("latin-1").lower(), value.decode("latin-1"))
                   for name, value in self.default_headers + list(message.get("headers", []))]
        subprotocol = message.get("subprotocol")
        if subprotocol:
            headers.append(("Sec-WebSocket-Protocol", subprotocol))
        if self.extension_header is not None:
            headers.append(("Sec-WebSocket-Extensions", self.extension_header))
        if self.transport.is_closing() or self.close_sent:
            return
        self.handshake_complete = self.accepted = True
        self.transport.write(_handshake.switching_protocols(self.key, tuple(headers)))
        self.decoder = MessageDecoder(Role.SERVER, max_frame_size=None, max_message_size=self.config.ws_max_size,
                                      deflate=self.deflate)
        if self.deflate is not None:
            self.deflater = Deflater(self.deflate, Role.SERVER)
        self.start_keepalive()
        if self.early_data:
            data, self.early_data = bytes(self.early_data), bytearray()
            self.read_paused = False
            self.transport.resume_reading()
            self.handle_frames(data)

    async def receive(self) -> Dict[str, Any]:
        message = await self.queue.get()
        if self.read_paused and self.queue.empty() and not self.transport.is_closing():
            self.read_paused = False
            if self.decoder is not None and self.decoder.undecoded:
                # Messages kept undecoded when the queue was full come first.
                self.handle_frames(b"")
            if not self.read_paused:
                self.transport.resume_reading()
        return message

    def _trace(self, text: str) -> None:
        if self.logger.level <= TRACE_LOG_LEVEL:
            prefix = "%s:%d - " % self.client if self.client else ""
            self.logger.log(TRACE_LOG_LEVEL, "%s%s", prefix, text)
