"""Drop-in: wsframe under aiohttp's WebSocket reader and writer.

``install()`` puts wsframe under the two ends of aiohttp's WebSocket
framing, for its server (``aiohttp.web``) and its client
(``ClientSession.ws_connect``) alike:

- **Reading.** :class:`WebSocketReader` takes the place of aiohttp's
  ``aiohttp._websocket.reader.WebSocketReader`` wherever aiohttp binds that
  name (``web_ws``, ``client``, ``client_ws``, ``http_websocket``, ``http``).
  A wsframe ``FrameDecoder`` splits the bytes into frames and unmasks them
  in C; what follows is aiohttp's: the header rules and their
  ``WebSocketError`` codes and words, ``max_msg_size`` (checked from the
  header, the message so far included), message assembly, permessage-deflate,
  ``decode_text``, the ``WSMessage`` tuples, and the flow control that stops
  parsing while the application lags. The reader runs on aiohttp's
  pure-Python ``WebSocketDataQueue``, which the drop-in binds in the same
  places: the compiled queue lets only the compiled reader pause parsing.
- **Writing.** ``WebSocketWriter._write_websocket_frame`` encodes each frame
  with wsframe: one call builds the header and masks the payload in the same
  copy. A large unmasked payload is still written after its header, without
  a copy. A client writer masks with keys from wsframe's CSPRNG pool (RFC
  6455 section 5.3), unless it was given its own ``random``, which it then
  keeps using.

wsframe adds its strictness. A frame's mask bit must be the one RFC 6455
section 5.1 requires of the sender: a server's reader refuses unmasked
frames and a client's refuses masked ones (a reader made directly, with no
role, takes the role the first frame shows). A length not in its shortest
form is refused (1002). After a close frame the reader reads nothing more
(section 1.4). A control frame over 125 bytes cannot be sent (``ValueError``).
``uninstall()`` restores aiohttp's own classes; connections made meanwhile
keep what they started with.
"""

from __future__ import annotations

import inspect
import operator
from collections import deque
from typing import Any, Deque, List, Optional, Tuple, Union

from aiohttp import client, client_ws, http, http_websocket, web_ws
from aiohttp._websocket import helpers, models, reader, reader_py
from aiohttp._websocket import writer as _writer_module
from aiohttp.client_exceptions import ClientConnectionResetError

from ._dropin import DropIn, Patch
from .._backend import FrameDecoder, encode_frame, encode_header
from .._errors import ProtocolError
from .._rfc6455 import MAX_LENGTH_7, RSV1, header_length
from .._types import Role

__all__ = ["SUPPORTED", "WebSocketReader", "install", "installed", "uninstall"]

#: The aiohttp releases the drop-in supports; CI tests the oldest and the newest.
SUPPORTED = ">=3.14.4,<4"

WebSocketError = models.WebSocketError
WSCloseCode = models.WSCloseCode
WSMessage = models.WSMessage
_TEXT, _BINARY, _CLOSE = int(models.WSMsgType.TEXT), int(models.WSMsgType.BINARY), int(models.WSMsgType.CLOSE)
_TEXT_TYPE, _BINARY_TYPE = models.WSMsgType.TEXT, models.WSMsgType.BINARY
_DATA_OPCODES = (0x0, 0x1, 0x2)
_KNOWN_OPCODES = (0x0, 0x1, 0x2, 0x8, 0x9, 0xA)
_new_tuple = tuple.__new__
_payload_of = operator.itemgetter(1)
_NOT_SET, _FALSE, _TRUE = reader_py.COMPRESSED_NOT_SET, reader_py.COMPRESSED_FALSE, reader_py.COMPRESSED_TRUE
_OPCODE_NOT_SET = reader_py.OP_CODE_NOT_SET
# The drop-in's reader runs on aiohttp's pure-Python queue (see the module docstring).
WebSocketDataQueue = reader_py.WebSocketDataQueue

