"""Type stub for the C extension, and the typed public API of both backends.

Parameter names, kinds and defaults match ``_pyframe`` exactly (a test holds
them to it). The annotations are the contract: the twin annotates its
arguments as ``object`` because it checks them at run time, and type
checkers read ``wsframe.parse_header`` and the rest from this file
(``_backend.py`` says so).

``ReadableBuffer`` is any object with the buffer protocol (``bytes``,
``bytearray``, ``memoryview``, ``mmap``, ``array.array``...), and
``WriteableBuffer`` a writable one, as typeshed spells them.
"""

from typing import List, Optional, Union

from _typeshed import ReadableBuffer, WriteableBuffer

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
    data: ReadableBuffer,
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
    mask_key: Optional[ReadableBuffer] = None,
) -> bytes: ...
def encode_frame(
    opcode: int,
    payload: ReadableBuffer,
    *,
    fin: bool = True,
    rsv1: bool = False,
    rsv2: bool = False,
    rsv3: bool = False,
    mask: Union[bool, ReadableBuffer] = False,
) -> bytes: ...
def mask(data: ReadableBuffer, key: ReadableBuffer, offset: int = 0) -> bytes: ...
def mask_inplace(buffer: WriteableBuffer, key: ReadableBuffer, offset: int = 0) -> int: ...

class FrameDecoder:
    def __init__(
        self,
        role: Role = ...,
        *,
        max_frame_size: Optional[int] = ...,
        allowed_rsv: int = 0,
        chunked: bool = False,
    ) -> None: ...
    def feed(self, data: ReadableBuffer, max_events: Optional[int] = None) -> List[Frame]: ...
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
    def feed(self, data: ReadableBuffer, max_events: Optional[int] = None) -> List[Event]: ...
    @property
    def closed(self) -> bool: ...
    @property
    def bytes_after_close(self) -> int: ...
    @property
    def undecoded(self) -> int: ...
