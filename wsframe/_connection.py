"""The connection layer: one WebSocket connection's protocol, sans-I/O.

:class:`ServerConnection` and :class:`ClientConnection` own every decision
RFC 6455 and RFC 7692 leave to an endpoint, so that the server or client
built on them is only I/O: it hands over the bytes it reads
(:meth:`~Connection.receive_data`, :meth:`~Connection.receive_eof`), acts
on the events (:meth:`~Connection.events_received`), writes the bytes the
connection wants sent (:meth:`~Connection.data_to_send`) and closes the
transport when :meth:`~Connection.close_expected` says so. No sockets, no
timers, no event loop: timeouts are the I/O layer's, and everything it
needs to run them shows in :attr:`~Connection.state`.

The method names are python-websockets' sans-I/O ones, so code and habits
carry over; the events are wsframe's own.
"""

from __future__ import annotations

from typing import Any, Collection, List, Optional, Sequence, Tuple, Union

from . import _backend
from ._close import close_payload
from ._deflate import DeflateParameters, Deflater, NegotiationError, accept_deflate_response, deflate_offer, \
    negotiate_deflate
from ._errors import InvalidState, ProtocolError
from ._events import Close, Event, Ping
from .handshake import (
    MAX_HEAD_SIZE,
    Field,
    HandshakeError,
    InvalidRequest,
    InvalidResponse,
    Request,
    Response,
    WebSocketURI,
    accept_response,
    check_request,
    check_response,
    client_request,
    http_response,
    parse_request,
    parse_response,
    parse_uri,
    select_subprotocol,
)
from ._rfc6455 import MAX_CONTROL_PAYLOAD_LENGTH, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG, OP_TEXT, header_length
from ._types import DEFAULT_MAX_SIZE, SELECTED, CloseCode, Role, State

__all__ = [
    "COMPRESS_MIN_SIZE",
    "DEFAULT_DEFLATE_OFFER",
    "DEFAULT_MAX_QUEUE",
    "DEFAULT_WRITE_LIMIT",
    "ClientConnection",
    "Connection",
    "ConnectionEvent",
    "InvalidState",
    "ServerConnection",
    "State",
]

#: With permessage-deflate agreed, messages of this size and up are sent
#: compressed (RFC 7692 section 6: the sender chooses per message); deflating
#: smaller ones costs more than the bytes it could save.
COMPRESS_MIN_SIZE = 64

#: Default ``max_queue``: events decoded and not yet taken, past which the
#: connection stops decoding what it received.
DEFAULT_MAX_QUEUE = 16

#: Default ``write_limit``: bytes waiting in :meth:`Connection.data_to_send`,
#: past which the connection stops decoding (so a peer that does not read
#: cannot make it answer without end).
DEFAULT_WRITE_LIMIT = 65536

#: Everything :meth:`Connection.events_received` can return: the peer's
#: messages and control frames, and the handshake's :class:`Request`
#: (server side) or :class:`Response` (client side).
ConnectionEvent = Union[Event, Request, Response]


_CONNECTING, _OPEN, _CLOSING, _CLOSED = State.CONNECTING, State.OPEN, State.CLOSING, State.CLOSED
# The largest pong a connection sends: a masked frame of 125 bytes.
_MAX_PONG_FRAME = header_length(MAX_CONTROL_PAYLOAD_LENGTH, True) + MAX_CONTROL_PAYLOAD_LENGTH