# Where aiohttp binds the reader and the queue by name: module -> names.
_BINDINGS = {
    reader: ("WebSocketReader", "WebSocketDataQueue"),
    http_websocket: ("WebSocketReader",),
    http: ("WebSocketReader",),
    web_ws: ("WebSocketReader", "WebSocketDataQueue"),
    client: ("WebSocketReader", "WebSocketDataQueue"),
    client_ws: ("WebSocketReader", "WebSocketDataQueue"),
}


def _wire_lengths(frames: List[Any], masked: bool) -> int:
    """The bytes these frames took on the wire: wsframe accepts only the
    shortest length form, so each header follows from its payload length."""
    lengths = list(map(len, map(_payload_of, frames)))
    shortest = header_length(0, masked)
    total = sum(lengths) + shortest * len(lengths)
    if max(lengths) > MAX_LENGTH_7:
        # Only the frames with an extended length field need a second look.
        total += sum([header_length(length, masked) - shortest for length in lengths if length > MAX_LENGTH_7])
    return total


class WebSocketReader(reader_py.WebSocketReader):
    """aiohttp's WebSocket reader with wsframe splitting and unmasking frames.

    The class is aiohttp's pure-Python reader, whose message layer
    (``_handle_frame``), flow control and errors run as they are; only
    ``_feed_data``, the frame layer, is wsframe's. Frames a read completes
    wait in the reader while the queue is over its limit, as the unparsed
    bytes of aiohttp's own reader do, so a burst of compressed frames is not
    inflated into the queue all at once."""

    #: The role of the side that reads, which decides the legal mask bit; None: the first frame's.
    role: Optional[Role] = None

    def __init__(self, queue: Any, max_msg_size: int, compress: bool, decode_text: bool) -> None:
        super().__init__(queue, max_msg_size, compress, decode_text)
        self._decoder: Any = None
        self._ready: Deque[Tuple[Any, ...]] = deque()  # frames decoded, not yet handed on
        self._refused: Optional[ProtocolError] = None  # wsframe's verdict on the frame after those in _ready
        self._masked = False  # frames arrive masked (the reader's role is the server's)
        self._head = b""  # the first bytes (up to 14) of the frame in progress
        self._pending = 0  # how many bytes of it arrived

    def _feed_data(self, data: bytes) -> None:
        queue = self.queue
        queue._stalled_reader = None
        if data:
            self._split(data)
        ready = self._ready
        if ready:
            self._deliver(ready)
        while ready or self._refused is not None or self._pending:
            # aiohttp's flow control: with the queue over its high-water mark,
            # stop, and let the queue drive the reader again once drained.
            if queue._size > queue._limit:
                queue._stalled_reader = self._weak_self
                return
            if ready:
                self._deliver(ready)
                continue
            # The frame in progress, or the one wsframe refused: aiohttp
            # judges a header as soon as it has its bytes, by its own rules
            # and in its own words; wsframe's reason covers the rules
            # aiohttp does not have.
            error = self._header_error(self._head)
            if error is not None:
                raise error
            if self._refused is not None and len(self._head) >= 2:
                raise WebSocketError(WSCloseCode.PROTOCOL_ERROR, self._refused.reason)
            return

    def _deliver(self, ready: Deque[Tuple[Any, ...]]) -> None:
        """Hand frames on, in order, until the queue is over its limit.

        A frame that is a whole uncompressed message, the common case, becomes
        a message here, as aiohttp's _handle_frame would make it; the queue
        gets what its feed_data would do per message, once per batch (its
        size, the waiting reader woken, the transport paused over the limit).
        Any other frame goes through _on_frame, aiohttp's own way."""
        queue = self.queue
        limit, size = queue._limit, queue._size
        put = queue._put_buffer
        overhead = reader_py.MSG_SIZE_OVERHEAD
        decode_text = self._decode_text
        popleft = ready.popleft
        delivered = False
        # No fragmented message open: a final data frame is a whole message.
        whole = self._opcode == _OPCODE_NOT_SET and not self._partial
        # A limit under 126 bytes, which the decoder cannot hold data frames to.
        small_limit = self._max_msg_size if 0 < self._max_msg_size < 126 else 0
        try:
            while ready and size <= limit:
                opcode, payload, fin, rsv1, rsv2, rsv3, _ = popleft()
                if (whole and fin and (opcode == _BINARY or opcode == _TEXT) and not rsv1
                        and not (small_limit and len(payload) >= small_limit)):
                    # aiohttp's header rules for such a frame: nothing to
                    # refuse (the decoder refused RSV2 and RSV3), and a
                    # message that is not compressed.
                    if opcode == _BINARY:
                        put((_new_tuple(WSMessage, (_BINARY_TYPE, payload, "")), len(payload)))
                    elif decode_text:
                        try:
                            text = payload.decode("utf-8")
                        except UnicodeDecodeError as exc:
                            raise WebSocketError(WSCloseCode.INVALID_TEXT, "Invalid UTF-8 text message") from exc
                        put((_new_tuple(WSMessage, (_TEXT_TYPE, text, "")), len(payload)))
                    else:
                        put((_new_tuple(models.WSMessageTextBytes, (_TEXT_TYPE, payload, "")), len(payload)))
                    size += len(payload) + overhead
                    delivered = True
                    continue
                queue._size = size
                if delivered:
                    delivered = False
                    self._settle(queue)
                self._on_frame(opcode, payload, fin, rsv1, rsv2, rsv3)
                size = queue._size
                whole = self._opcode == _OPCODE_NOT_SET and not self._partial
        finally:
            queue._size = size
            if delivered:
                self._settle(queue)

    def _settle(self, queue: Any) -> None:
        """After whole messages: the reader's state as aiohttp's header rules
        leave it, and what aiohttp's queue.feed_data does after adding one
        (the waiting reader woken, the transport paused over the limit)."""
        self._compressed, self._frame_fin = _FALSE, True
        queue._release_waiter()
        if queue._size > queue._limit and not queue._protocol._reading_paused:
            queue._protocol.pause_reading()

    def _split(self, data: bytes) -> None:
        """Decode ``data`` into frames, queued in _ready; note the first bytes
        of the frame in progress (or of the one wsframe refused)."""
        decoder = self._decoder
        if decoder is None:
            head = self._head + data
            if len(head) < 2:
                self._head, self._pending = head, len(head)
                return
            # A reader made with no role takes the first frame's.
            role = self.role or (Role.SERVER if head[1] & 0x80 else Role.CLIENT)
            self._masked = role is Role.SERVER
            decoder = self._decoder = self._new_decoder(role)
            data, self._head, self._pending = head, b"", 0
        elif self._refused is not None:
            if len(self._head) < 14:
                self._head = (self._head + data)[:14]
            return
        try:
            frames = decoder.feed(data)
        except ProtocolError as error:
            frames, self._refused = error.events, error
        self._ready.extend(frames)
        if decoder.closed:
            # A close frame ends a wsframe decoder's stream (RFC 6455 section
            # 1.4), but aiohttp's reader reads on and leaves it to the
            # connection to ignore what follows: so does this one.
            after = decoder.bytes_after_close
            self._decoder = self._new_decoder(Role.SERVER if self._masked else Role.CLIENT)
            self._head, self._pending = b"", 0
            if after:
                self._split(data[len(data) - after :])
            return
        taken = _wire_lengths(frames, self._masked) if frames else 0
        if taken:
            self._head = data[taken - self._pending : taken - self._pending + 14]
        elif len(self._head) < 14:
            self._head = (self._head + data)[:14]
        self._pending += len(data) - taken

    def _new_decoder(self, role: Role) -> Any:
        # aiohttp refuses a data frame whose length reaches max_msg_size (0:
        # no limit), and RSV2, RSV3, and RSV1 without compression, first of
        # all its rules: wsframe refuses them from the header too.
        # aiohttp's limit is for data frames; a control frame carries up to
        # 125 bytes whatever it is, so under 126 it is checked frame by frame.
        limit = max(self._max_msg_size - 1, 125) if self._max_msg_size else None
        return FrameDecoder(role, max_frame_size=limit, allowed_rsv=RSV1 if self._compress else 0)

    def _on_frame(self, opcode: int, payload: bytes, fin: bool, rsv1: bool, rsv2: bool, rsv3: bool) -> None:
        """One whole frame, through aiohttp's header rules and message layer."""
        if rsv2 or rsv3 or (rsv1 and not self._compress) or (rsv1 and opcode > 0x7 and _rsv1_on_control_refused()):
            raise WebSocketError(WSCloseCode.PROTOCOL_ERROR, "Received frame with non-zero reserved bits")
        if opcode <= 0x7:
            # A message's first frame decides whether it is compressed (RFC 7692 section 6).
            if self._frame_fin or self._compressed == _NOT_SET:
                self._compressed = _TRUE if rsv1 else _FALSE
            elif rsv1:
                raise WebSocketError(WSCloseCode.PROTOCOL_ERROR, "Received frame with non-zero reserved bits")
            self._frame_fin = fin
            if self._max_msg_size:
                # The decoder's limit held the frame to max_msg_size (or 125
                # bytes); the message so far may leave it less.
                length = len(payload) + len(self._partial)
                if length >= self._max_msg_size:
                    raise WebSocketError(WSCloseCode.MESSAGE_TOO_BIG,
                                         f"Message size {length} exceeds limit {self._max_msg_size}")
        if self._masked and opcode > 0x7:
            # aiohttp unmasks into a bytearray, which control messages (a
            # ping's data) and its words about them show.
            payload = bytearray(payload)  # type: ignore[assignment]
        # aiohttp hands control frames the last data frame's FIN bit, and
        # shows opcodes as plain ints in its words.
        self._handle_frame(self._frame_fin, int(opcode), payload, self._compressed)

    def _header_error(self, head: bytes) -> Optional[Exception]:
        """The error aiohttp raises for a frame starting with ``head``, given
        the reader's state, or None if its rules let the header pass."""
        if len(head) < 2:
            return None
        first, second = head[0], head[1]
        opcode, length = first & 0x0F, second & 0x7F
        if first & 0x30 or (first & 0x40 and not self._compress):
            return WebSocketError(WSCloseCode.PROTOCOL_ERROR, "Received frame with non-zero reserved bits")
        if opcode not in _KNOWN_OPCODES:
            return WebSocketError(WSCloseCode.PROTOCOL_ERROR, f"Unexpected opcode={opcode!r}")
        if opcode > 0x7 and not first & 0x80:
            return WebSocketError(WSCloseCode.PROTOCOL_ERROR, "Received fragmented control frame")
        if opcode > 0x7 and length > 125:
            return WebSocketError(WSCloseCode.PROTOCOL_ERROR, "Control frame payload cannot be larger than 125 bytes")
        if opcode > 0x7 and first & 0x40 and _rsv1_on_control_refused():
            return WebSocketError(WSCloseCode.PROTOCOL_ERROR, "Received frame with non-zero reserved bits")
        if opcode <= 0x7 and first & 0x40 and not (self._frame_fin or self._compressed == _NOT_SET):
            return WebSocketError(WSCloseCode.PROTOCOL_ERROR, "Received frame with non-zero reserved bits")
        if length == 126:
            if len(head) < 4:
                return None
            length = int.from_bytes(head[2:4], "big")
        elif length == 127:
            if len(head) < 10:
                return None
            length = int.from_bytes(head[2:10], "big")
            if length > reader_py.MAX_PAYLOAD_LEN:
                return WebSocketError(
                    WSCloseCode.MESSAGE_TOO_BIG,
                    f"Message size {length + len(self._partial)} exceeds limit "
                    f"{self._max_msg_size or reader_py.MAX_PAYLOAD_LEN}")
        partial = len(self._partial)
        if self._max_msg_size and opcode in _DATA_OPCODES and length >= self._max_msg_size - partial:
            return WebSocketError(WSCloseCode.MESSAGE_TOO_BIG,
                                  f"Message size {length + partial} exceeds limit {self._max_msg_size}")
        return None

