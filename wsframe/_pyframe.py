"""Pure-Python backend: the same functions as the C extension ``_cframe``.

Used on interpreters without the extension (PyPy, no compiler) or when
``WSFRAME_PURE_PYTHON=1``. Behaviour, including the order of checks and every
message, must match ``_cframe.pyx``; the conformance suite runs against both
and the differential tests compare them on random input.
"""

from __future__ import annotations

import codecs
import operator
import os
import sys
import threading
import traceback
from typing import List, Optional, Tuple, Union

from . import _errors
from ._close import parse_close_payload
from ._deflate import DeflateParameters, inflater_for
from ._events import BinaryMessage, Event, Frame, Ping, Pong, TextMessage
from ._rfc6455 import (
    ALL_RSV,
    CONTROL_BIT,
    FIN,
    LENGTH_16,
    LENGTH_64,
    MASK_BIT,
    MASK_KEY_LENGTH,
    MAX_CONTROL_PAYLOAD_LENGTH,
    MAX_HEADER_LENGTH,
    MAX_LENGTH_7,
    MAX_LENGTH_16,
    MAX_PAYLOAD_LENGTH,
    OP_CLOSE,
    OP_CONTINUATION,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    OPCODE_BITS,
    PAYLOAD_LENGTH_BITS,
    RSV1,
    RSV2,
    RSV3,
)
from ._types import DEFAULT_MAX_SIZE, FrameHeader, Opcode, Role

__all__ = [
    "MASK_KERNEL",
    "UTF8_KERNEL",
    "FrameDecoder",
    "MessageDecoder",
    "encode_frame",
    "encode_header",
    "mask",
    "mask_inplace",
    "parse_header",
]

#: How this backend masks payloads; shown by ``python -m wsframe info``.
MASK_KERNEL = "python (big-integer XOR under 1 KiB, strided bytes.translate above)"

#: How this backend validates and decodes UTF-8; shown by ``python -m wsframe info``.
UTF8_KERNEL = "python (the interpreter's strict UTF-8 codec)"

#: A piece of payload handed between layers: bytes, a fresh bytearray, or a
#: view of the caller's buffer that must be copied before it is kept.
Payload = Union[bytes, bytearray, memoryview]

# Opcode members by value; None marks a reserved opcode (RFC 6455 section 5.2).
_OPCODES = tuple(Opcode(v) if v in Opcode._value2member_map_ else None for v in range(16))
# The decoders compare opcodes against _rfc6455's plain ints on every frame:
# an Opcode member looked up on its class costs 60 ns a time on CPython 3.11.
_new_header = tuple.__new__
# An offset fits a C Py_ssize_t and is not negative when these bits are clear.
_SSIZE_BITS = sys.maxsize.bit_length()
# The FrameHeader fields that a header's first byte sets: (fin, rsv1, rsv2,
# rsv3, opcode), looked up rather than computed for every frame.
_FIRST_BYTE_FIELDS = tuple(
    (bool(first & FIN), bool(first & RSV1), bool(first & RSV2), bool(first & RSV3), _OPCODES[first & OPCODE_BITS])
    for first in range(256)
)


def _ssize(value: object) -> int:
    """Convert to a C Py_ssize_t's range, as the C backend's arguments are."""
    number = operator.index(value)  # type: ignore[arg-type]
    if not -sys.maxsize - 1 <= number <= sys.maxsize:
        raise _errors.ssize_overflow()
    return number


def _reader_is_server(role: object) -> bool:
    if role is Role.SERVER:
        return True
    if role is Role.CLIENT:
        return False
    raise _errors.bad_role(role)


def _allowed_rsv_arg(allowed_rsv: object) -> int:
    rsv = _ssize(allowed_rsv)
    if rsv & ~ALL_RSV:
        raise _errors.bad_allowed_rsv(rsv)
    return rsv


def _byte_view(data: object, function: str, argument: str) -> Union[bytes, memoryview]:
    """A flat, indexable view of ``data`` as unsigned bytes."""
    if type(data) is bytes:
        return data
    try:
        view = memoryview(data)  # type: ignore[arg-type]
    except TypeError:
        raise _errors.not_a_buffer(function, argument, data) from None
    if not view.c_contiguous:
        raise _errors.not_contiguous(function, argument)
    if view.format != "B" or view.ndim != 1:
        view = view.cast("B")
    return view


def _mask_key(key: object, function: str, argument: str) -> bytes:
    key_bytes = bytes(_byte_view(key, function, argument))
    if len(key_bytes) != MASK_KEY_LENGTH:
        raise _errors.bad_mask_key_length(len(key_bytes))
    return key_bytes


