"""permessage-deflate (RFC 7692): negotiation, compression, decompression.

Shared by both backends: zlib does the work, so there is nothing for C to
speed up. The decoders call :class:`_Inflater` as compressed payload arrives
and stop it at the message size limit, so a small frame that would inflate
to gigabytes fails with 1009 having produced at most the limit.
"""

from __future__ import annotations

import re
import zlib
from typing import Callable, Iterable, List, NamedTuple, Optional, Tuple, Union

from . import _errors
from ._types import Role, Rsv

__all__ = [
    "DeflateParameters",
    "Deflater",
    "NegotiationError",
    "accept_deflate_response",
    "deflate_offer",
    "negotiate_deflate",
    "parse_extensions",
]

EXTENSION_NAME = "permessage-deflate"

# RFC 7692 section 7.2.1: a compressed message's payload is the deflate
# stream without this empty stored block, which the receiver appends again.
_TAIL = b"\x00\x00\xff\xff"

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_WINDOW_BITS = re.compile(r"[89]|1[0-5]")  # 8-15, no leading zeros (section 7.1.2)

#: One extension in a Sec-WebSocket-Extensions header: its name and its
#: parameters in order, each a name and a value (``None`` when it has none).
Extension = Tuple[str, List[Tuple[str, Optional[str]]]]


class NegotiationError(ValueError):
    """A Sec-WebSocket-Extensions header or a permessage-deflate parameter is invalid."""


class DeflateParameters(NamedTuple):
    """The agreed permessage-deflate parameters (RFC 7692 section 7.1).

    ``server_*`` govern what the server compresses, ``client_*`` what the
    client compresses. A window of 15 bits (32 KiB) is the default.
    """

    server_no_context_takeover: bool = False
    client_no_context_takeover: bool = False
    server_max_window_bits: int = 15
    client_max_window_bits: int = 15


def parse_extensions(header: Union[str, Iterable[str]]) -> List[Extension]:
    """Parse Sec-WebSocket-Extensions values (RFC 6455 section 9.1).

    Accepts one header value or several (a repeated header). Quoted values
    are unquoted and must then be tokens. Raises :class:`NegotiationError`
    on anything that does not follow the grammar.
    """
    text = header if isinstance(header, str) else ", ".join(header)
    extensions: List[Extension] = []
    position = 0

    def skip_space() -> None:
        nonlocal position
        while position < len(text) and text[position] in " \t":
            position += 1

    def token(what: str) -> str:
        nonlocal position
        match = _TOKEN.match(text, position)
        if match is None:
            raise NegotiationError(f"expected {what} at character {position} of {text!r}")
        position = match.end()
        return match.group()

    def quoted() -> str:
        nonlocal position
        value = []
        position += 1  # the opening quote
        while position < len(text) and text[position] != '"':
            if text[position] == "\\":
                position += 1
            if position < len(text):
                value.append(text[position])
                position += 1
        if position >= len(text):
            raise NegotiationError(f"unterminated quoted value in {text!r}")
        position += 1
        unquoted = "".join(value)
        # RFC 6455 section 9.1: a quoted value must be a token once unquoted.
        if _TOKEN.fullmatch(unquoted) is None:
            raise NegotiationError(f"quoted value {unquoted!r} is not a token")
        return unquoted

    while True:
        skip_space()
        if position < len(text) and text[position] == ",":  # empty list element
            position += 1
            continue
        if position == len(text):
            break
        name = token("an extension name")
        parameters: List[Tuple[str, Optional[str]]] = []
        skip_space()
        while position < len(text) and text[position] == ";":
            position += 1
            skip_space()
            parameter = token("a parameter name")
            skip_space()
            value: Optional[str] = None
            if position < len(text) and text[position] == "=":
                position += 1
                skip_space()
                value = quoted() if position < len(text) and text[position] == '"' else token("a parameter value")
                skip_space()
            parameters.append((parameter, value))
        extensions.append((name, parameters))
        if position < len(text):
            if text[position] != ",":
                raise NegotiationError(f"expected ',' or ';' at character {position} of {text!r}")
            position += 1
    return extensions


