"""Drop-in: wsframe under tornado's WebSocket protocol, both directions.

tornado's ``WebSocketProtocol13`` is the WebSocket stack of tornado's
``WebSocketHandler`` and ``websocket_connect``, and so of Jupyter Server,
Streamlit, Bokeh, Voila and the Dask dashboard. ``install()`` replaces two
of its methods:

- ``_receive_frame_loop``, the receive loop. tornado's calls
  ``_receive_frame``, which awaits ``stream.read_bytes`` three or four times
  per frame (two header bytes, the extended length, the mask key, the
  payload). wsframe's reads what the stream has, up to 64 KiB, and a wsframe
  ``MessageDecoder`` splits, checks and unmasks every frame in it,
  reassembles fragmented messages, inflates permessage-deflate and
  validates text (in C, on the C backend). Each message goes to tornado's
  handler API as tornado's own loop hands it on: ``on_message`` (a
  coroutine's Future is awaited before the next message), ``on_ping`` after
  the pong (tornado 6.6's ``_send_pong``, at most one pong outstanding;
  tornado 6.5 writes each), ``on_pong``, and
  the close handshake (``close_code`` and ``close_reason`` set, the code
  echoed); a ``_handle_message`` that is not tornado's own (a subclass's,
  or one wrapped on the instance) gets every message, in tornado's
  arguments.
- ``_write_frame``: frames encoded, and masked for tornado's client with keys
  from wsframe's CSPRNG pool, by wsframe's ``encode_frame`` in one call.

What stays tornado's: negotiation of permessage-deflate from
``get_compression_options`` / ``compression_options`` (the decoder inflates
with the context takeover tornado agreed), ``websocket_max_message_size``
(per frame as sent and per message as inflated, 1009 with tornado's words),
ping interval and timeout, the close handshake and its 5-second timer, the
yield to the IOLoop after 256 KiB of work (tornado 6.6's ``_YIELD_THRESHOLD``,
each message counting ``_FRAME_YIELD_COST``; tornado 6.5 never yields), and the counters
``_message_bytes_in`` and ``_wire_bytes_in``/``_wire_bytes_out``.

What wsframe adds: where tornado aborts TCP without a word, the connection is
failed with the RFC's close code and wsframe's reason, then closed, as
tornado does for 1009: 1002 for a frame masked the wrong way, a reserved
opcode or RSV bit, a fragmented or over-long control frame, a length not in
its shortest form, a continuation with no message or a new message inside
one, a close frame with a 1-byte payload or a code no peer may send (RFC
6455 section 7.4: 0-999, 1004-1006, 1015-2999, 5000 and up, which tornado
echoes), corrupt deflate data (under tornado ``zlib.error`` escapes its
loop); 1007 for text or a close reason that is not UTF-8, at the first byte
that cannot be valid rather than at the message's end.

``uninstall()`` restores tornado's own methods. A connection keeps the
receive loop it started with, so connections opened before ``install()`` or
``uninstall()`` finish on the same code.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any, Callable, List, Optional, Sequence, Tuple, Union

from tornado import websocket
from tornado.concurrent import Future
from tornado.iostream import StreamClosedError
from tornado.log import gen_log

from ._dropin import DropIn, Patch
from .._backend import MessageDecoder, encode_frame
from .._close import close_payload
from .._deflate import DeflateParameters
from .._errors import ProtocolError, inflated_too_big
from .._events import BinaryMessage, Ping, Pong, TextMessage
from .._rfc6455 import OP_BINARY, OP_CLOSE, OP_PING, OP_PONG, OP_TEXT, RSV1, RSV2, RSV3
from .._types import CloseCode, Role

__all__ = ["SUPPORTED", "install", "installed", "uninstall"]

#: The tornado releases the drop-in supports; tornado's own WebSocket tests
#: run under it on the oldest and the newest.
SUPPORTED = ">=6.5,<7"

_Protocol = websocket.WebSocketProtocol13
# tornado's own message handling, to tell it from a subclass's or a wrapper.
_TORNADO_HANDLE_MESSAGE: Callable[..., Any] = vars(_Protocol).get("_handle_message", None)  # type: ignore[assignment]
# As much as one socket read of tornado's IOStream brings (its default read_chunk_size).
_READ_SIZE = 65536
# tornado 6.6's fairness rule: yield to the IOLoop after this much work, each
# frame counting as _FRAME_YIELD_COST bytes. tornado 6.5 has no such rule
# and never yields between frames that have arrived.
_YIELD_THRESHOLD: int = getattr(websocket, "_YIELD_THRESHOLD", sys.maxsize)
_FRAME_YIELD_COST: int = getattr(websocket, "_FRAME_YIELD_COST", 0)

# tornado's close reasons for the limit it has (its own tests pin them).
_TOO_BIG = "message too big"
_TOO_BIG_INFLATED = "message too big after decompression"


def _new_decoder(self: websocket.WebSocketProtocol13) -> Tuple[Any, Optional[int]]:
    """The decoder for this connection's frames, and how many events a feed may return."""
    # tornado's client masks what it sends, and so reads unmasked frames.
    role = Role.CLIENT if self.mask_outgoing else Role.SERVER
    limit = self.params.max_message_size
    deflate = None
    if self._decompressor is not None:
        # tornado keeps no zlib object between messages when the sender
        # resets its context (<side>_no_context_takeover, RFC 7692 7.1.1).
        no_context = self._decompressor._decompressor is None
        deflate = DeflateParameters(server_no_context_takeover=no_context, client_no_context_takeover=no_context)
    # A frame as sent may not exceed the limit, as under tornado; a message
    # is limited as inflated. With compression, one message per feed: a read
    # inflates no further ahead of the application than tornado does.
    decoder = MessageDecoder(role, max_frame_size=limit, max_message_size=limit, deflate=deflate)
    return decoder, (1 if deflate is not None else None)