class Connection:
    """What both sides of a connection share: framing, control frames and closing.

    Not made directly: use :class:`ServerConnection` or :class:`ClientConnection`.

    ``max_message_size`` bounds a message (checked from the frame header, or
    while a compressed message inflates: 1009 beyond it; ``None`` lifts it)
    and ``max_frame_size`` a frame (``None``: only the message limit).
    ``max_queue`` bounds the events decoded and not yet taken, and
    ``write_limit`` the bytes waiting to be sent: past either, the
    connection keeps what it received undecoded (:attr:`receiving_paused`)
    and decodes it as :meth:`events_received` asks for more.
    With ``auto_pong`` a ping is answered with a pong carrying its payload
    (RFC 6455 section 5.5.2); with ``auto_close`` a close frame is answered
    with one echoing its code (section 5.5.1). The events still reach the
    I/O layer either way.
    """

    def __init__(
        self,
        role: Role,
        *,
        max_message_size: Optional[int],
        max_frame_size: Optional[int],
        max_queue: int,
        write_limit: int,
        auto_pong: bool,
        auto_close: bool,
    ) -> None:
        if max_queue < 1:
            raise ValueError(f"max_queue must be at least 1, not {max_queue}")
        #: The side this connection is: ``Role.SERVER`` or ``Role.CLIENT``.
        self.role = role
        self.max_message_size = max_message_size
        self.max_frame_size = max_frame_size
        self.max_queue = max_queue
        self.write_limit = write_limit
        self.auto_pong = auto_pong
        self.auto_close = auto_close
        #: The subprotocol agreed in the handshake, or ``None``.
        self.subprotocol: Optional[str] = None
        #: The permessage-deflate parameters agreed in the handshake, or ``None``.
        self.deflate: Optional[DeflateParameters] = None
        #: Why the connection failed: the peer's :class:`ProtocolError`, or
        #: the :class:`HandshakeError` that ended the handshake; else ``None``.
        self.failure: Optional[Exception] = None
        #: The peer's close frame, once it came.
        self.close_received: Optional[Close] = None
        #: This side's close frame, once it was queued (code 1005: none sent).
        self.close_sent: Optional[Close] = None
        #: CONNECTING, OPEN, CLOSING or CLOSED (:class:`State`); read it, the
        #: connection sets it.
        self.state: State = _CONNECTING
        #: Whether ``send_*()`` accepts frames now: the connection is OPEN, or
        #: CLOSING before this side's close frame was queued (answers to the
        #: messages that came before the peer's close, or before a violation).
        self.can_send = False
        #: Whether the connection keeps received bytes undecoded (its queue of
        #: events or its output is over its limit, or the handshake is not
        #: answered yet): stop reading the socket while it is true.
        #: :meth:`events_received` decodes them as it is called.
        self.receiving_paused = False
        self._events: List[Any] = []
        self._output: List[bytes] = []
        self._output_size = 0
        self._head: Optional[bytearray] = bytearray()  # the handshake's head while it arrives (then None)
        self._input = bytearray()  # received and not yet handed to the decoder
        self._decoder: Any = None
        self._feed: Any = None
        self._deflater: Optional[Deflater] = None
        self._encode = _backend.encode_frame
        self._mask = role is Role.CLIENT  # RFC 6455 section 5.3: clients mask, servers do not
        self._plain = False  # frames go out unmasked and uncompressed (a server without deflate)
        self._reading = False  # frames are decoded (OPEN until a close frame or a violation)
        # A close frame to queue once the I/O layer has taken the events
        # before it: so the answers to them go out first (section 7.1.7
        # fails a connection at the offending frame, not before it).
        self._pending_close: Optional[Tuple[Optional[int], str]] = None
        self._close_transport = False

    # --- the state ---------------------------------------------------------

    @property
    def close_code(self) -> Optional[int]:
        """The code of the peer's close frame; 1005 if it carried none, 1006
        if the connection ended without one; ``None`` while it is not over."""
        if self.close_received is not None:
            return self.close_received.code
        return CloseCode.ABNORMAL_CLOSURE if self.state is _CLOSED else None

    @property
    def close_reason(self) -> str:
        """The reason in the peer's close frame, or ``""``."""
        return self.close_received.reason if self.close_received is not None else ""

    @property
    def bytes_to_send(self) -> int:
        """How many bytes wait in :meth:`data_to_send`."""
        return self._output_size

    def close_expected(self) -> bool:
        """Whether the I/O layer should close the transport once it has written
        :meth:`data_to_send`'s bytes.

        A server closes TCP as soon as the closing handshake is over (RFC 6455
        section 7.1.1); a client lets the server close it first, unless the
        connection failed, and closes it itself when :meth:`receive_eof` came
        or a timeout of its own ran out."""
        return self._close_transport

    # --- input ----------------------------------------------------------------

    def receive_data(self, data: Union[bytes, bytearray, memoryview]) -> None:
        """Take bytes read from the transport (any chunking; what is kept is
        copied, so ``data`` may be a view of a buffer the caller reuses).

        What is over ``max_queue`` events or ``write_limit`` bytes of output
        is kept undecoded; :meth:`events_received` decodes it when asked
        (and so does ``receive_data(b"")``)."""
        if not self._reading:
            if self.state is _CONNECTING:
                if self._head is None:
                    self._input += data  # frames sent before the handshake completed
                    self.receiving_paused = bool(self._input)
                else:
                    self._receive_head(self._head, data)
            # After a close frame or a violation, what arrives is discarded
            # (RFC 6455 section 1.4, 7.1.7).
            return
        # Decode what fits under max_queue events and write_limit bytes of
        # output; keep the rest, in order, for events_received() to decode.
        while True:
            room = self.max_queue - len(self._events)
            output = self._output_size
            if room <= 0 or output >= self.write_limit:
                if data:
                    self._input += data
                self.receiving_paused = bool(self._input) or self._decoder.undecoded > 0
                return
            if self.auto_pong and output + room * _MAX_PONG_FRAME > self.write_limit:
                # Each event may be a ping this decode answers: no more of them
                # than the pongs that fit under write_limit.
                room = 1 + (self.write_limit - output) // _MAX_PONG_FRAME
            if self._input:
                self._input += data
                data, self._input = self._input, bytearray()
            try:
                events = self._feed(data, room)
            except ProtocolError as error:
                # What the bytes completed before the violation comes first;
                # the close frame waits until it has been taken and answered.
                events = error.events
                self._reading = False
                self._input = bytearray()
                self.receiving_paused = False
                self.failure = error
                self._pending_close = (int(error.close_code), error.reason)
                self.state = _CLOSING
            if not events:
                self.receiving_paused = False
                return
            for event in events:
                kind = type(event)
                if kind is Ping:
                    if self.auto_pong and self.can_send:
                        self._queue_frame(OP_PONG, event.payload)
                elif kind is Close:
                    self._close_received(event)
            if self._events:
                self._events += events
            else:
                self._events = events
            # The decoder keeps bytes back only when it stopped at max_events.
            if len(events) < room or not self._reading:
                self.receiving_paused = False
                return
            data = b""

    def receive_eof(self) -> None:
        """The peer closed its side of TCP: the connection is over, with code
        1006 unless a close frame came first (RFC 6455 section 7.1.5)."""
        if self.state is _CONNECTING and self.failure is None:
            self.failure = (InvalidResponse if self.role is Role.CLIENT else HandshakeError)(
                "the peer closed the connection during the opening handshake")
        self._reading = self.can_send = self.receiving_paused = False
        self._pending_close = None
        self.state = _CLOSED
        self._close_transport = True

    def events_received(self) -> List[ConnectionEvent]:
        """The events since the last call, in order; the connection forgets them.

        When none wait and the connection kept input back (its queue or its
        output was over its limit), it decodes the next batch now: so call it
        until it returns ``[]``, writing :meth:`data_to_send` as you go."""
        events = self._events
        if events:
            self._events = []
            return events
        if self.receiving_paused and self._reading:
            self.receive_data(b"")
            events = self._events
            if events:
                self._events = []
        return events

    # --- output -----------------------------------------------------------------

    def data_to_send(self) -> List[bytes]:
        """The bytes to write to the transport, in order; the connection forgets them.

        A close frame the connection owes (an echo of the peer's, or the one
        failing the connection) joins them once every event before it has been
        taken, after whatever was sent meanwhile."""
        if self._pending_close is not None and not self._events:
            code, reason = self._pending_close
            self._pending_close = None
            self._queue_close(code, reason)
        output = self._output
        if output:
            self._output = []
            self._output_size = 0
        return output

    def send_text(self, data: str) -> None:
        """Send a text message (compressed when permessage-deflate is agreed and it is large enough)."""
        if type(data) is not str:
            raise TypeError(f"send_text() takes a str, not {type(data).__name__}")
        self._send_message(OP_TEXT, data.encode("utf-8"))

    def send_binary(self, data: Union[bytes, bytearray, memoryview]) -> None:
        """Send a binary message (compressed when permessage-deflate is agreed and it is large enough)."""
        if self._plain and self.can_send:
            # A server's frame, not compressed: the common case, in one call.
            frame = self._encode(OP_BINARY, data)
            self._output.append(frame)
            self._output_size += len(frame)
        else:
            self._send_message(OP_BINARY, data)

    def send_ping(self, data: Union[bytes, bytearray, memoryview] = b"") -> None:
        """Send a ping (RFC 6455 section 5.5.2): 125 bytes of payload at most."""
        self._check_sending("send_ping")
        self._queue_frame(OP_PING, data)

    def send_pong(self, data: Union[bytes, bytearray, memoryview] = b"") -> None:
        """Send a pong (RFC 6455 section 5.5.3), e.g. to answer a ping with ``auto_pong`` off."""
        self._check_sending("send_pong")
        self._queue_frame(OP_PONG, data)

    def send_close(self, code: Optional[int] = CloseCode.NORMAL_CLOSURE, reason: str = "") -> None:
        """Start the closing handshake, or answer the peer's close frame (RFC 6455 section 7.1.2).

        ``code=None`` sends a close frame without a code. Nothing may be sent
        after it; the connection reads on until the peer's close frame comes.
        ``ValueError`` for a code a peer may not send."""
        self._check_sending("send_close")
        close_payload(code, reason)  # a ValueError before anything changes
        self._pending_close = None
        self._queue_close(code, reason)

    def fail(self, code: int = CloseCode.PROTOCOL_ERROR, reason: str = "") -> None:
        """*Fail the WebSocket Connection* (RFC 6455 section 7.1.7): send a close
        frame with ``code`` and ``reason`` unless one was sent, and close TCP
        without waiting for the peer's."""
        close_payload(code, reason)  # a ValueError before anything changes
        if self.state is _CONNECTING:
            raise InvalidState("fail() needs an open connection; refuse a handshake with reject()")
        self._reading = self.receiving_paused = False
        self._input = bytearray()
        self._pending_close = None
        if self.close_sent is None and self.state is not _CLOSED:
            self._queue_close(code, reason)
        self.can_send = False
        self.state = _CLOSED
        self._close_transport = True

    # --- the frames -------------------------------------------------------------

    def _open(self, deflate: Optional[DeflateParameters]) -> None:
        """The handshake succeeded: decode frames from here on."""
        # The decoder's role is the reader's: a server reads masked client frames.
        self.deflate = deflate
        self._decoder = _backend.MessageDecoder(self.role, max_frame_size=self.max_frame_size,
                                                max_message_size=self.max_message_size, deflate=deflate)
        self._feed = self._decoder.feed
        if deflate is not None:
            self._deflater = Deflater(deflate, self.role)
        self._plain = deflate is None and not self._mask
        self._head = None
        self.state = _OPEN
        self._reading = self.can_send = True
        if self._input:
            self.receive_data(b"")

    def _close_received(self, close: Close) -> None:
        """The peer's close frame: its stream is over (RFC 6455 section 1.4)."""
        self.close_received = close
        self._reading = self.receiving_paused = False
        self._input = bytearray()
        if self.close_sent is not None:
            # The answer to this side's close: the closing handshake is over.
            self.state = _CLOSED
            self._close_transport = self.role is Role.SERVER
            return
        self.state = _CLOSING
        if self.auto_close:
            # Section 5.5.1: echo the status code; a close that carried none
            # (1005, section 7.1.5) is answered with none.
            code = None if close.code == CloseCode.NO_STATUS_RCVD else close.code
            self._pending_close = (code, "")

    def _check_sending(self, method: str) -> None:
        if not self.can_send:
            if self.state is _CONNECTING:
                raise InvalidState(f"{method}() before the opening handshake completed")
            raise InvalidState(f"{method}() after this side's close frame (RFC 6455 section 5.5.1): "
                               "nothing may follow it")

    def _send_message(self, opcode: int, payload: Union[bytes, bytearray, memoryview]) -> None:
        if not self.can_send:
            self._check_sending("send_text" if opcode == OP_TEXT else "send_binary")
        deflater = self._deflater
        if deflater is not None and len(payload) >= COMPRESS_MIN_SIZE:
            frame = self._encode(opcode, deflater.compress(payload), rsv1=True, mask=self._mask)
        elif self._mask:
            frame = self._encode(opcode, payload, mask=True)
        else:
            # Positional arguments only: keywords cost the compiled function more to parse.
            frame = self._encode(opcode, payload)
        self._output.append(frame)
        self._output_size += len(frame)

    def _queue_frame(self, opcode: int, payload: Union[bytes, bytearray, memoryview]) -> None:
        frame = self._encode(opcode, payload, mask=self._mask)
        self._output.append(frame)
        self._output_size += len(frame)

    def _queue_close(self, code: Optional[int], reason: str) -> None:
        self._queue_frame(OP_CLOSE, close_payload(code, reason))
        self.can_send = False
        self.close_sent = Close(CloseCode.NO_STATUS_RCVD if code is None else code, reason)
        if self.failure is not None and self.state is not _CONNECTING:
            # Failing: close TCP without waiting for the peer (section 7.1.7).
            self._reading = self.receiving_paused = False
            self.state = _CLOSED
            self._close_transport = True
        elif self.close_received is not None:
            self.state = _CLOSED
            self._close_transport = self.role is Role.SERVER
        else:
            self.state = _CLOSING

    def _queue(self, data: bytes) -> None:
        self._output.append(data)
        self._output_size += len(data)

    # --- the handshake ------------------------------------------------------------

    def _receive_head(self, buffer: bytearray, data: Union[bytes, bytearray, memoryview]) -> None:
        # The head ends at the first empty line; searched from where the
        # last chunk could have started it.
        start = max(len(buffer) - 3, 0)
        buffer += data
        end = buffer.find(b"\r\n\r\n", start)
        if end < 0:
            if len(buffer) > MAX_HEAD_SIZE:
                self._handshake_head(bytes(buffer[: MAX_HEAD_SIZE + 1]), b"")
            return
        head, rest = bytes(buffer[: end + 4]), bytes(buffer[end + 4 :])
        self._head = None
        self._handshake_head(head, rest)

    def _handshake_head(self, head: bytes, rest: bytes) -> None:
        raise NotImplementedError

    def _handshake_failed(self, error: HandshakeError) -> None:
        self.failure = error
        self._head = None
        self._input = bytearray()
        self.can_send = self.receiving_paused = False
        self.state = _CLOSED
        self._close_transport = True


