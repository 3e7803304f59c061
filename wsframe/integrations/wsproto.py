"""Drop-in: wsframe under wsproto's frame layer.

``install()`` replaces three parts of ``wsproto.frame_protocol``:

- ``FrameDecoder``: headers parsed and payloads unmasked by wsframe, with
  wsproto's behaviour kept: payloads handed out in pieces as they arrive
  (``frame_finished``), control frames whole, extensions consulted for RSV
  bits and payload processing, errors raised as ``ParseFailed`` with the close
  code wsproto would send, from ``process_buffer`` after the frames before
  them, never from ``receive_bytes``.
- ``FrameProtocol._serialize_frame``: frames encoded (and masked, for
  clients) by wsframe in one call, after wsproto's extensions.
- ``XorMaskerSimple``: masking by wsframe.

wsframe adds its strictness: non-minimal length encodings and a 64-bit
length with its top bit set were already refused by wsproto; wsframe's
reasons are more specific. ``uninstall()`` restores wsproto's own code.
"""

from __future__ import annotations

from typing import Any, List, Optional, Union

from wsproto import frame_protocol
from wsproto.frame_protocol import CloseReason, Frame, Header, Opcode, ParseFailed, RsvBits

from ._dropin import DropIn, Patch
from .._backend import encode_frame, mask, parse_header
from .._errors import ProtocolError
from .._rfc6455 import ALL_RSV
from .._types import Role

__all__ = ["SUPPORTED", "install", "installed", "uninstall"]

#: The wsproto releases the drop-in supports; CI runs wsproto's own suite
#: under it on the oldest and the newest.
SUPPORTED = ">=1.2,<2"



class FrameDecoder(frame_protocol.FrameDecoder):
    """wsproto's ``FrameDecoder`` with wsframe parsing headers and unmasking."""

    # wsproto's attributes, which its extensions and FrameProtocol read.
    header: Optional[Header]
    effective_opcode: Optional[Opcode]
    payload_consumed: int

    def __init__(self, client: bool, extensions: Optional[List[Any]] = None) -> None:
        super().__init__(client, extensions)
        self._role = Role.CLIENT if client else Role.SERVER
        # With no extension, no RSV bit is legal and wsframe refuses one from
        # the first byte; extensions decide per frame, from the whole header.
        self._allowed_rsv = ALL_RSV if self.extensions else 0
        self._data = bytearray()
        self._position = 0  # bytes of _data already consumed
        self._mask_key: Optional[bytes] = None
        self._mask_offset = 0

    def receive_bytes(self, data: bytes) -> None:
        self._data += data

    def process_buffer(self) -> Optional[Frame]:
        if self.header is None and not self._start_frame():
            return None
        header = self.header
        assert header is not None and self.effective_opcode is not None
        available = len(self._data) - self._position
        remaining = header.payload_len - self.payload_consumed
        # Control frames are delivered whole, data frames piece by piece.
        if header.opcode.iscontrol() and available < remaining:
            return None
        take = min(available, remaining)
        if take == 0 and remaining:
            return None
        end = self._position + take
        if self._mask_key is None:
            payload = bytes(self._data[self._position : end])
        else:
            # Views released at once: the buffer may grow or shrink next.
            with memoryview(self._data) as view, view[self._position : end] as piece:
                payload = mask(piece, self._mask_key, self._mask_offset)
            self._mask_offset = (self._mask_offset + take) % 4
        self._consume(end)
        self.payload_consumed += take
        finished = self.payload_consumed == header.payload_len
        payload = self._run_inbound_extensions(payload, finished, header.fin)
        frame = Frame(self.effective_opcode, payload, finished, header.fin)
        if finished:
            self.header = None
            self.effective_opcode = None
        else:
            # Later pieces of a data frame continue the same message.
            self.effective_opcode = Opcode.CONTINUATION
        return frame

    def _start_frame(self) -> bool:
        """Parse the next header, if whole; wsproto's extensions vet its RSV bits."""
        try:
            parsed = parse_header(
                self._data, self._position, role=self._role, allowed_rsv=self._allowed_rsv, max_payload_length=None
            )
        except ProtocolError as exc:
            raise ParseFailed(exc.reason, CloseReason(exc.close_code)) from None
        if parsed is None:
            return False
        opcode = Opcode(parsed.opcode)
        rsv = RsvBits(parsed.rsv1, parsed.rsv2, parsed.rsv3)
        # RSV bits are legal only where an extension claims them (RFC 6455
        # section 5.2); wsproto's own method asks its extensions.
        self.extension_processing(opcode, rsv, parsed.payload_length)
        self._consume(self._position + parsed.header_length)
        self.header = Header(parsed.fin, rsv, opcode, parsed.payload_length, parsed.mask_key)
        self.effective_opcode = opcode
        self.payload_consumed = 0
        self._mask_key = parsed.mask_key
        self._mask_offset = 0
        return True

    def _consume(self, position: int) -> None:
        # Drop consumed bytes once they are most of the buffer: amortised
        # linear, and the buffer never keeps more than twice what is pending.
        if position == len(self._data):
            self._data = bytearray()
            position = 0
        elif position > 65536 and position * 2 > len(self._data):
            del self._data[:position]
            position = 0
        self._position = position

    def _run_inbound_extensions(self, payload: bytes, finished: bool, fin: bool) -> bytes:
        for extension in self.extensions:
            result = extension.frame_inbound_payload_data(self, payload)
            if isinstance(result, CloseReason):
                raise ParseFailed("error in extension", result)
            payload = bytes(result)
        if finished:
            for extension in self.extensions:
                tail = extension.frame_inbound_complete(self, fin)
                if isinstance(tail, CloseReason):
                    raise ParseFailed("error in extension", tail)
                if tail is not None:
                    payload += tail
        return payload


