"""wsframe: a strict, fast WebSocket codec (RFC 6455, RFC 7692).

Sans-I/O, in layers: frame headers, frames and messages
(:func:`parse_header`, :class:`FrameDecoder`, :class:`MessageDecoder`,
:func:`encode_frame`), permessage-deflate (:func:`negotiate_deflate`,
:class:`Deflater`), and the connection (:class:`ServerConnection`,
:class:`ClientConnection`) with the opening handshake (:mod:`wsframe.handshake`).
The C extension runs when it is available, and a pure-Python twin with the
same behaviour everywhere else; ``wsframe.backend`` says which one is in use.

The source, bottom up:

- ``_rfc6455.py`` (and ``_rfc6455.pxd``): the protocol's numbers, once;
  ``_types.py``, ``_events.py``, ``_errors.py`` (every error worded once),
  ``_close.py``: what both backends share;
- ``_cframe.pyx`` (C, with ``_mask.h`` and ``_utf8.h``) and its twin
  ``_pyframe.py``: headers, then frames (``FrameDecoder``), then messages
  (``MessageDecoder``), and encoding; ``_backend.py`` picks one of them;
- ``_deflate.py``: permessage-deflate;
- ``_connection.py``: one connection's protocol, both sides (the C backend
  runs it compiled by Cython, as ``_cconnection`` with ``_cconnection.pxd``
  typing its attributes; the twin runs it as it is);
  ``handshake.py``: the opening handshake it runs;
- servers and clients on top, I/O only: ``_echo.py`` (``wsframe echo``),
  ``_client.py`` (``wsframe client``), ``integrations/uvicorn.py`` (ASGI),
  with ``_io.py`` for what they share;
- drop-ins under other libraries: ``integrations/{wsproto,websockets,aiohttp,
  tornado}.py``, installed through ``integrations/_dropin.py``.
"""

from ._backend import (
    ClientConnection,
    Connection,
    FrameDecoder,
    MessageDecoder,
    ServerConnection,
    backend,
    encode_frame,
    encode_header,
    mask,
    mask_inplace,
    parse_header,
)
from . import handshake
from ._close import close_payload
from ._connection import ConnectionEvent, InvalidState, State
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
from .handshake import HandshakeError, InvalidRequest, InvalidResponse, Request, Response
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
    "ClientConnection",
    "Close",
    "CloseCode",
    "Connection",
    "ConnectionEvent",
    "DeflateParameters",
    "Deflater",
    "Event",
    "Frame",
    "FrameDecoder",
    "FrameHeader",
    "HandshakeError",
    "InvalidRequest",
    "InvalidResponse",
    "InvalidState",
    "InvalidUTF8",
    "MessageDecoder",
    "NegotiationError",
    "Opcode",
    "PayloadTooBig",
    "Ping",
    "Pong",
    "ProtocolError",
    "Request",
    "Response",
    "Role",
    "Rsv",
    "ServerConnection",
    "State",
    "TextMessage",
    "__version__",
    "accept_deflate_response",
    "backend",
    "close_payload",
    "deflate_offer",
    "handshake",
    "encode_frame",
    "encode_header",
    "mask",
    "mask_inplace",
    "negotiate_deflate",
    "parse_extensions",
    "parse_header",
]