class ServerWebSocketReader(WebSocketReader):
    """The reader of ``aiohttp.web``: clients must mask (RFC 6455 section 5.1)."""

    role = Role.SERVER


class ClientWebSocketReader(WebSocketReader):
    """The reader of ``ClientSession.ws_connect``: servers must not mask."""

    role = Role.CLIENT


# The writer -------------------------------------------------------------------

# The Random a WebSocketWriter uses unless it is given one: its keys are
# replaced by wsframe's CSPRNG keys; a Random of the caller's own is kept.
_DEFAULT_RANDOM = inspect.signature(_writer_module.WebSocketWriter.__init__).parameters["random"].default


def _write_websocket_frame(self: _writer_module.WebSocketWriter, message: Union[bytes, bytearray, memoryview], opcode: int,
                           rsv: int) -> None:
    """aiohttp's ``WebSocketWriter._write_websocket_frame``, encoding with wsframe."""
    msg_length = len(message)
    head_length = header_length(msg_length, False)
    if self.transport.is_closing():
        raise ClientConnectionResetError("Cannot write to closing transport")
    if self.use_mask:
        # RFC 6455 section 5.3: a fresh key per frame from a strong source of entropy.
        key: Union[bool, bytes] = True
        if getattr(getattr(self.get_random_bits, "func", None), "__self__", None) is not _DEFAULT_RANDOM:
            key = helpers.PACK_RANDBITS(self.get_random_bits())
        self.transport.write(encode_frame(opcode, message, rsv1=bool(rsv), mask=key))
        self._output_size += helpers.MASK_LEN
    elif msg_length > helpers.MSG_SIZE:
        # The payload after its header, as aiohttp writes it: no copy of it.
        self.transport.write(encode_header(opcode, msg_length, rsv1=bool(rsv)))
        self.transport.write(message)
    elif rsv:
        self.transport.write(encode_frame(opcode, message, rsv1=True))
    else:
        # Positional arguments only: keywords cost a compiled function more to parse.
        self.transport.write(encode_frame(opcode, message))
    self._output_size += head_length + msg_length


