"""wsframe: a strict, fast WebSocket frame codec (RFC 6455).

Sans-I/O: hand it bytes, get frames; hand it payloads, get bytes. The C
extension runs when it is available, and a pure-Python twin with the same
behaviour everywhere else; ``wsframe.backend`` says which one is in use.
"""

from ._backend import backend, encode_frame, encode_header, mask, mask_inplace, parse_header
from ._errors import PayloadTooBig, ProtocolError
from ._types import (
    MAX_CONTROL_PAYLOAD_LENGTH,
    MAX_PAYLOAD_LENGTH,
    CloseCode,
    FrameHeader,
    Opcode,
    Role,
    Rsv,
)
from ._version import __version__

__all__ = [
    "MAX_CONTROL_PAYLOAD_LENGTH",
    "MAX_PAYLOAD_LENGTH",
    "CloseCode",
    "FrameHeader",
    "Opcode",
    "PayloadTooBig",
    "ProtocolError",
    "Role",
    "Rsv",
    "__version__",
    "backend",
    "encode_frame",
    "encode_header",
    "mask",
    "mask_inplace",
    "parse_header",
]
