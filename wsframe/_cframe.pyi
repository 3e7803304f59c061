"""Type stub for the C extension; signatures match ``_pyframe`` exactly."""

from typing import List, Optional

from ._deflate import DeflateParameters
from ._events import Event, Frame
from ._types import FrameHeader, Role

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

MASK_KERNEL: str
UTF8_KERNEL: str

def parse_header(
    data: object,
    offset: int = 0,
    *,
    role: Role = ...,
    allowed_rsv: int = 0,
    max_payload_length: Optional[int] = None,
) -> Optional[FrameHeader]: ...
def encode_header(
    opcode: int,
    payload_length: int,
    *,
    fin: bool = True,
    rsv1: bool = False,
    rsv2: bool = False,
    rsv3: bool = False,
    mask_key: object = None,
) -> bytes: ...
def encode_frame(
    opcode: int,
    payload: object,
    *,
    fin: bool = True,
    rsv1: bool = False,
    rsv2: bool = False,
    rsv3: bool = False,
    mask: object = False,
) -> bytes: ...
def mask(data: object, key: object, offset: int = 0) -> bytes: ...
def mask_inplace(buffer: object, key: object, offset: int = 0) -> int: ...

class FrameDecoder:
    def __init__(
        self,
        role: Role = ...,
        *,
        max_frame_size: Optional[int] = ...,
        allowed_rsv: int = 0,
        chunked: bool = False,
    ) -> None: ...
    def feed(self, data: object, max_events: Optional[int] = None) -> List[Frame]: ...
    @property
    def closed(self) -> bool: ...
    @property
    def bytes_after_close(self) -> int: ...
    @property
    def undecoded(self) -> int: ...

class MessageDecoder:
    def __init__(
        self,
        role: Role = ...,
        *,
        max_frame_size: Optional[int] = ...,
        max_message_size: Optional[int] = ...,
        allowed_rsv: int = 0,
        deflate: Optional[DeflateParameters] = None,
    ) -> None: ...
    def feed(self, data: object, max_events: Optional[int] = None) -> List[Event]: ...
    @property
    def closed(self) -> bool: ...
    @property
    def bytes_after_close(self) -> int: ...
    @property
    def undecoded(self) -> int: ...