# install() ----------------------------------------------------------------------


def _layout_problems() -> List[str]:
    """What the drop-in needs of aiohttp's internals and does not find."""
    problems = []
    for module, names in _BINDINGS.items():
        problems += [f"{module.__name__}.{name}" for name in names if not hasattr(module, name)]
    needs = (
        (reader_py.WebSocketReader, ("feed_data", "feed_eof", "_handle_frame", "_feed_data")),
        (reader_py.WebSocketDataQueue, ("feed_data", "read", "_read_from_buffer")),
        (_writer_module.WebSocketWriter, ("_write_websocket_frame", "send_frame")),
        (reader_py, ("COMPRESSED_NOT_SET", "COMPRESSED_FALSE", "COMPRESSED_TRUE", "OP_CODE_NOT_SET",
                     "MAX_PAYLOAD_LEN")),
        (helpers, ("PACK_RANDBITS", "MASK_LEN", "MSG_SIZE")),
        (models, ("WSMessageTextBytes",)),
    )
    for owner, names in needs:
        problems += [f"{getattr(owner, '__qualname__', getattr(owner, '__name__', owner))}.{name}"
                     for name in names if not hasattr(owner, name)]
    if getattr(_DEFAULT_RANDOM, "getrandbits", None) is None:
        problems.append("WebSocketWriter(random=...)'s default")
    if not problems:
        # The attributes the reader's frame layer reads and writes, on the
        # pure-Python reader and queue it runs on.
        import asyncio

        loop = asyncio.new_event_loop()
        try:
            queue = reader_py.WebSocketDataQueue(_NoProtocol(), 2**16, loop=loop)  # type: ignore[arg-type]
            sample = reader_py.WebSocketReader(queue, 2**20, compress=True, decode_text=True)
        finally:
            loop.close()
        problems += [f"WebSocketDataQueue().{name}" for name in ("_size", "_limit", "_stalled_reader")
                     if not hasattr(queue, name)]
        problems += [f"WebSocketReader().{name}" for name in (
            "queue", "_max_msg_size", "_compress", "_decode_text", "_partial", "_opcode", "_compressed",
            "_frame_fin", "_weak_self") if not hasattr(sample, name)]
    return problems


