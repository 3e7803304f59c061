"""Drop-in: wsframe under websockets' frame layer, both directions.

``install()`` replaces three pieces of websockets' Sans-I/O core:

- ``Protocol.parse``, the receive loop (``websockets.protocol``): the frames
  waiting in websockets' ``StreamReader`` are parsed by wsframe's
  ``parse_header`` and unmasked by wsframe, all that are whole at once,
  instead of a generator reading each header a field at a time. What the
  loop hands on is websockets' own: ``Frame`` objects, through its
  extensions (permessage-deflate) and ``Protocol.recv_frame``, with its size
  limits (``max_size`` as an int or a ``(message, fragment)`` tuple, checked
  from the header before any payload is buffered), its exceptions, messages
  and close codes, and its ``EOFError`` when the stream ends in a frame;
- ``apply_mask`` (``websockets.frames``), which websockets' own
  ``Frame.parse`` still uses: wsframe's SIMD masking;
- ``Frame.serialize``: the header and the (masked) payload encoded by wsframe
  in one call, after websockets' own checks and extensions.

wsframe adds its strictness: a length not in its shortest form, or a 64-bit
length with its top bit set, is a ``ProtocolError`` (1002), which websockets
alone accepts. Client frames are masked with keys from wsframe's CSPRNG pool,
not ``secrets.token_bytes``. The legacy API (``websockets.legacy``) is left
alone. ``uninstall()`` restores websockets' own code; connections opened
meanwhile keep the loop they started with.
"""

from __future__ import annotations

from typing import Any, Dict, Generator, Optional, Sequence, Tuple, Union

from websockets import exceptions, frames, protocol, streams

from ._dropin import DropIn, Patch
from .._backend import FrameDecoder, encode_frame
from .._backend import mask as _mask
from .._errors import PayloadTooBig as _WsframePayloadTooBig
from .._errors import ProtocolError as _WsframeProtocolError
from .._rfc6455 import (
    ALL_RSV,
    CONTROL_BIT,
    FIN,
    LENGTH_16,
    LENGTH_64,
    MASK_BIT,
    MAX_CONTROL_PAYLOAD_LENGTH,
    MAX_HEADER_LENGTH,
    OPCODE_BITS,
    PAYLOAD_LENGTH_BITS,
    header_length,
)
from .._types import Role

__all__ = ["SUPPORTED", "install", "installed", "uninstall"]

#: The websockets releases the drop-in supports; CI tests the oldest and the newest.
SUPPORTED = ">=17.0,<18"

# websockets' Opcode members by value; RFC 6455 reserves the others.
_OPCODES: Dict[int, frames.Opcode] = {int(opcode): opcode for opcode in frames.Opcode}
_new_frame = frames.Frame


def apply_mask(data: Union[bytes, bytearray, memoryview], mask: Union[bytes, bytearray]) -> bytes:
    """websockets' ``apply_mask``, masking with wsframe (same signature and errors)."""
    if len(mask) != 4:
        raise ValueError("mask must contain 4 bytes")  # websockets' own message
    return _mask(data, mask)


def serialize(self: frames.Frame, *, mask: bool, extensions: Optional[Sequence[Any]] = None) -> bytes:
    """websockets' ``Frame.serialize``, encoding with wsframe."""
    self.check()
    for extension in extensions or ():
        self = extension.encode(self)
    # Clients mask with a fresh key from the OS CSPRNG (RFC 6455 section 5.3).
    return encode_frame(self.opcode, self.data, fin=self.fin, rsv1=self.rsv1, rsv2=self.rsv2, rsv3=self.rsv3, mask=mask)


def _limits(self: protocol.Protocol) -> Tuple[Optional[int], Optional[int]]:
    """websockets' message and fragment limits (``max_size``, an int or a tuple)."""
    return self.max_message_size, self.max_fragment_size


def _frame_size_limit(self: protocol.Protocol) -> Optional[int]:
    """The most the next frame may carry: what websockets' own loop computes
    from its message and fragment limits and the message so far."""
    message_limit, fragment_limit = _limits(self)
    limit: Optional[int] = None
    if message_limit is not None:
        so_far = self.current_size
        limit = message_limit if so_far is None else message_limit - so_far
    if fragment_limit is not None:
        limit = fragment_limit if limit is None else min(limit, fragment_limit)
    return limit


def _header_length_fields(head: Union[bytes, bytearray]) -> Sequence[int]:
    """The reads websockets' ``Frame.parse`` makes for this header: the first
    two bytes, the extended length, the masking key."""
    reads = [2]
    if len(head) >= 2:
        code = head[1] & PAYLOAD_LENGTH_BITS
        if code == LENGTH_16:
            reads.append(2)
        elif code == LENGTH_64:
            reads.append(8)
        if head[1] & MASK_BIT:
            reads.append(4)
    return reads


