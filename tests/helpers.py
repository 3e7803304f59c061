"""Reference implementations and comparison helpers for the tests."""

from __future__ import annotations

from typing import Any, Callable, Tuple

import wsframe


def reference_mask(data: bytes, key: bytes, offset: int = 0) -> bytes:
    """RFC 6455 section 5.3, byte by byte: octet i XOR key octet (i mod 4)."""
    return bytes(byte ^ key[(offset + i) % 4] for i, byte in enumerate(data))


def outcome(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Tuple[Any, ...]:
    """What a call did, in a form two backends can be compared on."""
    try:
        return ("returned", function(*args, **kwargs))
    except wsframe.ProtocolError as exc:
        return ("raised", type(exc), exc.close_code, exc.reason)
    except (TypeError, ValueError, OverflowError, BufferError) as exc:
        return ("raised", type(exc), str(exc))
