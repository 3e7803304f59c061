"""The aiohttp drop-in's reader and writer in pure Python: the reference for ``_caiohttp``.

``_backend`` names which of the two twins the drop-in
(``wsframe.integrations.aiohttp``) runs on: ``_caiohttp``, compiled, with the
C backend, and this module with the pure-Python one. Both offer the same
classes and functions with the same behaviour; the compiled twin imports its
rules' words from here, so each is written once.

- :class:`WebSocketReader` stands in for aiohttp's
  ``aiohttp._websocket.reader.WebSocketReader``: the same constructor,
  ``feed_data`` / ``feed_eof`` contract, ``_feed_data`` (the frame layer) and
  ``_handle_frame`` (the message layer, which aiohttp's own tests call and
  patch), the same ``WSMessage`` tuples on the queue, the same
  ``WebSocketError`` codes and words, and the same flow control: parsing
  stops while the queue is over its limit and the queue drives it again once
  drained. wsframe's rules are added, each as soon as the bytes that prove
  it arrive: the mask bit the peer's role requires (RFC 6455 section 5.1), a
  length in its shortest form (section 5.2), a close code a peer may send
  (section 7.4.1; aiohttp accepts 1006), and text that is UTF-8 (section
  8.1), checked as the bytes of an uncompressed text message arrive, so a
  message fails at its first bad byte rather than at its end. A compressed
  message is checked once inflated, at its end, as aiohttp inflates it.
- :data:`WebSocketDataQueue` is the queue the reader feeds: here aiohttp's
  own pure-Python ``WebSocketDataQueue``, the contract the compiled twin's
  queue implements.
- :func:`write_websocket_frame` stands in for aiohttp's
  ``WebSocketWriter._write_websocket_frame``.

Two rules are aiohttp's and stay so, because its own tests pin them: close
codes of 5000 and up are accepted (``test_websocket_parser.py::
test_close_frame_info`` expects code 12337 delivered), and RSV1 on a control
frame with compression on is accepted by aiohttp 3.14.5
(``test_control_frame_with_rsv1``; 3.14.4 refuses it, and so does the
drop-in there). A reader fed by two threads at once refuses the second, as
wsframe's decoders do.
"""

from __future__ import annotations

import inspect
import threading
import weakref
from typing import Any, Optional, Tuple, Union

from aiohttp._websocket import helpers, models, reader_py
from aiohttp._websocket.models import WebSocketError, WSMessage, WSMessageTextBytes
from aiohttp._websocket import writer as _writer_module
from aiohttp.client_exceptions import ClientConnectionResetError
from aiohttp.compression_utils import TooManyMembersError, ZLibDecompressor
from aiohttp.helpers import set_exception

from . import _errors
from ._close import is_sendable_close_code
from ._pyframe import _Utf8Decoder, encode_frame, encode_header, mask
from ._rfc6455 import (
    ALL_RSV,
    CONTROL_BIT,
    FIN,
    LENGTH_16,
    LENGTH_64,
    MASK_BIT,
    MASK_KEY_LENGTH,
    MAX_CONTROL_PAYLOAD_LENGTH,
    MAX_LENGTH_7,
    MAX_LENGTH_16,
    OP_BINARY,
    OP_CLOSE,
    OP_CONTINUATION,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    OPCODE_BITS,
    PAYLOAD_LENGTH_BITS,
    RSV1,
    header_length,
)

__all__ = [
    "RSV1_ON_CONTROL_REFUSED",
    "ClientWebSocketReader",
    "ServerWebSocketReader",
    "WebSocketDataQueue",
    "WebSocketReader",
    "write_websocket_frame",
]

WSCloseCode = models.WSCloseCode
WSMsgType = models.WSMsgType
WS_DEFLATE_TRAILING = models.WS_DEFLATE_TRAILING
MSG_SIZE_OVERHEAD: int = reader_py.MSG_SIZE_OVERHEAD
MAX_PAYLOAD_LEN: int = reader_py.MAX_PAYLOAD_LEN
# The close codes aiohttp's reader accepts below 3000 (all from 3000 up).
AIOHTTP_CLOSE_CODES = frozenset(reader_py.ALLOWED_CLOSE_CODES)

WebSocketDataQueue = reader_py.WebSocketDataQueue

