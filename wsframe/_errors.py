"""Exceptions, and the one place every error message is worded.

Both backends build their errors with the functions below, so the C extension
and the pure-Python twin cannot drift apart in wording. Every ``ProtocolError``
reason fits in a close frame: 123 bytes of UTF-8 (RFC 6455 section 5.5.1).
"""

from __future__ import annotations

from typing import Any, List

from ._types import CloseCode, Opcode, Rsv

__all__ = ["InvalidState", "InvalidUTF8", "PayloadTooBig", "ProtocolError"]


class ProtocolError(Exception):
    """The peer broke RFC 6455; fail the connection (section 7.1.7).

    ``close_code`` is the status code to send in the close frame and ``reason``
    says why, in words short enough to send as the close reason.

    ``events`` holds what the failing ``feed()`` completed before the
    violation, in order: the events (:class:`MessageDecoder`) or frames
    (:class:`FrameDecoder`) it would have returned had the stream stopped
    there. The peer sent them first, so handle them, then fail the
    connection: section 7.1.7 fails it at the offending frame, not before.
    It is empty when the error came from anything but a decoder's ``feed()``.
    """

    close_code: CloseCode
    reason: str
    #: What the failing ``feed()`` completed before the violation.
    events: List[Any]

    def __init__(self, reason: str, close_code: int = CloseCode.PROTOCOL_ERROR) -> None:
        super().__init__(reason, close_code)
        self.reason = reason
        self.close_code = CloseCode(close_code)
        self.events = []

    def __str__(self) -> str:
        return f"{self.reason} (close code {int(self.close_code)}, {self.close_code.name})"


class PayloadTooBig(ProtocolError):
    """A frame or message is larger than the configured limit (1009)."""

    def __init__(self, reason: str, close_code: int = CloseCode.MESSAGE_TOO_BIG) -> None:
        super().__init__(reason, close_code)


class InvalidUTF8(ProtocolError):
    """A text message or close reason is not valid UTF-8 (1007, RFC 6455 8.1)."""

    def __init__(self, reason: str, close_code: int = CloseCode.INVALID_FRAME_PAYLOAD_DATA) -> None:
        super().__init__(reason, close_code)


# --- ProtocolError reasons: what the peer did wrong -------------------------


class InvalidState(RuntimeError):
    """The connection cannot do that in its current state (sending after its close frame, say)."""


def _opcode_name(opcode: int) -> str:
    return Opcode(opcode).name


def reserved_opcode(opcode: int) -> ProtocolError:
    return ProtocolError(f"opcode {opcode:#x} is reserved and no extension defines it")


def rsv_not_negotiated(rsv_bits: int) -> ProtocolError:
    names = [f"RSV{index}" for index, bit in enumerate((Rsv.RSV1, Rsv.RSV2, Rsv.RSV3), 1) if rsv_bits & bit]
    if len(names) == 1:
        return ProtocolError(f"{names[0]} bit is set but no negotiated extension uses it")
    return ProtocolError(f"{' and '.join(names)} bits are set but no negotiated extension uses them")


def fragmented_control_frame(opcode: int) -> ProtocolError:
    return ProtocolError(
        f"{_opcode_name(opcode)} frame has FIN clear; control frames must not be fragmented"
    )


def control_frame_too_long(opcode: int) -> ProtocolError:
    return ProtocolError(
        f"{_opcode_name(opcode)} frame payload is over 125 bytes, the limit for control frames"
    )


def mask_bit_wrong(reader_is_server: bool) -> ProtocolError:
    if reader_is_server:
        return ProtocolError("client frame is not masked; clients must mask every frame")
    return ProtocolError("server frame is masked; servers must not mask frames")


def non_minimal_length_16(payload_length: int) -> ProtocolError:
    return ProtocolError(
        f"payload length {payload_length} is sent in the 16-bit field; "
        "lengths under 126 must use the 7-bit field"
    )


def non_minimal_length_64(payload_length: int) -> ProtocolError:
    return ProtocolError(
        f"payload length {payload_length} is sent in the 64-bit field; "
        "lengths under 65536 must use a shorter field"
    )


def length_msb_set() -> ProtocolError:
    return ProtocolError("64-bit payload length has its most significant bit set")


def frame_too_big(payload_length: int, limit: int) -> PayloadTooBig:
    return PayloadTooBig(
        f"frame payload of {payload_length} bytes is over the limit of {limit} bytes"
    )


def continuation_without_message() -> ProtocolError:
    return ProtocolError("continuation frame arrived with no fragmented message in progress")


def message_in_progress(opcode: int) -> ProtocolError:
    return ProtocolError(f"{_opcode_name(opcode)} frame arrived while a fragmented message is in progress")