# XOR tables for bytes.translate, one per key byte value, built on first use.
_XOR_TABLES: List[Optional[bytes]] = [None] * 256

# From this many bytes up, four strided translate() calls beat one big-integer
# XOR (measured: 1.2x at 1 KiB, 1.7x at 64 KiB, 2.9x at 1 MiB on CPython 3.11).
_TRANSLATE_THRESHOLD = 1024


def _xor_table(key_byte: int) -> bytes:
    table = _XOR_TABLES[key_byte]
    if table is None:
        table = _XOR_TABLES[key_byte] = bytes(value ^ key_byte for value in range(256))
    return table


def _xor(view: Union[bytes, bytearray, memoryview], key: bytes, phase: int) -> Union[bytes, bytearray]:
    """``view`` XOR the key stream that starts at key byte ``phase``, as a new object.

    The key repeats every 4 bytes, so masking is four byte substitutions, one
    per residue class of the position modulo 4, each done by ``translate`` in
    C. Below a kilobyte, one big-integer XOR costs less.
    """
    length = len(view)
    if length < _TRANSLATE_THRESHOLD:
        if phase:
            key = key[phase:] + key[:phase]
        stream = key * ((length >> 2) + 1)
        value = int.from_bytes(view, "little") ^ int.from_bytes(stream[:length], "little")
        return value.to_bytes(length, "little")
    # Strided slices of a bytearray are much cheaper than of bytes (70 vs
    # 105 us per 64 KiB, measured), so copy once and substitute in place.
    out = bytearray(view)
    _translate_in_place(out, 0, key, phase)
    return out


def _translate_in_place(buffer: bytearray, start: int, key: bytes, phase: int) -> None:
    """XOR ``buffer[start:]`` with the key stream from ``phase``, in place:
    one ``translate`` per residue class of the position modulo 4."""
    tables = _XOR_TABLES
    for residue in range(4):
        key_byte = key[(phase + residue) & 3]
        table = tables[key_byte] or _xor_table(key_byte)
        buffer[start + residue :: 4] = buffer[start + residue :: 4].translate(table)


def parse_header(
    data: object,
    offset: int = 0,
    *,
    role: Role = Role.SERVER,
    allowed_rsv: int = 0,
    max_payload_length: Optional[int] = None,
) -> Optional[FrameHeader]:
    """Parse one frame header from ``data`` starting at ``offset``.

    ``data`` is any contiguous buffer (bytes, bytearray, memoryview, mmap...).
    Returns a :class:`FrameHeader`, or ``None`` when the bytes present are not
    yet a whole header; it never raises because input is short.

    RFC 6455 section 5.2 is enforced as soon as the bytes that prove a
    violation are present, each failure a :class:`ProtocolError` carrying the
    close code to send: a reserved opcode, an RSV bit outside
    ``allowed_rsv`` (a combination of :class:`Rsv` bits that negotiated
    extensions use), a fragmented control frame or one with over 125 bytes of
    payload, a mask bit wrong for ``role`` (the side that is reading; section
    5.1), a length not in its minimal form or with its top bit set: 1002. A
    payload longer than ``max_payload_length`` raises :class:`PayloadTooBig`
    (1009) from the header alone, before any payload arrives.
    """
    offset = _ssize(offset)
    allowed_rsv = _ssize(allowed_rsv)
    reader_is_server = _reader_is_server(role)
    if allowed_rsv & ~ALL_RSV:
        raise _errors.bad_allowed_rsv(allowed_rsv)
    if max_payload_length is not None:
        max_payload_length = operator.index(max_payload_length)
        if max_payload_length < 0:
            raise _errors.negative_argument("parse_header", "max_payload_length", max_payload_length)
    view = _byte_view(data, "parse_header", "data")
    if offset < 0:
        raise _errors.negative_argument("parse_header", "offset", offset)
    if offset > len(view):
        raise _errors.offset_past_end(offset, len(view))
    return _parse_header(view, offset, reader_is_server, allowed_rsv, max_payload_length)