class _Offer(NamedTuple):
    """A permessage-deflate offer or response with its parameters checked."""

    server_no_context_takeover: bool
    client_no_context_takeover: bool
    server_max_window_bits: Optional[int]
    #: None: absent; 0: present without a value (allowed in offers only).
    client_max_window_bits: Optional[int]


def _check_parameters(parameters: List[Tuple[str, Optional[str]]], *, response: bool) -> _Offer:
    """RFC 7692 section 7.1: known names, each once, with valid values."""
    seen = {}
    for name, value in parameters:
        if name in seen:
            raise NegotiationError(f"{EXTENSION_NAME} parameter {name} appears twice")
        if name in ("server_no_context_takeover", "client_no_context_takeover"):
            if value is not None:
                raise NegotiationError(f"{EXTENSION_NAME} parameter {name} takes no value, got {value!r}")
        elif name in ("server_max_window_bits", "client_max_window_bits"):
            if value is None:
                if name == "server_max_window_bits" or response:
                    raise NegotiationError(f"{EXTENSION_NAME} parameter {name} needs a value from 8 to 15")
            elif _WINDOW_BITS.fullmatch(value) is None:
                raise NegotiationError(f"{EXTENSION_NAME} parameter {name}={value} is not a number from 8 to 15")
        else:
            raise NegotiationError(f"unknown {EXTENSION_NAME} parameter {name}")
        seen[name] = value

    def bits(name: str) -> Optional[int]:
        if name not in seen:
            return None
        value = seen[name]
        return 0 if value is None else int(value)

    return _Offer(
        "server_no_context_takeover" in seen,
        "client_no_context_takeover" in seen,
        bits("server_max_window_bits"),
        bits("client_max_window_bits"),
    )


def _format(parameters: DeflateParameters, client_max_window_bits: Optional[int]) -> str:
    parts = [EXTENSION_NAME]
    if parameters.server_no_context_takeover:
        parts.append("server_no_context_takeover")
    if parameters.client_no_context_takeover:
        parts.append("client_no_context_takeover")
    if parameters.server_max_window_bits != 15:
        parts.append(f"server_max_window_bits={parameters.server_max_window_bits}")
    if client_max_window_bits is not None:
        parts.append(f"client_max_window_bits={client_max_window_bits}")
    return "; ".join(parts)


def _window_bits_arg(name: str, value: int) -> int:
    if not isinstance(value, int) or not 8 <= value <= 15:
        raise ValueError(f"{name} must be an integer from 8 to 15, got {value!r}")
    return value


def negotiate_deflate(
    offers: Union[str, Iterable[str]],
    *,
    server_no_context_takeover: bool = False,
    client_no_context_takeover: bool = False,
    server_max_window_bits: int = 15,
    client_max_window_bits: int = 15,
) -> Optional[Tuple[str, DeflateParameters]]:
    """The server's side: pick the client's first acceptable permessage-deflate offer.

    ``offers`` is the request's Sec-WebSocket-Extensions value(s). Returns the
    response's Sec-WebSocket-Extensions value and the agreed parameters, or
    ``None`` when no offer is acceptable (the connection then runs without
    compression). An offer with unknown, repeated or out-of-range parameters
    is declined, as RFC 7692 section 5 requires; a header that does not
    parse at all raises :class:`NegotiationError` (answer 400). The keyword
    arguments are what this server wants on top of what the client asks for.
    """
    _window_bits_arg("server_max_window_bits", server_max_window_bits)
    _window_bits_arg("client_max_window_bits", client_max_window_bits)
    for name, parameters in parse_extensions(offers):
        if name.lower() != EXTENSION_NAME:
            continue
        try:
            offer = _check_parameters(parameters, response=False)
        except NegotiationError:
            continue  # decline this offer; a later one may do
        server_bits = server_max_window_bits
        if offer.server_max_window_bits is not None:
            server_bits = min(server_bits, offer.server_max_window_bits)
        # The server may limit the client's window only if the client said it
        # can be limited (section 7.1.2.2); it need not, since this side
        # inflates with the largest window anyway.
        client_bits: Optional[int] = None
        if offer.client_max_window_bits is not None and client_max_window_bits < 15:
            client_bits = min(client_max_window_bits, offer.client_max_window_bits or 15)
        agreed = DeflateParameters(
            server_no_context_takeover=offer.server_no_context_takeover or server_no_context_takeover,
            client_no_context_takeover=offer.client_no_context_takeover or client_no_context_takeover,
            server_max_window_bits=server_bits,
            client_max_window_bits=client_bits or offer.client_max_window_bits or 15,
        )
        return _format(agreed, client_bits), agreed
    return None