_RSV1_ON_CONTROL: List[bool] = []


def _rsv1_on_control_refused() -> bool:
    """Whether this aiohttp's own reader refuses RSV1 on a control frame when
    compression is on: 3.14.4 does (RFC 7692 section 6.1), 3.14.5 lets it
    pass for interoperability. Asked of aiohttp's reader itself, once."""
    if not _RSV1_ON_CONTROL:
        import asyncio

        loop = asyncio.new_event_loop()
        try:
            queue = reader_py.WebSocketDataQueue(_NoProtocol(), 2**16, loop=loop)  # type: ignore[arg-type]
            probe = reader_py.WebSocketReader(queue, 2**20, compress=True, decode_text=True)
            try:
                probe._feed_data(bytes([0xC0 | 0x9, 0]))  # a ping with RSV1 set
                _RSV1_ON_CONTROL.append(False)
            except WebSocketError:
                _RSV1_ON_CONTROL.append(True)
        finally:
            loop.close()
    return _RSV1_ON_CONTROL[0]


class _NoProtocol:
    """Stands in for the protocol a queue pauses and resumes."""

    _reading_paused = False


def _reader_patches() -> List[Patch]:
    """Where aiohttp binds its reader and queue; the server's reader and the
    client's know their role."""
    replacements = {"WebSocketDataQueue": WebSocketDataQueue, "WebSocketReader": WebSocketReader}
    patches = [Patch(module, name, replacements[name]) for module, names in _BINDINGS.items() for name in names]
    roles = {web_ws: ServerWebSocketReader, client: ClientWebSocketReader}
    return [Patch(patch.owner, patch.name, roles[patch.owner]) if patch.owner in roles and
            patch.name == "WebSocketReader" else patch for patch in patches]


_DROPIN = DropIn(
    "aiohttp",
    SUPPORTED,
    {"reader": _reader_patches(),
     "writer": [Patch(_writer_module.WebSocketWriter, "_write_websocket_frame", _write_websocket_frame)]},
    _layout_problems,
)


def install(*, reader: bool = True, writer: bool = True, force: bool = False) -> None:
    """Put wsframe under aiohttp's WebSocket reader (``reader``) and writer (``writer``).

    What is left out runs on aiohttp's own code: ``install(reader=False)``
    after ``install()`` gives the reader back to aiohttp. Raises
    ``RuntimeError`` for an aiohttp outside :data:`SUPPORTED` (``force=True``
    installs anyway) and, whatever ``force`` says, for one whose internals
    are not where the drop-in expects them; either way nothing is replaced."""
    _DROPIN.install(force=force, reader=reader, writer=writer)


def uninstall() -> None:
    """Restore aiohttp's own reader, queue and writer."""
    _DROPIN.uninstall()


def installed() -> bool:
    """Whether aiohttp currently runs on wsframe, reader or writer."""
    return _DROPIN.installed()