def message_too_big(message_length: int, limit: int) -> PayloadTooBig:
    return PayloadTooBig(f"message of {message_length} bytes is over the limit of {limit} bytes")


def inflated_too_big(limit: int) -> PayloadTooBig:
    return PayloadTooBig(f"compressed message inflates past the limit of {limit} bytes")


def corrupt_deflate_data() -> ProtocolError:
    return ProtocolError("compressed message is not valid deflate data (RFC 7692 section 7.2.2)")


def rsv1_on_continuation() -> ProtocolError:
    return ProtocolError("RSV1 set on a continuation frame; permessage-deflate marks only a message's first frame")


def rsv1_on_control(opcode: int) -> ProtocolError:
    return ProtocolError(f"RSV1 set on a {_opcode_name(opcode)} frame; control frames are never compressed")


def invalid_utf8(what: str) -> InvalidUTF8:
    return InvalidUTF8(f"{what} is not valid UTF-8")


def close_payload_one_byte() -> ProtocolError:
    return ProtocolError("close frame payload is 1 byte; it must be empty or start with a 2-byte code")


def bad_close_code(code: int) -> ProtocolError:
    return ProtocolError(f"close code {code} is not one a peer may send")


def decoder_failed(previous: BaseException) -> BaseException:
    """The error to raise when a failed decoder is fed again."""
    if isinstance(previous, ProtocolError):
        return type(previous)(previous.reason, previous.close_code)
    return RuntimeError(f"the decoder failed earlier and cannot be used again: {previous!r}")


def feed_in_progress(decoder: str) -> RuntimeError:
    return RuntimeError(
        f"{decoder}.feed() called while another feed() on the same decoder is running; "
        "a decoder belongs to one connection and takes its bytes in order, from one thread at a time"
    )


# --- argument errors: what the caller did wrong -----------------------------


def not_a_buffer(function: str, argument: str, value: object) -> TypeError:
    return TypeError(
        f"{function}() argument '{argument}' must be a bytes-like object, "
        f"not {type(value).__name__}"
    )


def not_contiguous(function: str, argument: str) -> BufferError:
    return BufferError(f"{function}() argument '{argument}' must be a contiguous buffer")


def not_writable(function: str, argument: str, value: object) -> TypeError:
    return TypeError(
        f"{function}() argument '{argument}' must be a writable buffer, "
        f"not read-only {type(value).__name__}"
    )


def bad_mask_key_length(length: int) -> ValueError:
    return ValueError(f"mask key must be 4 bytes long, not {length}")


def negative_argument(function: str, argument: str, value: int) -> ValueError:
    return ValueError(f"{function}() argument '{argument}' must not be negative, not {value}")


def offset_past_end(offset: int, length: int) -> ValueError:
    return ValueError(f"offset {offset} is past the end of a {length}-byte buffer")


def bad_role(role: object) -> TypeError:
    return TypeError(f"role must be Role.SERVER or Role.CLIENT, not {role!r}")


def bad_allowed_rsv(allowed_rsv: int) -> ValueError:
    return ValueError(
        f"allowed_rsv must combine Rsv.RSV1, Rsv.RSV2 and Rsv.RSV3 (0x70), not {allowed_rsv:#x}"
    )


def bad_deflate_arg(value: object) -> TypeError:
    return TypeError(f"deflate must be a DeflateParameters or None, not {type(value).__name__}")


def rsv1_taken_by_deflate() -> ValueError:
    return ValueError("allowed_rsv includes RSV1, which permessage-deflate uses when deflate is given; leave it out")


def bad_opcode(opcode: int) -> ValueError:
    return ValueError(f"opcode {opcode:#x} is not a frame opcode that RFC 6455 defines")


def bad_payload_length(payload_length: int) -> ValueError:
    return ValueError(f"payload length {payload_length} is outside 0 to 2**63 - 1")


def fragmented_control_frame_arg(opcode: int) -> ValueError:
    return ValueError(f"{_opcode_name(opcode)} frames cannot be fragmented; fin must be true")


def control_payload_too_long_arg(opcode: int, payload_length: int) -> ValueError:
    return ValueError(
        f"{_opcode_name(opcode)} payload is {payload_length} bytes; "
        "control frames carry 125 bytes at most"
    )


def bad_max_events(count: int) -> ValueError:
    return ValueError(f"feed() argument 'max_events' must be None or at least 1, not {count}")


def ssize_overflow() -> OverflowError:
    # Same words as the C backend's conversion of an int argument to Py_ssize_t.
    return OverflowError("Python int too large to convert to C ssize_t")


def bad_close_code_arg(code: int) -> ValueError:
    return ValueError(f"close code {code} may not be sent; use 1000-1003, 1007-1014 or 3000-4999")


def reason_without_code() -> ValueError:
    return ValueError("a close reason needs a close code")