def _parse_header(
    view: Union[bytes, bytearray, memoryview],
    offset: int,
    reader_is_server: bool,
    allowed_rsv: int,
    max_payload_length: Optional[int],
) -> Optional[FrameHeader]:
    """parse_header's work, on arguments already checked: the decoders call
    it for every frame, where checking them again cost half its time."""
    available = len(view) - offset

    # Each check runs as soon as the bytes it needs are present, so a bad
    # header fails at its first byte instead of waiting for the rest.
    if available < 1:
        return None
    first = view[offset]
    opcode = first & OPCODE_BITS
    opcode_member = _OPCODES[opcode]
    if opcode_member is None:
        raise _errors.reserved_opcode(opcode)
    rsv = first & ALL_RSV
    if rsv & ~allowed_rsv:
        raise _errors.rsv_not_negotiated(rsv & ~allowed_rsv)
    fin = first & FIN
    is_control = opcode & CONTROL_BIT
    if is_control and not fin:
        raise _errors.fragmented_control_frame(opcode)

    if available < 2:
        return None
    second = view[offset + 1]
    masked = second & MASK_BIT
    if (masked != 0) is not reader_is_server:
        raise _errors.mask_bit_wrong(reader_is_server)
    payload_length = second & PAYLOAD_LENGTH_BITS
    if is_control and payload_length > MAX_CONTROL_PAYLOAD_LENGTH:
        raise _errors.control_frame_too_long(opcode)

    # RFC 6455 section 5.2: "the minimal number of bytes MUST be used to
    # encode the length", and a 64-bit length has its top bit clear.
    if payload_length <= MAX_LENGTH_7:
        header_length = 2
    elif payload_length == LENGTH_16:
        if available < 4:
            return None
        payload_length = (view[offset + 2] << 8) | view[offset + 3]
        if payload_length <= MAX_LENGTH_7:
            raise _errors.non_minimal_length_16(payload_length)
        header_length = 4
    else:
        if available < 10:
            return None
        payload_length = int.from_bytes(view[offset + 2 : offset + 10], "big")
        if payload_length > MAX_PAYLOAD_LENGTH:
            raise _errors.length_msb_set()
        if payload_length <= MAX_LENGTH_16:
            raise _errors.non_minimal_length_64(payload_length)
        header_length = 10
    if max_payload_length is not None and payload_length > max_payload_length:
        raise _errors.frame_too_big(payload_length, max_payload_length)

    if masked:
        if available < header_length + MASK_KEY_LENGTH:
            return None
        start = offset + header_length
        fields: Tuple[bool, int, Optional[bytes], int] = (
            True, payload_length, bytes(view[start : start + MASK_KEY_LENGTH]), header_length + MASK_KEY_LENGTH
        )
    else:
        fields = (False, payload_length, None, header_length)
    return _new_header(FrameHeader, _FIRST_BYTE_FIELDS[first] + fields)


def _opcode_arg(opcode: object) -> int:
    value = _ssize(opcode)
    if not 0 <= value <= 0xF or _OPCODES[value] is None:
        raise _errors.bad_opcode(value)
    return value


def _check_control(opcode: int, fin: bool, payload_length: int) -> None:
    if opcode & CONTROL_BIT:
        if not fin:
            raise _errors.fragmented_control_frame_arg(opcode)
        if payload_length > MAX_CONTROL_PAYLOAD_LENGTH:
            raise _errors.control_payload_too_long_arg(opcode, payload_length)


def _header_bytes(
    opcode: int, payload_length: int, fin: bool, rsv1: bool, rsv2: bool, rsv3: bool, key: Optional[bytes]
) -> bytes:
    first = (FIN if fin else 0) | (RSV1 if rsv1 else 0) | (RSV2 if rsv2 else 0) | (RSV3 if rsv3 else 0)
    first |= opcode
    mask_bit = MASK_BIT if key is not None else 0
    if payload_length <= MAX_LENGTH_7:
        header = bytes((first, mask_bit | payload_length))
    elif payload_length <= MAX_LENGTH_16:
        header = bytes((first, mask_bit | LENGTH_16)) + payload_length.to_bytes(2, "big")
    else:
        header = bytes((first, mask_bit | LENGTH_64)) + payload_length.to_bytes(8, "big")
    if key is not None:
        header += key
    return header


def encode_header(
    opcode: int,
    payload_length: int,
    *,
    fin: bool = True,
    rsv1: bool = False,
    rsv2: bool = False,
    rsv3: bool = False,
    mask_key: object = None,
) -> bytes:
    """Encode a frame header for a payload of ``payload_length`` bytes.

    The length takes its shortest form (RFC 6455 section 5.2). Pass a 4-byte
    ``mask_key`` to set the mask bit and append the key; the caller then masks
    the payload, e.g. with :func:`mask`. Raises ``ValueError`` for an opcode
    RFC 6455 does not define, a fragmented control frame, a control payload
    over 125 bytes, or a length outside 0 to 2**63 - 1.
    """
    opcode = _opcode_arg(opcode)
    payload_length = operator.index(payload_length)
    if not 0 <= payload_length <= MAX_PAYLOAD_LENGTH:
        raise _errors.bad_payload_length(payload_length)
    fin = bool(fin)
    _check_control(opcode, fin, payload_length)
    key = None if mask_key is None else _mask_key(mask_key, "encode_header", "mask_key")
    return _header_bytes(opcode, payload_length, fin, bool(rsv1), bool(rsv2), bool(rsv3), key)


