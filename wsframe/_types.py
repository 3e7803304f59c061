"""Protocol constants and the frame header record, shared by both backends.

Names follow RFC 6455 section 5.2 (Base Framing Protocol) and section 7.4
(Status Codes).
"""

from __future__ import annotations

import enum
from typing import Any, NamedTuple, Optional

from . import _rfc6455

__all__ = [
    "CloseCode",
    "FrameHeader",
    "Opcode",
    "Role",
    "Rsv",
    "State",
    "DEFAULT_MAX_SIZE",
    "MAX_CONTROL_PAYLOAD_LENGTH",
    "MAX_PAYLOAD_LENGTH",
]

#: Default ``max_frame_size`` and ``max_message_size`` of the decoders: 1 MiB.
#: Pass ``None`` to lift a limit.
DEFAULT_MAX_SIZE = 2**20

#: RFC 6455 section 5.5: "All control frames MUST have a payload length of
#: 125 bytes or less".
MAX_CONTROL_PAYLOAD_LENGTH = _rfc6455.MAX_CONTROL_PAYLOAD_LENGTH

#: RFC 6455 section 5.2: "the most significant bit MUST be 0", so a 64-bit
#: payload length is at most 2**63 - 1.
MAX_PAYLOAD_LENGTH = _rfc6455.MAX_PAYLOAD_LENGTH


class Opcode(enum.IntEnum):
    """Frame opcodes defined by RFC 6455 section 5.2.

    0x3-0x7 are reserved for further non-control frames and 0xB-0xF for further
    control frames; wsframe rejects them.
    """

    CONTINUATION = _rfc6455.OP_CONTINUATION
    TEXT = _rfc6455.OP_TEXT
    BINARY = _rfc6455.OP_BINARY
    CLOSE = _rfc6455.OP_CLOSE
    PING = _rfc6455.OP_PING
    PONG = _rfc6455.OP_PONG

    @property
    def is_control(self) -> bool:
        """Control frames (close, ping, pong) have the opcode's high bit set."""
        return bool(self & _rfc6455.CONTROL_BIT)


class CloseCode(enum.IntEnum):
    """Status codes of RFC 6455 section 7.4.1 and the IANA registry."""

    NORMAL_CLOSURE = 1000
    GOING_AWAY = 1001
    PROTOCOL_ERROR = 1002
    UNSUPPORTED_DATA = 1003
    NO_STATUS_RCVD = 1005
    ABNORMAL_CLOSURE = 1006
    INVALID_FRAME_PAYLOAD_DATA = 1007
    POLICY_VIOLATION = 1008
    MESSAGE_TOO_BIG = 1009
    MANDATORY_EXTENSION = 1010
    INTERNAL_ERROR = 1011
    SERVICE_RESTART = 1012
    TRY_AGAIN_LATER = 1013
    BAD_GATEWAY = 1014
    TLS_HANDSHAKE = 1015


class Role(enum.Enum):
    """The side of the connection that is *reading* frames.

    RFC 6455 section 5.1: a client MUST mask every frame it sends and a server
    MUST NOT mask any frame it sends, so the reader's role decides which mask
    bit is legal.
    """

    SERVER = "server"
    CLIENT = "client"


class Rsv(enum.IntFlag):
    """RSV bits as they sit in the first header byte (RFC 6455 section 5.2).

    Pass a combination as ``allowed_rsv`` to permit the bits that negotiated
    extensions use, e.g. ``Rsv.RSV1`` for permessage-deflate (RFC 7692).
    """

    RSV1 = _rfc6455.RSV1
    RSV2 = _rfc6455.RSV2
    RSV3 = _rfc6455.RSV3


class FrameHeader(NamedTuple):
    """One parsed frame header (RFC 6455 section 5.2)."""

    fin: bool
    rsv1: bool
    rsv2: bool
    rsv3: bool
    opcode: Opcode
    masked: bool
    #: Length of the payload that follows the header, in bytes.
    payload_length: int
    #: The 4-byte masking key, or ``None`` for an unmasked frame.
    mask_key: Optional[bytes]
    #: Bytes taken by the header itself: 2 to 14.
    header_length: int


class State(enum.IntEnum):
    """Where a connection is (RFC 6455 sections 4 and 7)."""

    #: The opening handshake is under way.
    CONNECTING = 0
    #: The handshake succeeded: messages flow both ways.
    OPEN = 1
    #: A close frame was sent or received, or the connection is failing,
    #: and the closing handshake has not finished.
    CLOSING = 2
    #: Nothing more will be sent or received: the closing handshake is over,
    #: the connection failed, the handshake was refused, or TCP was closed.
    CLOSED = 3


class _Selected:
    """``ServerConnection.accept()``'s default subprotocol: the one the
    connection selected. One object, shared by both copies of the connection
    layer (its interpreted and its compiled one)."""

    def __repr__(self) -> str:
        return "SELECTED"


#: See :class:`_Selected`.
SELECTED: Any = _Selected()