def deflate_offer(
    *,
    server_no_context_takeover: bool = False,
    client_no_context_takeover: bool = False,
    server_max_window_bits: Optional[int] = None,
    client_max_window_bits: bool = True,
) -> str:
    """The client's side: a Sec-WebSocket-Extensions value offering permessage-deflate.

    ``client_max_window_bits=True`` tells the server it may limit the
    client's window (section 7.1.2.2).
    """
    parts = [EXTENSION_NAME]
    if server_no_context_takeover:
        parts.append("server_no_context_takeover")
    if client_no_context_takeover:
        parts.append("client_no_context_takeover")
    if server_max_window_bits is not None:
        parts.append(f"server_max_window_bits={_window_bits_arg('server_max_window_bits', server_max_window_bits)}")
    if client_max_window_bits:
        parts.append("client_max_window_bits")
    return "; ".join(parts)


def accept_deflate_response(response: Union[str, Iterable[str]], offer: str) -> DeflateParameters:
    """The client's side: check the server's answer to ``offer``; return the agreed parameters.

    Raises :class:`NegotiationError` when the response is malformed, names
    another extension, or does not fit the offer (section 7.1); the client
    must then fail the connection.
    """
    offered = _check_parameters(parse_extensions(offer)[0][1], response=False)
    extensions = parse_extensions(response)
    if len(extensions) != 1 or extensions[0][0].lower() != EXTENSION_NAME:
        raise NegotiationError(f"expected one {EXTENSION_NAME} response, got {response!r}")
    answer = _check_parameters(extensions[0][1], response=True)
    if offered.server_no_context_takeover and not answer.server_no_context_takeover:
        raise NegotiationError("the server dropped server_no_context_takeover, which the client asked for")
    if offered.server_max_window_bits is not None and (
        answer.server_max_window_bits is None or answer.server_max_window_bits > offered.server_max_window_bits
    ):
        raise NegotiationError(f"the server did not keep server_max_window_bits to {offered.server_max_window_bits}")
    if answer.client_max_window_bits is not None and offered.client_max_window_bits is None:
        raise NegotiationError("the server set client_max_window_bits, which the client did not offer")
    if answer.client_max_window_bits and offered.client_max_window_bits and answer.client_max_window_bits > offered.client_max_window_bits:
        raise NegotiationError(f"the server raised client_max_window_bits above {offered.client_max_window_bits}")
    return DeflateParameters(
        server_no_context_takeover=answer.server_no_context_takeover,
        client_no_context_takeover=answer.client_no_context_takeover or offered.client_no_context_takeover,
        server_max_window_bits=answer.server_max_window_bits or 15,
        client_max_window_bits=answer.client_max_window_bits or offered.client_max_window_bits or 15,
    )


class Deflater:
    """Compresses whole messages to send (RFC 7692 section 7.2.1).

    ``role`` is the sender's: a server compresses with the ``server_*``
    parameters, a client with the ``client_*`` ones. Send the result with
    RSV1 set on the message's first frame, e.g.
    ``encode_frame(Opcode.TEXT, deflater.compress(data), rsv1=True)``.
    """

    def __init__(self, parameters: DeflateParameters, role: Role, *, level: int = 6) -> None:
        if role is Role.SERVER:
            bits, self._no_context = parameters.server_max_window_bits, parameters.server_no_context_takeover
        elif role is Role.CLIENT:
            bits, self._no_context = parameters.client_max_window_bits, parameters.client_no_context_takeover
        else:
            raise _errors.bad_role(role)
        # zlib cannot make an 8-bit-window deflate stream: asked for 8, it
        # writes a 9-bit one that a peer's 8-bit inflater may reject. Stored
        # blocks (level 0) refer back to nothing, so they fit any window.
        self._level = level if bits > 8 else 0
        self._window_bits = max(bits, 9)
        self._zlib = self._new()

    def _new(self) -> "zlib._Compress":
        return zlib.compressobj(self._level, zlib.DEFLATED, -self._window_bits)

    def compress(self, data: Union[bytes, bytearray, memoryview]) -> bytes:
        """One message's payload, compressed, with the 00 00 ff ff tail removed."""
        compressed = self._zlib.compress(data) + self._zlib.flush(zlib.Z_SYNC_FLUSH)
        if self._no_context:
            self._zlib = self._new()
        # A sync flush always ends with the empty stored block.
        return compressed[:-4]