def encode_frame(
    opcode: int,
    payload: object,
    *,
    fin: bool = True,
    rsv1: bool = False,
    rsv2: bool = False,
    rsv3: bool = False,
    mask: object = False,
) -> bytes:
    """Encode a whole frame: header and payload, in one new ``bytes``.

    ``mask`` is ``False`` for an unmasked frame (what servers send), ``True``
    to mask with a fresh key from the operating system's CSPRNG (what clients
    must send, RFC 6455 section 5.3), or a 4-byte key to use. The payload is
    masked while it is copied. Raises ``ValueError`` as :func:`encode_header`.
    """
    opcode = _opcode_arg(opcode)
    view = _byte_view(payload, "encode_frame", "payload")
    payload_length = len(view)
    fin = bool(fin)
    _check_control(opcode, fin, payload_length)
    if mask is False or mask is None:
        key = None
    elif mask is True:
        # RFC 6455 section 5.3: a fresh, unpredictable key for every frame.
        key = os.urandom(MASK_KEY_LENGTH)
    else:
        key = _mask_key(mask, "encode_frame", "mask")
    header = _header_bytes(opcode, payload_length, fin, bool(rsv1), bool(rsv2), bool(rsv3), key)
    if key is None:
        return header + view
    return header + _xor(view, key, 0)


def mask(data: object, key: object, offset: int = 0) -> bytes:
    """Return ``data`` XORed with the 4-byte masking ``key`` (RFC 6455 5.3).

    Masking and unmasking are the same operation. ``offset`` is the position of
    ``data`` within the payload (only ``offset % 4`` matters), so a payload can
    be processed in chunks.
    """
    if ((type(data) is bytes or type(data) is bytearray) and type(key) is bytes and len(key) == 4
            and type(offset) is int and not offset >> _SSIZE_BITS):
        # The common calls, valid as given: skip the argument normalisation,
        # and below a kilobyte the call into _xor too (a third of a 16-byte
        # call's time).
        length = len(data)
        if length >= _TRANSLATE_THRESHOLD:
            return bytes(_xor(data, key, offset & 3))
        if type(data) is bytearray:
            # Read once, as bytes (which int.from_bytes would make of it
            # anyway): another thread may resize a bytearray between two
            # reads, even with the GIL, and the length must be the content's.
            data = bytes(data)
            length = len(data)
        phase = offset & 3
        if phase:
            key = key[phase:] + key[:phase]
        stream = (key * ((length >> 2) + 1))[:length]
        return (int.from_bytes(data, "little") ^ int.from_bytes(stream, "little")).to_bytes(length, "little")
    offset = _ssize(offset)
    view = _byte_view(data, "mask", "data")
    key_bytes = _mask_key(key, "mask", "key")
    if offset < 0:
        raise _errors.negative_argument("mask", "offset", offset)
    return bytes(_xor(view, key_bytes, offset & 3))


def mask_inplace(buffer: object, key: object, offset: int = 0) -> int:
    """XOR the writable ``buffer`` with ``key`` in place; return the next offset.

    The in-place form of :func:`mask` (RFC 6455 section 5.3), for unmasking a
    received payload without a copy.

    ``buffer`` is any writable contiguous buffer (bytearray, memoryview, mmap,
    array.array). The return value, ``(offset + len(buffer)) % 4``, is the
    ``offset`` to pass with the next chunk of the same payload.
    """
    offset = _ssize(offset)
    if type(buffer) is bytes:
        raise _errors.not_writable("mask_inplace", "buffer", buffer)
    view = _byte_view(buffer, "mask_inplace", "buffer")
    if view.readonly:  # type: ignore[union-attr]
        raise _errors.not_writable("mask_inplace", "buffer", buffer)
    key_bytes = _mask_key(key, "mask_inplace", "key")
    if offset < 0:
        raise _errors.negative_argument("mask_inplace", "offset", offset)
    view[:] = _xor(view, key_bytes, offset & 3)  # type: ignore[index]
    return (offset + len(view)) & 3


# max_events=None: as many events as the data completes.
_NO_EVENT_LIMIT = sys.maxsize

# The open text message is kept in decoded pieces of at least this many
# characters (a str costs some 50 bytes beside its characters).
_TEXT_PIECE = 256


def _max_events_arg(value: object) -> int:
    if value is None:
        return _NO_EVENT_LIMIT
    count = _ssize(value)
    if count < 1:
        raise _errors.bad_max_events(count)
    return count