class XorMaskerSimple:
    """wsproto's masker, masking with wsframe; keeps its place in the key."""

    def __init__(self, masking_key: Union[bytes, bytearray]) -> None:
        self._masking_key = bytes(masking_key)
        self._offset = 0

    def process(self, data: Union[bytes, bytearray]) -> bytearray:
        masked = bytearray(mask(data, self._masking_key, self._offset))
        self._offset = (self._offset + len(data)) % 4
        return masked


def _serialize_frame(
    self: frame_protocol.FrameProtocol, opcode: Opcode, payload: Union[bytes, bytearray] = b"", fin: bool = True
) -> bytearray:
    rsv = RsvBits(False, False, False)
    data = bytes(payload)
    for extension in reversed(self.extensions):
        rsv, data = extension.frame_outbound(self, opcode, rsv, data, fin)
    if opcode.iscontrol() and len(data) > frame_protocol.MAX_PAYLOAD_NORMAL:
        raise ValueError("payload too long for control frame")
    # Clients mask with a fresh key from the OS CSPRNG (RFC 6455 section 5.3).
    frame = encode_frame(opcode, data, fin=fin, rsv1=rsv.rsv1, rsv2=rsv.rsv2, rsv3=rsv.rsv3, mask=self.client)
    return bytearray(frame)


def _layout_problems() -> List[str]:
    """What the drop-in needs of wsproto's internals and does not find."""
    problems = []
    for owner, names in (
        (frame_protocol, ("FrameDecoder", "FrameProtocol", "XorMaskerSimple", "Header", "RsvBits", "CloseReason",
                          "ParseFailed", "Opcode", "Frame", "MAX_PAYLOAD_NORMAL")),
        (frame_protocol.FrameDecoder, ("receive_bytes", "process_buffer", "extension_processing")),
        (frame_protocol.FrameProtocol, ("_serialize_frame",)),
        (frame_protocol.Opcode, ("iscontrol",)),
    ):
        problems += [f"{getattr(owner, '__name__', owner)}.{name}" for name in names if not hasattr(owner, name)]
    if not problems:
        # The attributes wsproto's FrameProtocol and extensions read on a decoder.
        sample = frame_protocol.FrameDecoder(client=False, extensions=[])
        problems += [f"FrameDecoder().{name}" for name in ("header", "effective_opcode", "payload_consumed",
                                                            "extensions", "client") if not hasattr(sample, name)]
    return problems


_DROPIN = DropIn(
    "wsproto",
    SUPPORTED,
    {"frames": [Patch(frame_protocol, "FrameDecoder", FrameDecoder),
                Patch(frame_protocol, "XorMaskerSimple", XorMaskerSimple),
                Patch(frame_protocol.FrameProtocol, "_serialize_frame", _serialize_frame)]},
    _layout_problems,
)


def install(*, force: bool = False) -> None:
    """Put wsframe under wsproto.

    Raises ``RuntimeError`` for a wsproto outside :data:`SUPPORTED`
    (``force=True`` installs anyway) and, whatever ``force`` says, for one
    whose internals are not where the drop-in expects them; either way
    nothing is replaced."""
    _DROPIN.install(force=force)


def uninstall() -> None:
    """Restore wsproto's own frame layer. Connections made meanwhile keep wsframe's."""
    _DROPIN.uninstall()


def installed() -> bool:
    """Whether wsproto currently runs on wsframe."""
    return _DROPIN.installed()
