"""The protocol's numbers, once: RFC 6455 (WebSocket) and the parts of RFC 7692
(permessage-deflate) that the framing layer sees.

Both backends, the connection layer, the handshake and the drop-ins read
these names instead of restating the values. The C backend reads the same
values from ``_rfc6455.pxd``, its twin for Cython; a test holds the two equal.
"""

from __future__ import annotations

__all__ = [
    "ALL_RSV",
    "CONTROL_BIT",
    "FIN",
    "LENGTH_16",
    "LENGTH_64",
    "MASK_BIT",
    "MASK_KEY_LENGTH",
    "MAX_CLOSE_REASON_LENGTH",
    "MAX_CONTROL_PAYLOAD_LENGTH",
    "MAX_HEADER_LENGTH",
    "MAX_LENGTH_16",
    "MAX_LENGTH_7",
    "MAX_PAYLOAD_LENGTH",
    "OPCODE_BITS",
    "OP_BINARY",
    "OP_CLOSE",
    "OP_CONTINUATION",
    "OP_PING",
    "OP_PONG",
    "OP_TEXT",
    "PAYLOAD_LENGTH_BITS",
    "RSV1",
    "RSV2",
    "RSV3",
    "WEBSOCKET_GUID",
    "WEBSOCKET_VERSION",
    "header_length",
]

# --- Section 5.2, the first header byte: FIN, RSV1-3, the opcode ------------

FIN = 0x80
RSV1 = 0x40
RSV2 = 0x20
RSV3 = 0x10
#: Every RSV bit; each "MUST be 0 unless an extension is negotiated that
#: defines meanings for non-zero values".
ALL_RSV = RSV1 | RSV2 | RSV3
OPCODE_BITS = 0x0F
#: Opcodes 0x8-0xF are control frames (section 5.5).
CONTROL_BIT = 0x08

OP_CONTINUATION = 0x0
OP_TEXT = 0x1
OP_BINARY = 0x2
OP_CLOSE = 0x8
OP_PING = 0x9
OP_PONG = 0xA

# --- Section 5.2, the second header byte: MASK, the payload length ---------

MASK_BIT = 0x80
PAYLOAD_LENGTH_BITS = 0x7F
#: Payload lengths up to this fit the 7-bit field itself.
MAX_LENGTH_7 = 125
#: The 7-bit field's marker for "a 16-bit length follows".
LENGTH_16 = 126
#: The 7-bit field's marker for "a 64-bit length follows".
LENGTH_64 = 127
MAX_LENGTH_16 = 0xFFFF
#: "the most significant bit MUST be 0", so a 64-bit length is at most 2**63 - 1.
MAX_PAYLOAD_LENGTH = 2**63 - 1
MASK_KEY_LENGTH = 4
#: 2 bytes, an 8-byte length and a 4-byte masking key.
MAX_HEADER_LENGTH = 14

# --- Section 5.5: control frames ---------------------------------------------

#: "All control frames MUST have a payload length of 125 bytes or less".
MAX_CONTROL_PAYLOAD_LENGTH = 125
#: A close frame's payload is a 2-byte status code and then the reason.
MAX_CLOSE_REASON_LENGTH = MAX_CONTROL_PAYLOAD_LENGTH - 2

# --- Sections 1.3 and 4: the opening handshake -------------------------------

#: Appended to the client's Sec-WebSocket-Key before hashing (section 1.3).
WEBSOCKET_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#: The only Sec-WebSocket-Version RFC 6455 defines (section 4.1).
WEBSOCKET_VERSION = "13"


def header_length(payload_length: int, masked: bool) -> int:
    """The bytes a header takes for ``payload_length`` in its shortest form
    (section 5.2: "the minimal number of bytes MUST be used to encode the
    length"), with the 4-byte masking key when ``masked``."""
    if payload_length <= MAX_LENGTH_7:
        length = 2
    elif payload_length <= MAX_LENGTH_16:
        length = 4
    else:
        length = 10
    return length + MASK_KEY_LENGTH if masked else length