def _limit_arg(value: object, function: str, argument: str) -> Optional[int]:
    if value is None:
        return None
    limit = operator.index(value)  # type: ignore[arg-type]
    if limit < 0:
        raise _errors.negative_argument(function, argument, limit)
    return limit


class _Reader:
    """The frame layer's state machine, shared by both decoders.

    ``feed`` walks the bytes: a header (kept in ``_partial`` while incomplete,
    at most 14 bytes), then its payload, handed to ``_on_payload`` piece by
    piece as it arrives, still masked. Nothing else is kept, so memory never
    grows with a length the peer only claimed. Subclasses append to ``_events``.
    A close frame ends the stream: what follows it is counted, not parsed.
    """

    def __init__(self, function: str, role: object, allowed_rsv: object, max_frame_size: object) -> None:
        self._reader_is_server = _reader_is_server(role)  # refuses anything but a Role
        self._role: Role = role  # type: ignore[assignment]
        self._allowed_rsv = _allowed_rsv_arg(allowed_rsv)
        self._max_frame_size = _limit_arg(max_frame_size, function, "max_frame_size")
        self._partial = bytearray()
        self._header: Optional[FrameHeader] = None
        self._received = 0
        self._error: Optional[BaseException] = None
        self._events: list = []  # type: ignore[type-arg]
        self._feeding = threading.Lock()  # held while a feed() runs
        self._closed = False
        self._bytes_after_close = 0
        self._held = b""  # bytes kept back, undecoded, once a feed() reached max_events
        self._max_events = _NO_EVENT_LIMIT

    @property
    def closed(self) -> bool:
        """Whether a close frame has ended the stream (RFC 6455 section 5.5.1)."""
        return self._closed

    @property
    def bytes_after_close(self) -> int:
        """How many bytes arrived after the close frame and were discarded."""
        return self._bytes_after_close

    @property
    def undecoded(self) -> int:
        """How many bytes ``feed()`` kept back undecoded when it reached ``max_events``."""
        return len(self._held)

    def feed(self, data: object, max_events: Optional[int] = None) -> list:  # type: ignore[type-arg]
        # Another thread may call feed() on this decoder while this one runs
        # Python code: refuse it, or the two would interleave one connection's
        # bytes. A lock's non-blocking acquire is an atomic check-and-set.
        if not self._feeding.acquire(blocking=False):
            raise _errors.feed_in_progress(type(self).__name__)
        try:
            if self._error is not None:
                raise _errors.decoder_failed(self._error)
            view = _byte_view(data, "feed", "data")
            self._max_events = _max_events_arg(max_events)
            events: list = []  # type: ignore[type-arg]
            if self._closed:
                # RFC 6455 section 1.4: after a close frame, "a peer discards
                # any further data received".
                self._bytes_after_close += len(view)
                return events
            stream = view
            if self._held:
                # What an earlier feed() kept back comes first.
                stream, self._held = self._held + view, b""
            self._events = events
            try:
                self._consume(stream)
            except BaseException as exc:
                # RFC 6455 section 7.1.7: the connection is failed; no
                # half-parsed state may be used again. What this chunk
                # completed before the violation goes with the error.
                if isinstance(exc, _errors.ProtocolError):
                    exc.events = events
                self._error = exc
                # As the C backend does, let go of the caller's buffer: views
                # of it in the traceback's frames would keep a bytearray from
                # being resized for as long as the error is kept.
                traceback.clear_frames(exc.__traceback__)
                raise
            finally:
                if type(view) is memoryview:
                    view.release()
            return events
        finally:
            self._feeding.release()

    def _consume(self, view: Union[bytes, memoryview]) -> None:
        size = len(view)
        position = 0
        while True:
            header = self._header
            if header is None:
                if self._partial:
                    had = len(self._partial)
                    take = min(MAX_HEADER_LENGTH - had, size - position)
                    candidate = self._partial + view[position : position + take]
                    header = _parse_header(
                        candidate, 0, self._reader_is_server, self._allowed_rsv, self._max_frame_size
                    )
                    if header is None:
                        self._partial = candidate
                        return
                    position += header.header_length - had
                    self._partial = bytearray()
                else:
                    if position == size:
                        return
                    header = _parse_header(
                        view, position, self._reader_is_server, self._allowed_rsv, self._max_frame_size
                    )
                    if header is None:
                        self._partial = bytearray(view[position:])
                        return
                    position += header.header_length
                self._header = header
                self._received = 0
                self._on_header(header)
            remaining = header.payload_length - self._received
            take = remaining if remaining < size - position else size - position
            if take or not remaining:
                # A large piece is sliced through a memoryview, so it is copied
                # once: by the unmasking, or by the layer that keeps it.
                if take < _TRANSLATE_THRESHOLD:
                    piece: Payload = view[position : position + take]
                else:
                    piece = memoryview(view)[position : position + take]
                self._on_payload(header, piece, take == remaining)
                position += take
                self._received += take
            if self._received < header.payload_length:
                return
            self._header = None
            if header.opcode == OP_CLOSE:
                # The close frame is the last one (sections 1.4, 5.5.1).
                self._closed = True
                self._bytes_after_close = size - position
                return
            if position < size and len(self._events) >= self._max_events:
                # Enough events for the caller: keep the rest for later.
                self._held = bytes(view[position:])
                return

    def _on_header(self, header: FrameHeader) -> None:
        raise NotImplementedError

    def _on_payload(self, header: FrameHeader, payload: Payload, frame_finished: bool) -> None:
        """Take the next piece of the payload, still masked: unmask it with
        ``_unmasked`` or ``_append_unmasked``. ``payload`` may be a view of the
        caller's buffer: keep a copy, never the object."""
        raise NotImplementedError

    def _unmasked(self, piece: Payload) -> Payload:
        """The piece unmasked: a new object, or ``piece`` itself if unmasked."""
        header = self._header
        if header is None or header.mask_key is None:
            return piece
        return _xor(piece, header.mask_key, self._received & 3)

    def _append_unmasked(self, buffer: bytearray, piece: Payload) -> None:
        """Append the piece to ``buffer`` and unmask it there, in one copy."""
        start = len(buffer)
        buffer += piece
        header = self._header
        if header is None or header.mask_key is None:
            return
        key, phase = header.mask_key, self._received & 3
        if len(piece) < _TRANSLATE_THRESHOLD:
            buffer[start:] = _xor(buffer[start:], key, phase)
        else:
            _translate_in_place(buffer, start, key, phase)


