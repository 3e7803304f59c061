"""What the decoders deliver: frames (frame layer) and events (message layer).

Shared by both backends, so results compare equal across them.
"""

from __future__ import annotations

from typing import NamedTuple, Union

from ._types import Opcode

__all__ = ["BinaryMessage", "Close", "Event", "Frame", "Ping", "Pong", "TextMessage"]


class Frame(NamedTuple):
    """One frame from :class:`FrameDecoder`, payload unmasked (RFC 6455 section 5.2).

    With ``chunked=True`` a data frame's payload comes in pieces as it
    arrives: every piece but the last has ``frame_finished`` false. ``fin`` is
    the frame's FIN bit on every piece.
    """

    opcode: Opcode
    payload: bytes
    fin: bool
    rsv1: bool
    rsv2: bool
    rsv3: bool
    frame_finished: bool


class TextMessage(NamedTuple):
    """A whole text message, reassembled and validated as UTF-8."""

    data: str


class BinaryMessage(NamedTuple):
    """A whole binary message, reassembled."""

    data: bytes


class Ping(NamedTuple):
    """A ping (RFC 6455 section 5.5.2): answer it with a pong carrying ``payload``."""

    payload: bytes


class Pong(NamedTuple):
    """A pong (RFC 6455 section 5.5.3)."""

    payload: bytes


class Close(NamedTuple):
    """A close frame (RFC 6455 section 5.5.1).

    ``code`` is 1005 (``CloseCode.NO_STATUS_RCVD``) when the frame carried no
    status code (section 7.1.5); ``reason`` is then empty.
    """

    code: int
    reason: str


#: Everything :meth:`MessageDecoder.feed` can return.
Event = Union[TextMessage, BinaryMessage, Ping, Pong, Close]