# aiohttp's reader state, in its values: no fragmented message open, and
# whether the message in progress is compressed.
OPCODE_NOT_SET = -1
COMPRESSED_NOT_SET, COMPRESSED_FALSE, COMPRESSED_TRUE = -1, 0, 1
_KNOWN_OPCODES = frozenset((OP_CONTINUATION, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG))
# How a frame's payload is checked as UTF-8 while it arrives.
TEXT_NONE, TEXT_FRESH, TEXT_CONTINUED = 0, 1, 2
# The role a reader takes: the peer's frames arrive masked (the reader is a
# server's), unmasked (a client's), or as the first frame shows.
ROLE_CLIENT, ROLE_SERVER, ROLE_FIRST_FRAME = 0, 1, -1

_new_tuple = tuple.__new__


def _rsv1_on_control_refused() -> bool:
    """Whether this aiohttp's own reader refuses RSV1 on a control frame when
    compression is on: 3.14.4 does (RFC 7692 section 6.1), 3.14.5 lets it
    pass for interoperability. Asked of aiohttp's pure-Python reader itself."""
    queue = reader_py.WebSocketDataQueue(_NoProtocol(), 2**16, loop=None)  # type: ignore[arg-type]
    probe = reader_py.WebSocketReader(queue, 2**20, compress=True, decode_text=True)
    try:
        probe._feed_data(bytes([FIN | RSV1 | OP_PING, 0]))
    except WebSocketError:
        return True
    return False


class _NoProtocol:
    """Stands in for the protocol a queue pauses and resumes."""

    _reading_paused = False


#: Whether RSV1 on a control frame is refused (aiohttp 3.14.4) or let pass (3.14.5).
RSV1_ON_CONTROL_REFUSED = _rsv1_on_control_refused()


# aiohttp's words for its rules, and wsframe's for the rules aiohttp does not
# have, as the WebSocketError aiohttp's connection objects handle. ------------


def reserved_bits() -> WebSocketError:
    return WebSocketError(WSCloseCode.PROTOCOL_ERROR, "Received frame with non-zero reserved bits")


def unexpected_opcode(opcode: int) -> WebSocketError:
    return WebSocketError(WSCloseCode.PROTOCOL_ERROR, f"Unexpected opcode={opcode!r}")


def fragmented_control_frame() -> WebSocketError:
    return WebSocketError(WSCloseCode.PROTOCOL_ERROR, "Received fragmented control frame")


def control_frame_too_long() -> WebSocketError:
    return WebSocketError(WSCloseCode.PROTOCOL_ERROR, "Control frame payload cannot be larger than 125 bytes")


def message_too_big(length: int, limit: int) -> WebSocketError:
    return WebSocketError(WSCloseCode.MESSAGE_TOO_BIG, f"Message size {length} exceeds limit {limit}")


def continuation_not_started() -> WebSocketError:
    return WebSocketError(WSCloseCode.PROTOCOL_ERROR, "Continuation frame for non started message")


def opcode_not_continuation(opcode: int) -> WebSocketError:
    return WebSocketError(WSCloseCode.PROTOCOL_ERROR,
                          f"The opcode in non-fin frame is expected to be zero, got {opcode!r}")


def too_many_members() -> WebSocketError:
    return WebSocketError(WSCloseCode.MESSAGE_TOO_BIG, "Compressed message has too many deflate members")


def inflated_too_big(limit: int) -> WebSocketError:
    return WebSocketError(WSCloseCode.MESSAGE_TOO_BIG, f"Decompressed message exceeds size limit {limit}")


def invalid_text() -> WebSocketError:
    return WebSocketError(WSCloseCode.INVALID_TEXT, "Invalid UTF-8 text message")


def invalid_close_frame(fin: bool, opcode: int, payload: Union[bytes, bytearray]) -> WebSocketError:
    return WebSocketError(WSCloseCode.PROTOCOL_ERROR, f"Invalid close frame: {fin} {opcode} {payload!r}")


def bad_close_code(code: int) -> Optional[WebSocketError]:
    """The error for a received close code, or None if the reader accepts it:
    aiohttp's rule in its words, then wsframe's (RFC 6455 section 7.4.1),
    below 5000, where aiohttp's tests pin the looser rule."""
    if code < 3000 and code not in AIOHTTP_CLOSE_CODES:
        return WebSocketError(WSCloseCode.PROTOCOL_ERROR, f"Invalid close code: {code}")
    if code < 5000 and not is_sendable_close_code(code):
        return WebSocketError(WSCloseCode.PROTOCOL_ERROR, _errors.bad_close_code(code).reason)
    return None