class FrameDecoder(_Reader):
    """Frame layer: bytes in any chunking, frames out (RFC 6455 section 5.2).

    ``feed(data)`` takes any bytes-like chunk and returns the frames it
    completed, payloads unmasked, as :class:`Frame`. Headers are validated as
    :func:`parse_header` does, with ``role`` and ``allowed_rsv``; a payload over
    ``max_frame_size`` (``None``: no limit) is refused from its header (1009).
    With ``chunked=True``, data frame payloads are delivered piece by piece as
    they arrive, so a large frame needs no buffer of its size.

    A violation raises :class:`ProtocolError`, whose ``events`` are the frames
    that ``feed`` completed before it; every later ``feed`` raises it again.
    A close frame ends the stream (RFC 6455 section 1.4): it is returned,
    ``closed`` becomes true, and every byte after it is discarded unparsed
    and counted in ``bytes_after_close``.

    ``feed(data, max_events=n)`` stops after the frame that completes the
    n-th event and keeps the bytes after it, undecoded (``undecoded``
    counts them); the next ``feed`` decodes them first, and ``feed(b"")``
    goes on without new data.
    """

    def __init__(
        self,
        role: Role = Role.SERVER,
        *,
        max_frame_size: Optional[int] = DEFAULT_MAX_SIZE,
        allowed_rsv: int = 0,
        chunked: bool = False,
    ) -> None:
        super().__init__("FrameDecoder", role, allowed_rsv, max_frame_size)
        self._chunked = bool(chunked)
        self._payload = bytearray()

    def feed(self, data: object, max_events: Optional[int] = None) -> List[Frame]:
        return super().feed(data, max_events)

    def _on_header(self, header: FrameHeader) -> None:
        self._payload = bytearray()

    def _on_payload(self, header: FrameHeader, payload: Payload, frame_finished: bool) -> None:
        if self._chunked and not header.opcode & CONTROL_BIT:
            if payload or frame_finished:
                self._emit(header, bytes(self._unmasked(payload)), frame_finished)
        elif frame_finished and not self._payload:
            self._emit(header, bytes(self._unmasked(payload)), True)
        else:
            self._append_unmasked(self._payload, payload)
            if frame_finished:
                self._emit(header, bytes(self._payload), True)
                self._payload = bytearray()

    def _emit(self, header: FrameHeader, payload: bytes, frame_finished: bool) -> None:
        self._events.append(
            _new_header(
                Frame, (header.opcode, payload, header.fin, header.rsv1, header.rsv2, header.rsv3, frame_finished)
            )
        )