class ServerConnection(Connection):
    """The server's side of a connection, from the client's upgrade request on.

    The request is checked as RFC 6455 section 4.2.1 says; one that cannot be
    upgraded is answered with its HTTP error (400, 403, 405, 426, 431, 505)
    and the connection is CLOSED with the :class:`InvalidRequest` in
    :attr:`failure`. A valid one is delivered as a :class:`Request` event:
    answer it with :meth:`accept` or :meth:`reject`.

    ``origins``, when given, lists the ``Origin`` values accepted (``None``
    in it admits clients that send none; browsers always send one).
    ``subprotocols`` lists the subprotocols this server speaks, in its order
    of preference: the first one the client also offers is selected.
    ``compression`` is what the server accepts of permessage-deflate (RFC
    7692; the defaults take the client's offer as it is), or ``None`` to
    decline it. The other arguments are :class:`Connection`'s.
    """

    def __init__(
        self,
        *,
        origins: Optional[Collection[Optional[str]]] = None,
        subprotocols: Sequence[str] = (),
        compression: Optional[DeflateParameters] = DeflateParameters(),
        max_message_size: Optional[int] = DEFAULT_MAX_SIZE,
        max_frame_size: Optional[int] = None,
        max_queue: int = DEFAULT_MAX_QUEUE,
        write_limit: int = DEFAULT_WRITE_LIMIT,
        auto_pong: bool = True,
        auto_close: bool = True,
    ) -> None:
        super().__init__(Role.SERVER, max_message_size=max_message_size, max_frame_size=max_frame_size,
                         max_queue=max_queue, write_limit=write_limit, auto_pong=auto_pong, auto_close=auto_close)
        self.origins = origins
        self.subprotocols = tuple(subprotocols)
        self.compression = compression
        #: The client's upgrade request, once it arrived and passed the checks.
        self.request: Optional[Request] = None
        self._key = ""
        self._agreed: Optional[Tuple[str, DeflateParameters]] = None
        self._answered = False

    def _handshake_head(self, head: bytes, rest: bytes) -> None:
        try:
            request = parse_request(head)
            self._key = check_request(request, origins=self.origins)
            offers = request.header("sec-websocket-extensions")
            if offers and self.compression is not None:
                self._agreed = negotiate_deflate(offers, **self.compression._asdict())
        except NegotiationError as error:
            self._refuse(InvalidRequest(400, str(error)))
            return
        except InvalidRequest as error:
            self._refuse(error)
            return
        self.request = request
        self.subprotocol = select_subprotocol(request.subprotocols, self.subprotocols)
        # A client may not send frames before the 101 (section 4.1); any that
        # came early wait for accept().
        self._input += rest
        self.receiving_paused = bool(self._input)
        self._events.append(request)

    def _refuse(self, error: InvalidRequest) -> None:
        self._queue(error.response)
        self._handshake_failed(error)

    def accept(self, *, subprotocol: Optional[str] = SELECTED, headers: Sequence[Field] = ()) -> None:
        """Answer the :class:`Request` with ``101 Switching Protocols`` (RFC 6455 section 4.2.2).

        ``subprotocol`` overrides the one selected (``None``: none); it must be
        one the client offered. ``headers`` are more fields for the response.
        The agreed permessage-deflate parameters go in it; the connection is
        OPEN once this returns."""
        request = self._unanswered("accept")
        if subprotocol is SELECTED:
            subprotocol = self.subprotocol
        elif subprotocol is not None and subprotocol not in request.subprotocols:
            raise ValueError(f"subprotocol {subprotocol!r} was not offered by the client "
                             f"(offered: {', '.join(request.subprotocols) or 'none'})")
        self.subprotocol = subprotocol
        fields = list(headers)
        if subprotocol is not None:
            fields.append(("Sec-WebSocket-Protocol", subprotocol))
        deflate: Optional[DeflateParameters] = None
        if self._agreed is not None:
            extension, deflate = self._agreed
            fields.append(("Sec-WebSocket-Extensions", extension))
        self._answered = True
        self._queue(accept_response(self._key, fields))
        self._open(deflate)

    def reject(self, status: int = 403, body: bytes = b"", headers: Sequence[Field] = ()) -> None:
        """Answer the :class:`Request` with an HTTP error instead; the connection is then CLOSED."""
        self._unanswered("reject")
        if not 100 <= status <= 599 or status == 101:
            raise ValueError(f"reject() needs an HTTP status from 100 to 599 other than 101, not {status}")
        self._answered = True
        self._queue(http_response(status, headers, body))
        self._input = bytearray()
        self.can_send = self.receiving_paused = False
        self.state = _CLOSED
        self._close_transport = True

    def _unanswered(self, method: str) -> Request:
        if self.request is None or self._answered or self.state is not _CONNECTING:
            raise InvalidState(f"{method}() answers a Request event, once: "
                               + ("no request has come" if self.request is None else "it was answered"))
        return self.request


