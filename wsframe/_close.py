"""Close frame payloads (RFC 6455 sections 5.5.1 and 7.4), shared by both backends.

Close frames are rare, so one Python implementation serves both decoders and
keeps their behaviour identical.
"""

from __future__ import annotations

from typing import Optional

from . import _errors
from ._rfc6455 import MAX_CLOSE_REASON_LENGTH
from ._events import Close
from ._types import CloseCode

__all__ = ["MAX_CLOSE_REASON_LENGTH", "close_payload", "is_sendable_close_code", "parse_close_payload"]

def is_sendable_close_code(code: int) -> bool:
    """Whether a peer may put ``code`` in a close frame (RFC 6455 section 7.4).

    1000-1003 and 1007-1014 are defined for use in close frames; 1004, 1005,
    1006 and 1015 MUST NOT be sent; 1016-2999 are unassigned; 3000-3999 are
    registered with IANA and 4000-4999 are private use.
    """
    return 1000 <= code <= 1003 or 1007 <= code <= 1014 or 3000 <= code <= 4999


def parse_close_payload(payload: bytes) -> Close:
    """Read a received close frame's payload; raise :class:`ProtocolError` if invalid."""
    if not payload:
        return Close(CloseCode.NO_STATUS_RCVD, "")
    if len(payload) == 1:
        raise _errors.close_payload_one_byte()
    code = int.from_bytes(payload[:2], "big")
    if not is_sendable_close_code(code):
        raise _errors.bad_close_code(code)
    try:
        reason = payload[2:].decode("utf-8")
    except UnicodeDecodeError:
        raise _errors.invalid_utf8("close reason") from None
    return Close(code, reason)


def close_payload(code: Optional[int] = None, reason: str = "") -> bytes:
    """The payload of a close frame to send: the code, then the reason in UTF-8.

    ``code=None`` gives an empty payload (no status code). A reason longer
    than 123 bytes of UTF-8 is shortened to fit, never inside a character.
    Raises ``ValueError`` for a code a peer may not send (RFC 6455 section 7.4).
    """
    if code is None:
        if reason:
            raise _errors.reason_without_code()
        return b""
    if not is_sendable_close_code(code):
        raise _errors.bad_close_code_arg(code)
    encoded = reason.encode("utf-8")
    if len(encoded) > MAX_CLOSE_REASON_LENGTH:
        # The encoding is valid UTF-8, so the only undecodable bytes after the
        # cut are a character cut short at the end: "ignore" drops just those.
        encoded = encoded[:MAX_CLOSE_REASON_LENGTH].decode("utf-8", "ignore").encode("utf-8")
    return int(code).to_bytes(2, "big") + encoded