class MessageDecoder(_Reader):
    """Message layer: bytes in any chunking, whole messages and control frames out.

    ``feed(data)`` returns the events it completed: :class:`TextMessage`,
    :class:`BinaryMessage`, :class:`Ping`, :class:`Pong` and :class:`Close`.
    Fragmented messages are reassembled (RFC 6455 section 5.4) and control
    frames between fragments are delivered at once. Enforced, each as a
    :class:`ProtocolError` with its close code: everything
    :class:`FrameDecoder` enforces; a continuation with no message open, or a
    new message while one is open: 1002; a message over
    ``max_message_size``, from the header that would exceed it: 1009; text
    that is not UTF-8, at the first byte that cannot be valid, as soon as it
    arrives: 1007 (section 8.1); a close frame with a 1-byte payload or a
    code a peer may not send: 1002, or a reason that is not UTF-8: 1007.

    No completed event is lost to an error: the :class:`ProtocolError`'s
    ``events`` are what ``feed`` completed before the violation. Handle them,
    then fail the connection; every later ``feed`` raises the error again.
    A close frame ends the stream (RFC 6455 section 1.4): its :class:`Close`
    is returned, ``closed`` becomes true, and every byte after it (a message
    left open included) is discarded unparsed and counted in
    ``bytes_after_close``, so the close handshake can finish.

    ``feed(data, max_events=n)`` stops after the frame that completes the
    n-th event and keeps the bytes after it, undecoded (``undecoded``
    counts them); the next ``feed`` decodes them first, and ``feed(b"")``
    goes on without new data. A server whose application lags uses it to
    stop decoding, and inflating, until the application catches up: a
    burst of small compressed frames in one read cannot make it inflate
    more than n messages at once.

    ``deflate``, the parameters negotiated for permessage-deflate (RFC 7692),
    turns on decompression: RSV1 on a message's first frame marks it
    compressed, and RSV1 anywhere else is 1002. A compressed message is
    inflated as it arrives, ``max_message_size`` applies to its inflated
    size and stops inflation there (1009), and data that is not deflate is
    1002 (a violation of the extension's framing, not of the message's type).
    ``max_frame_size`` still limits frames as sent, compressed: incompressible
    data grows a little when deflated, so with compression give frames some
    room above ``max_message_size``, or ``None`` (memory stays bounded by the
    message limit, since compressed payload is inflated as it arrives).
    """

    def __init__(
        self,
        role: Role = Role.SERVER,
        *,
        max_frame_size: Optional[int] = DEFAULT_MAX_SIZE,
        max_message_size: Optional[int] = DEFAULT_MAX_SIZE,
        allowed_rsv: int = 0,
        deflate: Optional[DeflateParameters] = None,
    ) -> None:
        super().__init__("MessageDecoder", role, allowed_rsv, max_frame_size)
        self._max_message_size = _limit_arg(max_message_size, "MessageDecoder", "max_message_size")
        self._inflater = inflater_for(deflate, self._role, self._allowed_rsv)
        if self._inflater is not None:
            self._allowed_rsv |= RSV1
        self._compressed = False  # the open message is compressed (RSV1 on its first frame)
        self._message_opcode = 0  # TEXT or BINARY while a message is open
        self._message_length = 0
        self._message = bytearray()  # the open binary message
        # A compressed binary message's inflated steps: kept as they come and
        # joined once, since growing one buffer by a step at a time made
        # allocators that cannot grow a block in place (mimalloc, on
        # free-threaded builds) hold the old copies too.
        self._inflated: List[bytes] = []
        # The open text message, decoded (so validated) as it arrives, in
        # pieces of at least _TEXT_PIECE characters: shorter ones wait in
        # _short_text and are joined into one. A piece kept per fragment, even
        # an empty one, made memory grow with the count of fragments, not
        # with the message; holding bytes and decoding them again at the end
        # made a 1 MiB text read in 64 KiB chunks 1.3 times slower.
        self._text: List[str] = []
        self._short_text: List[str] = []
        self._utf8 = _Utf8Decoder()
        self._control = bytearray()

    def feed(self, data: object, max_events: Optional[int] = None) -> List[Event]:
        return super().feed(data, max_events)

    def _on_header(self, header: FrameHeader) -> None:
        opcode = header.opcode
        # RFC 7692 section 6: with permessage-deflate, RSV1 marks a compressed
        # message on its first frame, and nowhere else.
        rsv1 = header.rsv1 and self._inflater is not None
        if opcode & CONTROL_BIT:
            if rsv1:
                raise _errors.rsv1_on_control(opcode)
            self._control = bytearray()
            return
        if opcode == OP_CONTINUATION:
            if not self._message_opcode:
                raise _errors.continuation_without_message()
            if rsv1:
                raise _errors.rsv1_on_continuation()
        else:
            if self._message_opcode:
                raise _errors.message_in_progress(opcode)
            self._message_opcode = opcode
            self._message_length = 0
            self._compressed = rsv1
        if self._compressed:
            return  # the limit applies to the inflated size, checked while inflating
        message_length = self._message_length + header.payload_length
        if self._max_message_size is not None and message_length > self._max_message_size:
            raise _errors.message_too_big(message_length, self._max_message_size)

    def _on_payload(self, header: FrameHeader, payload: Payload, frame_finished: bool) -> None:
        opcode = header.opcode
        if opcode & CONTROL_BIT:
            if not frame_finished or self._control:
                self._append_unmasked(self._control, payload)
                if not frame_finished:
                    return
                payload = self._control
            else:
                payload = self._unmasked(payload)
            self._on_control(opcode, bytes(payload))
            return
        final = frame_finished and header.fin
        if self._compressed:
            assert self._inflater is not None
            limit = self._max_message_size
            room = None if limit is None else limit - self._message_length
            # Appended step by step as it inflates: a bomb costs the limit
            # plus one step, never the whole inflated piece beside its copy.
            self._inflater.inflate(bytes(self._unmasked(payload)), final, room, limit, self._append_plain)
        elif final and not self._message_length and len(payload) == header.payload_length:
            # The whole message in one piece: no reassembly needed. (The frame
            # may be a continuation after empty fragments.)
            message_opcode, self._message_opcode = self._message_opcode, 0
            payload = self._unmasked(payload)
            if message_opcode == OP_TEXT:
                if type(payload) is memoryview:
                    payload = payload.tobytes()
                try:
                    # The method, not str(payload, "utf-8"): PyPy 7.3.11's
                    # accepts encoded surrogates (ED A0 80), which the method
                    # rejects; and not codecs.decode, whose codec lookup cost
                    # 0.35 us per message (1.26 vs 0.90 us for 1 KiB of text).
                    self._events.append(_new_header(TextMessage, (payload.decode("utf-8"),)))
                except UnicodeDecodeError:
                    raise _errors.invalid_utf8("text message") from None
            else:
                self._events.append(_new_header(BinaryMessage, (bytes(payload),)))
            return
        elif self._message_opcode == OP_TEXT:
            self._append_plain(self._unmasked(payload))
        else:
            if self._message_length == 0:
                self._message = bytearray()
            self._message_length += len(payload)
            self._append_unmasked(self._message, payload)
        if final:
            if self._message_opcode == OP_TEXT:
                self._utf8.decode(b"", final=True)
                message: Event = _new_header(TextMessage, ("".join(self._text + self._short_text),))
                self._text, self._short_text = [], []
            elif self._compressed:
                message = _new_header(BinaryMessage, (b"".join(self._inflated),))
                self._inflated = []
            else:
                message = _new_header(BinaryMessage, (bytes(self._message),))
                self._message = bytearray()
            self._events.append(message)
            self._message_opcode = 0
            self._message_length = 0

    def _append_plain(self, piece: Payload) -> None:
        """Append unmasked (or inflated) bytes to the open message; text is
        decoded as it comes, so it fails at the first byte that cannot be valid."""
        if self._message_length == 0:
            self._inflated = []
            self._text, self._short_text = [], []
            self._utf8.reset()
        self._message_length += len(piece)
        if self._message_opcode != OP_TEXT:
            self._inflated.append(bytes(piece))
            return
        text = self._utf8.decode(piece, final=False)
        if len(text) >= _TEXT_PIECE:
            if self._short_text:
                self._text.append("".join(self._short_text))
                self._short_text = []
            self._text.append(text)
        elif text:
            self._short_text.append(text)
            if len(self._short_text) >= _TEXT_PIECE:
                # Each kept piece is then at least _TEXT_PIECE characters.
                self._text.append("".join(self._short_text))
                self._short_text = []

    def _on_control(self, opcode: int, payload: bytes) -> None:
        if opcode == OP_PING:
            self._events.append(_new_header(Ping, (payload,)))
        elif opcode == OP_PONG:
            self._events.append(_new_header(Pong, (payload,)))
        else:
            self._events.append(parse_close_payload(payload))


class _Utf8Decoder:
    """Incremental strict UTF-8 that fails at the first byte that cannot be valid.

    CPython's incremental decoder already does, except that it holds ED A0-BF
    (the start of an encoded surrogate, never valid) until a third byte comes.
    """

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")("strict")

    def reset(self) -> None:
        self._decoder.reset()

    def decode(self, data: Payload, final: bool) -> str:
        try:
            text: str = self._decoder.decode(data, final)
        except UnicodeDecodeError:
            raise _errors.invalid_utf8("text message") from None
        pending = self._decoder.getstate()[0]
        if len(pending) >= 2 and pending[0] == 0xED and pending[1] >= 0xA0:
            raise _errors.invalid_utf8("text message")
        return text