# The offer a client makes unless told otherwise: permessage-deflate, and
# the server may limit the client's window (RFC 7692 section 7.1.2.2).
DEFAULT_DEFLATE_OFFER = deflate_offer()


class ClientConnection(Connection):
    """The client's side of a connection: the upgrade request is queued at once.

    ``uri`` is a ``ws://`` or ``wss://`` URI (RFC 6455 section 3; TLS is the
    I/O layer's). The request carries a fresh key from the operating
    system's CSPRNG, ``origin`` if given, the ``subprotocols`` offered and the
    ``compression`` offer (a ``Sec-WebSocket-Extensions`` value, by default
    permessage-deflate; ``None`` offers none), and ``headers``. The server's
    answer is checked as section 4.1 says (status 101, ``Upgrade``,
    ``Connection``, ``Sec-WebSocket-Accept``, no extension or subprotocol that
    was not offered); a good one is delivered as a :class:`Response` event
    and the connection is OPEN; a bad one leaves it CLOSED with the
    :class:`InvalidResponse` in :attr:`failure`. The other arguments are
    :class:`Connection`'s.
    """

    def __init__(
        self,
        uri: Union[str, WebSocketURI],
        *,
        origin: Optional[str] = None,
        subprotocols: Sequence[str] = (),
        compression: Optional[str] = DEFAULT_DEFLATE_OFFER,
        headers: Sequence[Field] = (),
        max_message_size: Optional[int] = DEFAULT_MAX_SIZE,
        max_frame_size: Optional[int] = None,
        max_queue: int = DEFAULT_MAX_QUEUE,
        write_limit: int = DEFAULT_WRITE_LIMIT,
        auto_pong: bool = True,
        auto_close: bool = True,
    ) -> None:
        super().__init__(Role.CLIENT, max_message_size=max_message_size, max_frame_size=max_frame_size,
                         max_queue=max_queue, write_limit=write_limit, auto_pong=auto_pong, auto_close=auto_close)
        #: The URI, taken apart.
        self.uri = parse_uri(uri) if isinstance(uri, str) else uri
        self.subprotocols = tuple(subprotocols)
        self.compression = compression
        #: The server's answer, once it arrived and passed the checks.
        self.response: Optional[Response] = None
        request, self._key = client_request(self.uri, origin=origin, subprotocols=self.subprotocols,
                                            extensions=compression, headers=headers)
        self._queue(request)

    def _handshake_head(self, head: bytes, rest: bytes) -> None:
        try:
            response = parse_response(head)
            if response.status != 101:
                response = response._replace(body=rest)
            subprotocol = check_response(response, self._key, subprotocols=self.subprotocols)
            deflate = self._check_extensions(response)
        except InvalidResponse as error:
            self._handshake_failed(error)
            return
        self.response = response
        self.subprotocol = subprotocol
        self._events.append(response)
        self._input += rest  # frames the server sent right after its 101
        self._open(deflate)

    def _check_extensions(self, response: Response) -> Optional[DeflateParameters]:
        """RFC 6455 section 4.1: an extension the client did not offer fails the connection."""
        extensions = response.header("sec-websocket-extensions")
        if not extensions:
            return None
        if self.compression is None:
            raise InvalidResponse(f"the server accepted extensions the client did not offer: {extensions}", response)
        try:
            return accept_deflate_response(extensions, self.compression)
        except NegotiationError as error:
            raise InvalidResponse(str(error), response) from None

