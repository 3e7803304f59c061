"""wsframe: a strict, fast WebSocket frame codec (RFC 6455).

Sans-I/O: hand it bytes, get frames; hand it payloads, get bytes. The C
extension runs when it is available, and a pure-Python twin with the same
behaviour everywhere else; ``wsframe.backend`` says which one is in use.
"""

from ._backend import (
    FrameDecoder,
    MessageDecoder,
    backend,
    encode_frame,
    encode_header,
    mask,
    mask_inplace,
    parse_header,
)
from ._close import close_payload
from ._errors import InvalidUTF8, PayloadTooBig, ProtocolError
from ._events import BinaryMessage, Close, Event, Frame, Ping, Pong, TextMessage
from ._types import (
    DEFAULT_MAX_SIZE,
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
    "DEFAULT_MAX_SIZE",
    "MAX_CONTROL_PAYLOAD_LENGTH",
    "MAX_PAYLOAD_LENGTH",
    "BinaryMessage",
    "Close",
    "CloseCode",
    "Event",
    "Frame",
    "FrameDecoder",
    "FrameHeader",
    "InvalidUTF8",
    "MessageDecoder",
    "Opcode",
    "PayloadTooBig",
    "Ping",
    "Pong",
    "ProtocolError",
    "Role",
    "Rsv",
    "TextMessage",
    "__version__",
    "backend",
    "close_payload",
    "encode_frame",
    "encode_header",
    "mask",
    "mask_inplace",
    "parse_header",
]