async def _receive_frame_loop(self: websocket.WebSocketProtocol13) -> None:
    """tornado's receive loop, reading with wsframe; its ends are tornado's:
    a stream that ends is ``_abort()``, and the handler always hears of the close."""
    try:
        await _receive_messages(self)
    except StreamClosedError:
        self._abort()
    finally:
        self.handler.on_ws_connection_close(self.close_code, self.close_reason)


async def _receive_messages(self: websocket.WebSocketProtocol13) -> None:
    """Read what the stream has and hand on every message it completes,
    until the peer's close is handled or the connection is aborted."""
    # Made once the handshake is done, so with the compression tornado negotiated.
    decoder, max_events = _new_decoder(self)
    feed = decoder.feed
    work = 0
    while not self.client_terminated:
        data: Union[bytes, bytearray] = await self.stream.read_bytes(_READ_SIZE, partial=True)
        self._wire_bytes_in += len(data)
        work += len(data)
        handle: Optional[Callable[..., Any]] = self._handle_message
        if getattr(handle, "__func__", None) is _TORNADO_HANDLE_MESSAGE:
            handle = None  # tornado's own: wsframe's handles the decoded messages
        while True:
            error: Optional[ProtocolError] = None
            try:
                events: List[Any] = feed(data, max_events)
            except ProtocolError as exc:
                # The frames before the violation were the peer's too: they are
                # handled first (RFC 6455 section 7.1.7 fails at the bad frame).
                events, error = exc.events, exc
            for event in events:
                handled = _handle_event(self, event) if handle is None else handle(*_tornado_arguments(event))
                if handled is not None:
                    await handled
                if self.client_terminated:
                    return
                work += _FRAME_YIELD_COST
                if work >= _YIELD_THRESHOLD:
                    work = 0
                    await asyncio.sleep(0)
            if error is not None:
                _fail(self, error)
                return
            if not decoder.undecoded:
                break
            data = b""


def _handle_event(self: websocket.WebSocketProtocol13, event: Any) -> Optional["Future[None]"]:
    """What tornado's ``_handle_message`` does with a message, for one wsframe
    decoded: text already validated, close code checked, nothing to inflate.
    Returns the Future of a coroutine ``on_message`` or ``on_pong``."""
    if self.client_terminated:
        return None
    kind = type(event)
    if kind is BinaryMessage:
        data = event[0]
        self._message_bytes_in += len(data)
        return self._run_callback(self.handler.on_message, data)
    if kind is TextMessage:
        text = event[0]
        # tornado counts messages in bytes of UTF-8.
        self._message_bytes_in += len(text) if text.isascii() else len(text.encode("utf-8"))
        return self._run_callback(self.handler.on_message, text)
    if kind is Ping:
        _answer_ping(self, event[0])
        self._run_callback(self.handler.on_ping, event[0])
        return None
    if kind is Pong:
        self._received_pong = True
        return self._run_callback(self.handler.on_pong, event[0])
    # A close frame (RFC 6455 section 5.5.1): tornado records the code and
    # the reason, if any, and echoes the code.
    code, reason = event
    self.client_terminated = True
    if code != CloseCode.NO_STATUS_RCVD:
        self.close_code = code
    if reason:
        self.close_reason = reason
    self.close(self.close_code)
    return None


def _answer_ping(self: websocket.WebSocketProtocol13, payload: bytes) -> None:
    """Answer a ping (RFC 6455 section 5.5.2) as the tornado release does."""
    send_pong = getattr(self, "_send_pong", None)
    if send_pong is not None:
        # tornado 6.6: at most one pong outstanding, then the latest ping's
        # (section 5.5.3 allows answering only the most recent).
        send_pong(payload)
        return
    try:
        self._write_frame(True, OP_PONG, payload)
    except StreamClosedError:
        self._abort()


