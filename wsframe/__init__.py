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
from ._deflate import (
    DeflateParameters,
    Deflater,
    NegotiationError,
    accept_deflate_response,
    deflate_offer,
    negotiate_deflate,
    parse_extensions,
)
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
    "DeflateParameters",
    "Deflater",
    "Event",
    "Frame",
    "FrameDecoder",
    "FrameHeader",
    "InvalidUTF8",
    "MessageDecoder",
    "NegotiationError",
    "Opcode",
    "PayloadTooBig",
    "Ping",
    "Pong",
    "ProtocolError",
    "Role",
    "Rsv",
    "TextMessage",
    "__version__",
    "accept_deflate_response",
    "backend",
    "close_payload",
    "deflate_offer",
    "encode_frame",
    "encode_header",
    "mask",
    "mask_inplace",
    "negotiate_deflate",
    "parse_extensions",
    "parse_header",
]