def wsframe_refusal(error: _errors.ProtocolError) -> WebSocketError:
    """One of wsframe's rules that aiohttp does not have, in wsframe's words."""
    return WebSocketError(int(error.close_code), error.reason)


# The reader -------------------------------------------------------------------


class _FeedGuard:
    """Refuses a thread's feed while another thread's runs, as wsframe's
    decoders do (the two would interleave one connection's bytes); the
    thread that feeds may come back in (the queue drives the reader, the
    message layer is called from the frame layer)."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._lock = threading.Lock()  # held only to check and set the owner
        self._owner: Optional[int] = None
        self._depth = 0

    def __enter__(self) -> None:
        me = threading.get_ident()
        with self._lock:
            if self._depth and self._owner != me:
                raise _errors.feed_in_progress(self._name)
            self._owner = me
            self._depth += 1

    def __exit__(self, *exc_info: object) -> None:
        with self._lock:
            self._depth -= 1



class WebSocketReader:
    """aiohttp's WebSocket reader, on wsframe's rules (see the module docstring).

    A reader made directly takes the role its first frame shows;
    :class:`ServerWebSocketReader` and :class:`ClientWebSocketReader` are the
    ones ``aiohttp.web`` and ``ClientSession.ws_connect`` make."""

    _role = ROLE_FIRST_FRAME

    def __init__(self, queue: Any, max_msg_size: int, compress: bool, decode_text: bool) -> None:
        self.queue = queue
        self._max_msg_size = max_msg_size
        self._compress = bool(compress)
        self._decode_text = bool(decode_text)
        # Parked on the queue while parsing is stopped; made once.
        self._weak_self = weakref.ref(self)
        self._exc: Optional[BaseException] = None
        # The message layer, in aiohttp's terms: the fragmented message so far,
        # its opcode, whether the message is compressed, the last data frame's FIN.
        self._partial = bytearray()
        self._opcode = OPCODE_NOT_SET
        self._compressed = COMPRESSED_NOT_SET
        self._frame_fin = False
        self._decompressobj: Optional[ZLibDecompressor] = None
        # The text message in progress as UTF-8, checked as its bytes arrive.
        self._utf8 = _Utf8Decoder()
        self._prechecked = False  # the frame handed on was checked while it arrived
        # The frame in progress.
        self._head = b""  # its header, while incomplete
        self._head_checked = False  # its first two bytes passed
        self._in_payload = False
        self._first = 0
        self._key: Optional[bytes] = None
        self._length = 0
        self._received = 0
        self._payload = bytearray()
        self._text = TEXT_NONE
        # Bytes left unparsed while the queue is over its limit.
        self._tail = b""
        self._guard = _FeedGuard(type(self).__name__)

    def feed_eof(self) -> None:
        self.queue.feed_eof()

    def feed_data(self, data: Union[bytes, bytearray, memoryview]) -> Tuple[bool, bytes]:
        """aiohttp's contract: (True, b"") once the stream broke the protocol
        (the error is then set on the queue), else (False, b"")."""
        if type(data) is not bytes:
            data = bytes(data)
        with self._guard:
            if self._exc is not None:
                return True, data
            try:
                self._feed_data(data)
            except Exception as exc:
                self._exc = exc
                set_exception(self.queue, exc)
                return True, b""
            return False, b""

    def _message_layer_is_ours(self) -> bool:
        """Whether _handle_frame is this class's: only then are frames
        checked as UTF-8 while they arrive, since the message layer keeps the
        state that check reads. (aiohttp's tests patch _handle_frame to catch
        frames.)"""
        own = WebSocketReader._handle_frame
        return type(self)._handle_frame is own and "_handle_frame" not in vars(self)

    def _feed_data(self, data: bytes) -> None:
        """Split ``data`` into frames and hand each to the message layer."""
        with self._guard:
            self._split(data)

    def _split(self, data: bytes) -> None:
        queue = self.queue
        queue._stalled_reader = None
        if self._tail:
            data, self._tail = self._tail + data, b""
        ours = self._message_layer_is_ours()
        position, size = 0, len(data)
        while True:
            if position < size and queue._size > queue._limit:
                # aiohttp's flow control: over the high-water mark with bytes
                # left, stop; the queue drives the reader again once drained.
                self._tail = data[position:]
                queue._stalled_reader = self._weak_self
                return
            if not self._in_payload:
                taken = self._read_header(data, position, ours)
                if taken < 0:
                    return
                position += taken
            remaining = self._length - self._received
            take = min(remaining, size - position)
            if self._received == 0 and take == remaining:
                # The whole payload is here.
                payload = self._unmask(data[position : position + take], 0)
                position += take
                self._in_payload = False
                self._frame(payload, False)
                continue
            piece = self._unmask(data[position : position + take], self._received)
            position += take
            self._received += take
            if self._text != TEXT_NONE:
                self._check_text(piece, final=False)
            self._payload += piece
            if self._received < self._length:
                return
            payload, self._payload = bytes(self._payload), bytearray()
            self._in_payload = False
            self._frame(payload, self._text != TEXT_NONE)

    def _unmask(self, piece: bytes, offset: int) -> bytes:
        return piece if self._key is None else mask(piece, self._key, offset)

    def _read_header(self, data: bytes, position: int, ours: bool) -> int:
        """Take the next frame's header from ``data`` at ``position``: how many
        bytes it took, or -1 (all taken) while the header is not whole.
        Each rule is checked as soon as the bytes it needs are there."""
        had = len(self._head)
        head = self._head + data[position : position + 14 - had]
        if len(head) < 2:
            self._head = head
            return -1
        first, second = head[0], head[1]
        if not self._head_checked:
            self._check_start(first, second)
            self._head_checked = True
        field = second & PAYLOAD_LENGTH_BITS
        end = 4 if field == LENGTH_16 else 10 if field == LENGTH_64 else 2
        if len(head) < end:
            self._head = head
            return -1
        length = int.from_bytes(head[2:end], "big") if end > 2 else field
        self._check_length(first & OPCODE_BITS, field, length)
        key_end = end + MASK_KEY_LENGTH if second & MASK_BIT else end
        if len(head) < key_end:
            self._head = head
            return -1
        self._key = head[end:key_end] if key_end > end else None
        self._first = first
        self._length = length
        self._received = 0
        self._in_payload = True
        self._head, self._head_checked = b"", False
        self._text = self._text_check(first & FIN != 0, first & OPCODE_BITS) if ours else TEXT_NONE
        if self._text == TEXT_FRESH:
            self._utf8.reset()
        return key_end - had

    def _check_start(self, first: int, second: int) -> None:
        """A header's first two bytes: aiohttp's rules, in its order (noting
        whether the message is compressed), then the mask bit."""
        opcode = first & OPCODE_BITS
        fin = first & FIN != 0
        rsv1 = first & RSV1 != 0
        if first & ALL_RSV & ~RSV1 or (rsv1 and not self._compress):
            raise reserved_bits()
        if opcode not in _KNOWN_OPCODES:
            raise unexpected_opcode(opcode)
        if opcode & CONTROL_BIT and not fin:
            raise fragmented_control_frame()
        if opcode & CONTROL_BIT and second & PAYLOAD_LENGTH_BITS > MAX_CONTROL_PAYLOAD_LENGTH:
            raise control_frame_too_long()
        if opcode & CONTROL_BIT:
            if rsv1 and RSV1_ON_CONTROL_REFUSED:
                raise reserved_bits()
        else:
            # RFC 7692 section 6: a message's first frame says whether it is compressed.
            if self._frame_fin or self._compressed == COMPRESSED_NOT_SET:
                self._compressed = COMPRESSED_TRUE if rsv1 else COMPRESSED_FALSE
            elif rsv1:
                raise reserved_bits()
            self._frame_fin = fin
        # RFC 6455 section 5.1: a client masks every frame, a server none.
        masked = second & MASK_BIT != 0
        if self._role == ROLE_FIRST_FRAME:
            self._role = ROLE_SERVER if masked else ROLE_CLIENT
        if masked != (self._role == ROLE_SERVER):
            raise wsframe_refusal(_errors.mask_bit_wrong(self._role == ROLE_SERVER))

    def _check_length(self, opcode: int, field: int, length: int) -> None:
        """A header's payload length: aiohttp's limits, then the shortest
        form RFC 6455 section 5.2 requires."""
        partial = len(self._partial)
        if field == LENGTH_64 and length > MAX_PAYLOAD_LEN:
            raise message_too_big(length + partial, self._max_msg_size or MAX_PAYLOAD_LEN)
        if self._max_msg_size and not opcode & CONTROL_BIT and length >= self._max_msg_size - partial:
            raise message_too_big(length + partial, self._max_msg_size)
        if field == LENGTH_16 and length <= MAX_LENGTH_7:
            raise wsframe_refusal(_errors.non_minimal_length_16(length))
        if field == LENGTH_64 and length <= MAX_LENGTH_16:
            raise wsframe_refusal(_errors.non_minimal_length_64(length))

    def _text_check(self, fin: bool, opcode: int) -> int:
        """How a frame's payload is checked as UTF-8 while it arrives, by the
        message layer's rules: a text message's first or only frame afresh,
        a continuation of one after its earlier frames; anything else (binary,
        control, compressed, or a frame the message layer will refuse) not."""
        if self._compressed == COMPRESSED_TRUE:
            return TEXT_NONE
        if opcode == OP_TEXT:
            if fin:
                return TEXT_NONE if self._partial else TEXT_FRESH
            return TEXT_FRESH if self._opcode == OPCODE_NOT_SET else TEXT_NONE
        if opcode == OP_CONTINUATION and self._opcode == OP_TEXT:
            return TEXT_CONTINUED
        return TEXT_NONE

    def _check_text(self, data: Union[bytes, bytearray], final: bool) -> None:
        try:
            self._utf8.decode(data, final)
        except _errors.InvalidUTF8:
            raise invalid_text() from None

    def _frame(self, payload: bytes, prechecked: bool) -> None:
        """A whole frame, to the message layer, as aiohttp hands it on: with
        the last data frame's FIN bit and compression state."""
        opcode = self._first & OPCODE_BITS
        data: Union[bytes, bytearray] = payload
        if opcode & CONTROL_BIT and self._key is not None:
            # aiohttp unmasks into a bytearray, which a ping's data and its words show.
            data = bytearray(payload)
        self._prechecked = prechecked
        self._handle_frame(self._frame_fin, opcode, data, self._compressed)

    def _handle_frame(self, fin: bool, opcode: int, payload: Union[bytes, bytearray], compressed: int) -> None:
        """One whole frame through the message layer: aiohttp's, with wsframe's
        close codes and UTF-8 checked frame by frame."""
        prechecked, self._prechecked = self._prechecked, False
        with self._guard:
            self._message(fin, int(opcode), payload, compressed, prechecked)

    def _message(self, fin: bool, opcode: int, payload: Union[bytes, bytearray], compressed: int,
                 prechecked: bool) -> None:
        if opcode == OP_TEXT or opcode == OP_BINARY or opcode == OP_CONTINUATION:
            if opcode == OP_CONTINUATION and self._opcode == OPCODE_NOT_SET:
                raise continuation_not_started()
            if not fin:
                if opcode != OP_CONTINUATION:
                    if self._opcode != OPCODE_NOT_SET:
                        raise opcode_not_continuation(opcode)
                    self._opcode = opcode
                    if opcode == OP_TEXT and not prechecked:
                        self._utf8.reset()
                if self._opcode == OP_TEXT and not compressed and not prechecked:
                    self._check_text(payload, final=False)
                self._partial += payload
                return
            continued = opcode == OP_CONTINUATION
            has_partial = bool(self._partial)
            if continued:
                opcode, self._opcode = self._opcode, OPCODE_NOT_SET
            elif has_partial:
                raise opcode_not_continuation(opcode)
            assembled: Union[bytes, bytearray] = payload
            if has_partial:
                assembled = self._partial + payload
                self._partial.clear()
            if compressed:
                merged = self._inflate(assembled)
            else:
                merged = assembled if type(assembled) is bytes else bytes(assembled)
            if opcode == OP_TEXT:
                if compressed:
                    self._utf8.reset()
                    self._check_text(merged, final=True)
                elif prechecked:
                    self._check_text(b"", final=True)
                elif continued:
                    self._check_text(payload, final=True)
                else:
                    self._utf8.reset()
                    self._check_text(merged, final=True)
                message: Union[WSMessage, WSMessageTextBytes]
                if self._decode_text:
                    message = _new_tuple(WSMessage, (WSMsgType.TEXT, merged.decode("utf-8"), ""))
                else:
                    message = _new_tuple(WSMessageTextBytes, (WSMsgType.TEXT, merged, ""))
            else:
                message = _new_tuple(WSMessage, (WSMsgType.BINARY, merged, ""))
            self.queue.feed_data(message, len(merged))
        elif opcode == OP_CLOSE:
            if len(payload) >= 2:
                code = int.from_bytes(payload[:2], "big")
                error = bad_close_code(code)
                if error is not None:
                    raise error
                try:
                    reason = payload[2:].decode("utf-8")
                except UnicodeDecodeError as exc:
                    raise invalid_text() from exc
                message = _new_tuple(WSMessage, (WSMsgType.CLOSE, code, reason))
            elif payload:
                raise invalid_close_frame(fin, opcode, payload)
            else:
                message = _new_tuple(WSMessage, (WSMsgType.CLOSE, 0, ""))
            self.queue.feed_data(message, 0)
        elif opcode == OP_PING:
            self.queue.feed_data(_new_tuple(WSMessage, (WSMsgType.PING, payload, "")), len(payload))
        elif opcode == OP_PONG:
            self.queue.feed_data(_new_tuple(WSMessage, (WSMsgType.PONG, payload, "")), len(payload))
        else:
            raise unexpected_opcode(opcode)

    def _inflate(self, assembled: Union[bytes, bytearray]) -> bytes:
        """A compressed message inflated as aiohttp inflates it (RFC 7692
        section 7.2.2), by its zlib backend and with its limits: one byte
        past the limit is asked for, to tell a message at the limit from one
        over it."""
        if self._decompressobj is None:
            self._decompressobj = ZLibDecompressor(suppress_deflate_header=True)
        limit = self._max_msg_size
        try:
            inflated: bytes = self._decompressobj.decompress_sync(assembled + WS_DEFLATE_TRAILING,
                                                                  limit + 1 if limit else limit)
        except TooManyMembersError as exc:
            raise too_many_members() from exc
        if limit and len(inflated) > limit:
            raise inflated_too_big(limit)
        return inflated