def _tornado_arguments(event: Any) -> Tuple[int, bytes]:
    """The opcode and payload tornado's ``_handle_message`` takes for an event."""
    kind = type(event)
    if kind is TextMessage:
        return OP_TEXT, event[0].encode("utf-8")
    if kind is BinaryMessage:
        return OP_BINARY, event[0]
    if kind is Ping:
        return OP_PING, event[0]
    if kind is Pong:
        return OP_PONG, event[0]
    code, reason = event
    return OP_CLOSE, b"" if code == CloseCode.NO_STATUS_RCVD else close_payload(code, reason)


def _fail(self: websocket.WebSocketProtocol13, error: ProtocolError) -> None:
    """Fail the connection (RFC 6455 section 7.1.7): a close frame with the
    error's code and reason, then TCP closed, as tornado does for 1009."""
    code, reason = int(error.close_code), error.reason
    if code == CloseCode.MESSAGE_TOO_BIG:
        inflated = error.reason == inflated_too_big(self.params.max_message_size).reason
        reason = _TOO_BIG_INFLATED if inflated else _TOO_BIG
    gen_log.debug("failing the WebSocket connection: %s", error)
    self.close(code, reason)
    self._abort()


def _write_frame(self: websocket.WebSocketProtocol13, fin: bool, opcode: int, data: bytes,
                 flags: int = 0) -> "Future[None]":
    """tornado's ``_write_frame``, the frame encoded (and masked, for its
    client, with a fresh key: RFC 6455 section 5.3) by wsframe in one call.
    A fragmented or over-long control frame is a ``ValueError``, as in tornado."""
    if flags:
        # tornado sets flags for a compressed message's RSV1 (RFC 7692 section 6).
        frame = encode_frame(opcode, data, fin=fin, rsv1=bool(flags & RSV1), rsv2=bool(flags & RSV2),
                             rsv3=bool(flags & RSV3), mask=self.mask_outgoing)
    else:
        # Most frames: three keyword arguments fewer cost 90 ns less a frame.
        frame = encode_frame(opcode, data, fin=fin, mask=self.mask_outgoing)
    self._wire_bytes_out += len(frame)
    return self.stream.write(frame)


def _layout_problems() -> Sequence[str]:
    """What the drop-in needs of tornado's internals and does not find."""
    problems = [f"tornado.websocket.WebSocketProtocol13.{name}"
                 for name in ("_handle_message", "_run_callback", "close", "_abort")
                 if not callable(getattr(_Protocol, name, None))]
    params_class = getattr(websocket, "_WebSocketParams", None)
    decompressor_class = getattr(websocket, "_PerMessageDeflateDecompressor", None)
    if params_class is None or decompressor_class is None:
        return problems + [f"tornado.websocket.{name}" for name, found in (
            ("_WebSocketParams", params_class), ("_PerMessageDeflateDecompressor", decompressor_class)) if not found]
    # The attributes the drop-in reads and writes live on instances: make them and look.
    try:
        sample = _Protocol(None, mask_outgoing=False, params=params_class())  # type: ignore[arg-type]
        decompressor = decompressor_class(persistent=True, max_wbits=None, max_message_size=1)
    except TypeError as exc:
        return problems + [f"the constructors of WebSocketProtocol13 and _PerMessageDeflateDecompressor ({exc})"]
    problems += [f"tornado.websocket.WebSocketProtocol13().{name}"
                 for name in ("handler", "mask_outgoing", "params", "client_terminated", "server_terminated",
                              "close_code", "close_reason", "_decompressor", "_received_pong",
                              "_message_bytes_in", "_wire_bytes_in", "_wire_bytes_out")
                 if not hasattr(sample, name)]
    if not hasattr(sample.params, "max_message_size"):
        problems.append("tornado.websocket._WebSocketParams().max_message_size")
    if not hasattr(decompressor, "_decompressor"):
        problems.append("tornado.websocket._PerMessageDeflateDecompressor()._decompressor")
    return problems


_DROPIN = DropIn(
    "tornado",
    SUPPORTED,
    {"protocol": [Patch(_Protocol, "_receive_frame_loop", _receive_frame_loop),
                  Patch(_Protocol, "_write_frame", _write_frame)]},
    _layout_problems,
)


def install(*, force: bool = False) -> None:
    """Put wsframe under tornado's WebSocket protocol.

    Raises ``RuntimeError`` for a tornado outside :data:`SUPPORTED`
    (``force=True`` installs anyway) and, whatever ``force`` says, for one
    whose internals are not where the drop-in expects them; either way
    nothing is replaced."""
    _DROPIN.install(force=force)


def uninstall() -> None:
    """Restore tornado's own receive loop and frame writing, for connections opened from now on."""
    _DROPIN.uninstall()


def installed() -> bool:
    """Whether tornado currently runs on wsframe."""
    return _DROPIN.installed()