# How much one zlib call may inflate: a message is appended to its buffer in
# steps of this size, so refusing a bomb at the limit costs the limit plus one
# step (one call inflating up to the limit held the output and zlib's own
# copy of it at once: twice the limit). It also keeps every size that zlib
# is asked for small, whatever the limit: a limit of sys.maxsize or more, as
# max_length, did not fit zlib's C argument.
_INFLATE_STEP = 65536


class _Inflater:
    """Decompresses a received message as its pieces arrive, up to a size limit."""

    def __init__(self, parameters: DeflateParameters, reader_role: Role) -> None:
        # The reader inflates what its peer compressed: a server reads the
        # client's messages. A window of 15 bits inflates any smaller one.
        if reader_role is Role.SERVER:
            self._no_context = parameters.client_no_context_takeover
        else:
            self._no_context = parameters.server_no_context_takeover
        self._zlib: Optional["zlib._Decompress"] = None

    def inflate(self, data: bytes, final: bool, room: Optional[int], limit: Optional[int],
                append: Callable[[bytes], object]) -> None:
        """Inflate the next piece of a message; ``final`` for its last.

        Hands what it inflates to ``append`` in pieces of at most
        ``_INFLATE_STEP`` bytes, each before the next is inflated. ``room``
        is how many more bytes the message may inflate to (``None``: no
        limit); past it, ``PayloadTooBig`` naming ``limit``, raised before
        the piece that passes it is handed on.
        """
        try:
            produced = self._inflate(data, room, limit, 0, append)
            if final:
                assert self._zlib is not None
                if not self._zlib.eof:
                    # Section 7.2.2: append the tail the sender removed.
                    self._inflate(_TAIL, room, limit, produced, append)
                if self._no_context or self._zlib.eof:
                    self._zlib = None
        except zlib.error:
            raise _errors.corrupt_deflate_data() from None

    def _inflate(self, data: bytes, room: Optional[int], limit: Optional[int], produced: int,
                 append: Callable[[bytes], object]) -> int:
        while True:
            if self._zlib is None:
                self._zlib = zlib.decompressobj(-15)
            inflater = self._zlib
            while True:
                step = _INFLATE_STEP
                if room is not None and room + 1 - produced < step:
                    step = room + 1 - produced
                out = inflater.decompress(data, step)
                produced += len(out)
                if room is not None and produced > room:
                    raise _errors.inflated_too_big(limit)  # type: ignore[arg-type]
                if out:
                    append(out)
                if len(out) < step:
                    # Short of the step: zlib used all the input and holds no
                    # output back. A full step may leave output pending even
                    # with no input left, so ask again.
                    break
                data = inflater.unconsumed_tail
            if not (inflater.eof and inflater.unused_data):
                return produced
            # Section 7.2.3.4: a sender may end a block with BFINAL set and go
            # on in a new deflate stream (which cannot refer back past it).
            data = inflater.unused_data
            self._zlib = None


def inflater_for(deflate: object, reader_role: Role, allowed_rsv: int) -> Optional[_Inflater]:
    """The MessageDecoder's inflater for its ``deflate`` argument (None: no compression)."""
    if deflate is None:
        return None
    if not isinstance(deflate, DeflateParameters):
        raise _errors.bad_deflate_arg(deflate)
    if allowed_rsv & Rsv.RSV1:
        raise _errors.rsv1_taken_by_deflate()
    return _Inflater(deflate, reader_role)