def _declared_length(head: Union[bytes, bytearray]) -> int:
    code = head[1] & PAYLOAD_LENGTH_BITS
    if code == LENGTH_16:
        return int.from_bytes(head[2:4], "big")
    if code == LENGTH_64:
        return int.from_bytes(head[2:10], "big")
    return code


def _websockets_error(head: Union[bytes, bytearray], masked: bool, max_size: Optional[int],
                      error: _WsframeProtocolError) -> Exception:
    """The exception websockets raises for the header wsframe refused.

    wsframe refuses a header as soon as a byte proves it bad; websockets
    checks the same rules in its own order and words. Only the rules
    websockets does not have (a length not in its shortest form, a 64-bit
    length with its top bit set) keep wsframe's reason."""
    opcode = head[0] & OPCODE_BITS
    if opcode not in _OPCODES:
        return exceptions.ProtocolError("invalid opcode")
    if len(head) >= 2 and bool(head[1] & MASK_BIT) != masked:
        return exceptions.ProtocolError("incorrect masking")
    if isinstance(error, _WsframePayloadTooBig) and max_size is not None:
        return exceptions.PayloadTooBig(_declared_length(head), max_size)
    if head[0] & ALL_RSV:
        return exceptions.ProtocolError("reserved bits must be 0")
    if opcode & CONTROL_BIT:
        if len(head) >= 2 and head[1] & PAYLOAD_LENGTH_BITS > MAX_CONTROL_PAYLOAD_LENGTH:
            return exceptions.ProtocolError("control frame too long")
        if not head[0] & FIN:
            return exceptions.ProtocolError("fragmented control frame")
    return exceptions.ProtocolError(error.reason)


def _end_of_stream(head: Union[bytes, bytearray], pending: int) -> EOFError:
    """websockets' EOFError for a stream that ends inside a frame, of which
    ``pending`` bytes arrived, starting with ``head``: which of its reads
    ran short, and by how much."""
    reads = list(_header_length_fields(head))
    if pending >= sum(reads):
        reads.append(_declared_length(head))
    for need in reads:
        if pending < need:
            return EOFError(f"stream ends after {pending} bytes, expected {need} bytes")
        pending -= need
    raise AssertionError("a whole frame is not the end of a stream")  # pragma: no cover


def _wire_length(payload_length: int, masked: bool) -> int:
    """How many bytes a frame with this payload took on the wire: wsframe
    accepts only the shortest length form, so the header follows from it."""
    return header_length(payload_length, masked) + payload_length