class ServerWebSocketReader(WebSocketReader):
    """The reader of ``aiohttp.web``: clients must mask (RFC 6455 section 5.1)."""

    _role = ROLE_SERVER


class ClientWebSocketReader(WebSocketReader):
    """The reader of ``ClientSession.ws_connect``: servers must not mask."""

    _role = ROLE_CLIENT


# The writer -------------------------------------------------------------------

#: The Random a WebSocketWriter uses unless it is given one: its keys are
#: replaced by wsframe's CSPRNG keys; a Random of the caller's own is kept.
DEFAULT_RANDOM = inspect.signature(_writer_module.WebSocketWriter.__init__).parameters["random"].default


def write_websocket_frame(self: Any, message: Union[bytes, bytearray, memoryview], opcode: int, rsv: int) -> None:
    """aiohttp's ``WebSocketWriter._write_websocket_frame``, encoding with wsframe."""
    msg_length = len(message)
    if self.transport.is_closing():
        raise ClientConnectionResetError("Cannot write to closing transport")
    if self.use_mask:
        # RFC 6455 section 5.3: a fresh key per frame from a strong source of entropy.
        key: Union[bool, bytes] = True
        if getattr(getattr(self.get_random_bits, "func", None), "__self__", None) is not DEFAULT_RANDOM:
            key = helpers.PACK_RANDBITS(self.get_random_bits())
        self.transport.write(encode_frame(opcode, message, rsv1=bool(rsv), mask=key))
        self._output_size += helpers.MASK_LEN
    elif msg_length > helpers.MSG_SIZE:
        # The payload after its header, as aiohttp writes it: no copy of it.
        self.transport.write(encode_header(opcode, msg_length, rsv1=bool(rsv)))
        self.transport.write(message)
    else:
        self.transport.write(encode_frame(opcode, message, rsv1=bool(rsv)))
    self._output_size += header_length(msg_length, False) + msg_length