def parse(self: protocol.Protocol) -> Generator[None, None, None]:
    """websockets' ``Protocol.parse`` with wsframe reading the frames.

    Whatever the reader has buffered goes to a wsframe ``FrameDecoder``,
    whose C loop splits, checks and unmasks every frame that is whole; each
    is then handed to websockets as its own ``Frame``, through its extensions
    and ``recv_frame``, before the loop waits for more bytes. The decoder
    refuses a frame over the largest size websockets could allow
    (``max_size``, or its fragment limit) from its header, before buffering
    its payload; the finer limit of a message's later fragments (what is left
    of ``max_size``) is checked as each fragment completes. A close frame
    ends the decoder's stream (RFC 6455 section 1.4), as it does websockets'
    when ``recv_frame`` replaces this loop with ``discard()``."""
    reader: streams.StreamReader = self.reader
    buffer = reader.buffer
    masked = self.side is protocol.SERVER
    limits = [size for size in _limits(self) if size is not None]
    # RSV bits are websockets' to judge: its extensions may claim them, and
    # the handshake sets the extensions after this loop starts.
    decoder = FrameDecoder(Role.SERVER if masked else Role.CLIENT, max_frame_size=min(limits) if limits else None,
                           allowed_rsv=ALL_RSV)
    head = b""  # the first bytes (up to MAX_HEADER_LENGTH) of the frame in progress
    pending = 0  # how many of its bytes arrived
    debug = self.debug
    try:
        while True:
            if buffer:
                try:
                    decoded = decoder.feed(buffer)
                    error: Optional[_WsframeProtocolError] = None
                except _WsframeProtocolError as exc:
                    decoded, error = exc.events, exc
                # Track the frame in progress (the failing one, after an
                # error): its first bytes and how many arrived, for
                # websockets' words about it.
                taken = sum([_wire_length(len(frame.payload), masked) for frame in decoded]) if decoded else 0
                if taken:
                    head = bytes(buffer[taken - pending : taken - pending + MAX_HEADER_LENGTH])
                elif len(head) < MAX_HEADER_LENGTH:
                    head = (head + buffer[: MAX_HEADER_LENGTH - len(head)])
                pending += len(buffer) - taken
                del buffer[:]
                for opcode, payload, fin, rsv1, rsv2, rsv3, _ in decoded:
                    max_size = _frame_size_limit(self) if limits else None
                    if max_size is not None and len(payload) > max_size:
                        raise exceptions.PayloadTooBig(len(payload), max_size)
                    frame = _new_frame(_OPCODES[opcode], payload, fin, rsv1, rsv2, rsv3)
                    extensions = self.extensions
                    if extensions:
                        for extension in reversed(extensions):
                            frame = extension.decode(frame, max_size=max_size)
                        frame.check()
                    elif rsv1 or rsv2 or rsv3:
                        frame.check()  # websockets' words: reserved bits must be 0
                    if debug:
                        self.logger.debug("< %s", frame)
                    self.recv_frame(frame)
                if error is not None:
                    raise _websockets_error(head, masked, _frame_size_limit(self), error)
            if reader.eof:
                if pending and not decoder.closed:
                    raise _end_of_stream(head, pending)
                # Reached only when the connection is not closed cleanly:
                # after a close frame, recv_frame() replaced this loop.
                if debug:
                    self.logger.debug("< EOF")
                raise EOFError("unexpected end of stream")
            yield
    # The handlers of websockets' own loop, in its order (protocol.py).
    except exceptions.ProtocolError as exc:
        self.fail(frames.CloseCode.PROTOCOL_ERROR, str(exc))
        self.parser_exc = exc
    except EOFError as exc:
        self.fail(frames.CloseCode.ABNORMAL_CLOSURE, str(exc))
        self.parser_exc = exc
    except UnicodeDecodeError as exc:
        self.fail(frames.CloseCode.INVALID_DATA, f"{exc.reason} at position {exc.start}")
        self.parser_exc = exc
    except exceptions.PayloadTooBig as exc:
        exc.set_current_size(self.current_size)
        self.fail(frames.CloseCode.MESSAGE_TOO_BIG, str(exc))
        self.parser_exc = exc
    except Exception as exc:
        self.logger.error("parser failed", exc_info=True)
        # Don't include exception details, which may be security-sensitive.
        self.fail(frames.CloseCode.INTERNAL_ERROR)
        self.parser_exc = exc
    yield
    raise AssertionError("parse() shouldn't step after error")


def _layout_problems() -> Sequence[str]:
    """What the drop-in needs of websockets' internals and does not find."""
    problems = []
    if not callable(getattr(frames, "apply_mask", None)):
        problems.append("websockets.frames.apply_mask")
    for owner, names in (
        (frames.Frame, ("serialize", "check")),
        (protocol.Protocol, ("parse", "recv_frame", "fail", "discard")),
        (exceptions.PayloadTooBig, ("set_current_size",)),
    ):
        problems += [f"{owner.__module__}.{owner.__qualname__}.{name}" for name in names
                     if not callable(getattr(owner, name, None))]
    # The attributes parse() reads live on instances: make one and look.
    sample = protocol.Protocol(protocol.SERVER)
    for name in ("reader", "extensions", "debug", "logger", "parser_exc", "side", "max_message_size",
                 "max_fragment_size", "current_size"):
        if not hasattr(sample, name):
            problems.append(f"websockets.protocol.Protocol().{name}")
    reader = getattr(sample, "reader", None)
    if not isinstance(getattr(reader, "buffer", None), bytearray) or not isinstance(getattr(reader, "eof", None), bool):
        problems.append("websockets.streams.StreamReader().buffer (a bytearray) and .eof")
    return problems


# websockets.frames imports apply_mask from its speedups or utils module.
_DROPIN = DropIn(
    "websockets",
    SUPPORTED,
    {"frames": [Patch(frames, "apply_mask", apply_mask),
                Patch(frames.Frame, "serialize", serialize),
                Patch(protocol.Protocol, "parse", parse)]},
    _layout_problems,
)


def install(*, force: bool = False) -> None:
    """Put wsframe under websockets.

    Raises ``RuntimeError`` for a websockets outside :data:`SUPPORTED`
    (``force=True`` installs anyway) and, whatever ``force`` says, for one
    whose internals are not where the drop-in expects them; either way
    nothing is replaced."""
    _DROPIN.install(force=force)


def uninstall() -> None:
    """Restore websockets' own code."""
    _DROPIN.uninstall()


def installed() -> bool:
    """Whether websockets currently runs on wsframe."""
    return _DROPIN.installed()
