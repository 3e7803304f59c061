"""The opening handshake (RFC 6455 section 4), both sides, sans-I/O.

The server side reads a client's HTTP/1.1 upgrade request
(:func:`parse_request`), checks it (:func:`check_request`, section 4.2.1)
and answers ``101 Switching Protocols`` (:func:`accept_response`, section
4.2.2) or an HTTP error (:class:`InvalidRequest` carries it). The client
side builds the request with a fresh key from the operating system's CSPRNG
(:func:`client_request`, section 4.1) and validates the server's answer
(:func:`parse_response`, :func:`check_response`). :class:`ServerConnection`
and :class:`ClientConnection` run these for you; they are public for
servers that parse HTTP themselves.
"""

from __future__ import annotations

import base64
import email.utils
import hashlib
import http
import os
import re
from typing import Collection, Dict, Iterable, List, NamedTuple, Optional, Sequence, Tuple
from urllib.parse import urlsplit

from ._rfc6455 import WEBSOCKET_GUID, WEBSOCKET_VERSION

__all__ = [
    "HandshakeError",
    "InvalidRequest",
    "InvalidResponse",
    "MAX_HEAD_SIZE",
    "Request",
    "Response",
    "WebSocketURI",
    "accept_key",
    "accept_response",
    "check_request",
    "check_response",
    "client_request",
    "http_response",
    "offered_subprotocols",
    "parse_request",
    "parse_response",
    "parse_uri",
    "select_subprotocol",
]

#: A request or response head (its first line and header fields) may not be
#: longer than this: a peer that sends more gets 431 (or fails the client)
#: before it can make the other side buffer more.
MAX_HEAD_SIZE = 8192
MAX_HEADER_FIELDS = 64

#: One header field as it came: (name as sent, value).
Field = Tuple[str, str]

# RFC 9110 section 5.6.2: a token, the syntax of a field name and a method.
_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_TOKEN_TEXT = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_REQUEST_LINE = re.compile(rb"([!#$%&'*+\-.^_`|~0-9A-Za-z]+) (\S+) HTTP/(\d)\.(\d)")
_STATUS_LINE = re.compile(rb"HTTP/(\d)\.(\d) (\d{3})(?: ([^\r\n]*))?")
_PHRASES = {status.value: status.phrase for status in http.HTTPStatus}


class HandshakeError(Exception):
    """The opening handshake failed (RFC 6455 section 4); ``detail`` says why."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class InvalidRequest(HandshakeError):
    """The server cannot upgrade the request; ``response`` is the HTTP answer to send.

    ``status`` is its status code: 400 for a request that breaks RFC 6455
    section 4.2.1, 403 for an origin the server does not allow, 405 for a
    method other than GET, 426 for a request that is no WebSocket upgrade or
    asks for a version other than 13 (section 4.4), 431 for a head over
    :data:`MAX_HEAD_SIZE`, 505 for HTTP before 1.1.
    """

    def __init__(self, status: int, detail: str, headers: Sequence[Field] = ()) -> None:
        super().__init__(f"{status} {_PHRASES.get(status, '')}: {detail}")
        self.detail = detail
        self.status = status
        self.response = http_response(status, list(headers), (detail + "\n").encode("utf-8"))


class InvalidResponse(HandshakeError):
    """The server's answer does not complete the handshake (RFC 6455 section 4.1):
    the client must fail the connection. ``response`` is the answer, when it parsed."""

    def __init__(self, detail: str, response: Optional["Response"] = None) -> None:
        super().__init__(detail)
        self.response = response


class _Head(NamedTuple):
    start_line: bytes
    headers: Dict[str, List[str]]
    fields: Tuple[Field, ...]


def _header(headers: Dict[str, List[str]], name: str) -> Optional[str]:
    values = headers.get(name.lower())
    return None if values is None else ", ".join(values)


class Request(NamedTuple):
    """A client's upgrade request, the event :class:`ServerConnection` delivers once it checked it.

    ``headers`` maps lower-cased names to their values; ``fields`` keeps the
    fields as they came, in order, names as sent (an ASGI scope wants them).
    """

    method: str
    #: The request target: the resource name, ``/path?query`` (section 3).
    target: str
    headers: Dict[str, List[str]]
    fields: Tuple[Field, ...] = ()

    def header(self, name: str) -> Optional[str]:
        """The field's value (any case), the values of a repeated field joined by commas."""
        return _header(self.headers, name)

    @property
    def path(self) -> str:
        """The target without its query."""
        return self.target.partition("?")[0]

    @property
    def query(self) -> str:
        """The target's query, without the ``?``."""
        return self.target.partition("?")[2]

    @property
    def origin(self) -> Optional[str]:
        """The ``Origin`` header: browsers send one (RFC 6455 section 10.2)."""
        return self.header("origin")

    @property
    def subprotocols(self) -> List[str]:
        """The subprotocols the client offers, in its order of preference."""
        return offered_subprotocols(self)


class Response(NamedTuple):
    """A server's answer to the upgrade request, the event :class:`ClientConnection` delivers."""

    status: int
    reason: str
    headers: Dict[str, List[str]]
    fields: Tuple[Field, ...] = ()
    #: The response body, when the server refused with one (a client reads
    #: it up to what arrived with the head).
    body: bytes = b""

    def header(self, name: str) -> Optional[str]:
        """The field's value (any case), the values of a repeated field joined by commas."""
        return _header(self.headers, name)


def _parse_head(head: bytes, error: type, what: str) -> _Head:
    """A head's first line and header fields (RFC 9112 sections 2 and 5)."""
    if len(head) > MAX_HEAD_SIZE:
        raise _too_large(error, f"{what} head over {MAX_HEAD_SIZE} bytes")
    if not head.endswith(b"\r\n\r\n"):
        raise _bad(error, f"{what} head does not end with an empty line")
    start_line, *field_lines = head[:-4].split(b"\r\n")
    if len(field_lines) > MAX_HEADER_FIELDS:
        raise _too_large(error, f"more than {MAX_HEADER_FIELDS} header fields")
    headers: Dict[str, List[str]] = {}
    fields: List[Field] = []
    for line in field_lines:
        name, colon, value = line.partition(b":")
        if not colon or _TOKEN.fullmatch(name) is None:
            # Also refuses obsolete line folding (RFC 9112 section 5.2).
            raise _bad(error, f"malformed header field {line[:40]!r}")
        text = value.strip(b" \t").decode("latin-1")
        if any(ord(c) < 0x20 and c != "\t" or c == "\x7f" for c in text):
            raise _bad(error, f"control character in header field {name.decode('ascii')}")
        headers.setdefault(name.decode("ascii").lower(), []).append(text)
        fields.append((name.decode("ascii"), text))
    return _Head(start_line, headers, tuple(fields))


def _bad(error: type, detail: str) -> HandshakeError:
    return InvalidRequest(400, detail) if error is InvalidRequest else InvalidResponse(detail)


def _too_large(error: type, detail: str) -> HandshakeError:
    return InvalidRequest(431, detail) if error is InvalidRequest else InvalidResponse(detail)


def _tokens(value: Optional[str]) -> List[str]:
    """A comma-separated list of tokens, lower-cased (RFC 9110 section 5.6.1)."""
    return [token.strip().lower() for token in (value or "").split(",")]


def _list(values: Iterable[str]) -> List[str]:
    """A comma-separated list, elements kept as sent, empty ones dropped."""
    return [item.strip() for value in values for item in value.split(",") if item.strip()]


# --- the server side -----------------------------------------------------------


def parse_request(head: bytes) -> Request:
    """Parse a request head: the bytes up to and including the empty line.

    Raises :class:`InvalidRequest` (400, 431 or 505) for one that is not HTTP/1.1.
    """
    parsed = _parse_head(head, InvalidRequest, "request")
    match = _REQUEST_LINE.fullmatch(parsed.start_line)
    if match is None:
        raise InvalidRequest(400, "malformed request line")
    method, target, major, minor = match.groups()
    # Section 4.1: "The method of the request MUST be GET, and the HTTP
    # version MUST be at least 1.1."
    if (int(major), int(minor)) < (1, 1):
        raise InvalidRequest(505, "WebSocket needs HTTP/1.1 or later")
    return Request(method.decode("ascii"), target.decode("latin-1"), parsed.headers, parsed.fields)


def accept_key(key: str) -> str:
    """``Sec-WebSocket-Accept`` for a ``Sec-WebSocket-Key`` (RFC 6455 section 4.2.2)."""
    digest = hashlib.sha1((key + WEBSOCKET_GUID).encode("ascii")).digest()
    return base64.b64encode(digest).decode("ascii")


def check_request(request: Request, *, origins: Optional[Collection[Optional[str]]] = None) -> str:
    """Check an upgrade request (RFC 6455 section 4.2.1); return its ``Sec-WebSocket-Key``.

    ``origins``, when given, lists the ``Origin`` values accepted; include
    ``None`` to accept clients that send none (browsers always send one,
    section 10.2). Raises :class:`InvalidRequest` with the HTTP answer for a
    request that cannot be upgraded.
    """
    if request.method != "GET":
        raise InvalidRequest(405, "a WebSocket handshake is a GET request", (("Allow", "GET"),))
    if request.header("host") is None:
        raise InvalidRequest(400, "missing Host header")
    if "websocket" not in _tokens(request.header("upgrade")):
        raise InvalidRequest(426, "this is a WebSocket endpoint: send Upgrade: websocket",
                             (("Upgrade", "websocket"), ("Sec-WebSocket-Version", WEBSOCKET_VERSION)))
    if "upgrade" not in _tokens(request.header("connection")):
        raise InvalidRequest(400, "the Connection header must include Upgrade")
    keys = request.headers.get("sec-websocket-key", [])
    if not keys:
        raise InvalidRequest(400, "missing Sec-WebSocket-Key header")
    if len(keys) > 1:
        raise InvalidRequest(400, "more than one Sec-WebSocket-Key header")
    try:
        nonce = base64.b64decode(keys[0], validate=True)
    except ValueError:  # binascii.Error, or a non-ASCII character
        nonce = b""
    if len(nonce) != 16:
        raise InvalidRequest(400, "Sec-WebSocket-Key must be 16 bytes in base64")
    # Section 4.4: a server that does not speak the requested version
    # answers with the versions it does speak.
    if request.header("sec-websocket-version") != WEBSOCKET_VERSION:
        raise InvalidRequest(426, f"only WebSocket version {WEBSOCKET_VERSION} is supported",
                             (("Sec-WebSocket-Version", WEBSOCKET_VERSION),))
    if origins is not None and request.origin not in origins:
        raise InvalidRequest(403, f"origin {request.origin!r} is not allowed")
    return keys[0]


def offered_subprotocols(request: Request) -> List[str]:
    """The subprotocols a request offers (``Sec-WebSocket-Protocol``, section 11.3.4), in order."""
    return _list(request.headers.get("sec-websocket-protocol", []))


def select_subprotocol(offered: Sequence[str], supported: Sequence[str]) -> Optional[str]:
    """The first of ``supported`` (the server's order of preference) that the
    client offered, or ``None``: then the server answers without
    ``Sec-WebSocket-Protocol``, which section 4.2.2 allows."""
    for subprotocol in supported:
        if subprotocol in offered:
            return subprotocol
    return None


def accept_response(key: str, headers: Sequence[Field] = ()) -> bytes:
    """The ``101 Switching Protocols`` response (section 4.2.2) for a checked
    request's key, with ``headers`` (a negotiated extension, a subprotocol...)."""
    lines = [
        "HTTP/1.1 101 Switching Protocols",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Accept: {accept_key(key)}",
    ]
    lines += [f"{name}: {value}" for name, value in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def http_response(status: int, headers: Sequence[Field] = (), body: bytes = b"") -> bytes:
    """An HTTP/1.1 response that ends the connection (a refused handshake),
    with the usual fields the caller did not give (names compared without case)."""
    given = {name.lower() for name, _ in headers}
    defaults = [("Date", email.utils.formatdate(usegmt=True)), ("Connection", "close"),
                ("Content-Length", str(len(body))), ("Content-Type", "text/plain; charset=utf-8")]
    fields = list(headers) + [(name, value) for name, value in defaults if name.lower() not in given]
    lines = [f"HTTP/1.1 {status} {_PHRASES.get(status, '')}".rstrip()]
    lines += [f"{name}: {value}" for name, value in fields]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


# --- the client side -----------------------------------------------------------


class WebSocketURI(NamedTuple):
    """A ws:// or wss:// URI, taken apart as RFC 6455 section 3 says."""

    secure: bool
    host: str
    port: int
    #: The path and query: what the request line asks for.
    resource_name: str

    @property
    def host_header(self) -> str:
        """The ``Host`` field: the port only when it is not the scheme's default."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.secure else 80
        return host if self.port == default else f"{host}:{self.port}"


def parse_uri(uri: str) -> WebSocketURI:
    """Take a ws:// or wss:// URI apart (RFC 6455 section 3); ``ValueError`` for anything else."""
    parts = urlsplit(uri)
    if parts.scheme not in ("ws", "wss"):
        raise ValueError(f"{uri!r} is not a ws:// or wss:// URI")
    # Section 3: "Fragment identifiers are meaningless in the context of
    # WebSocket URIs and MUST NOT be used on these URIs."
    if "#" in uri:
        raise ValueError(f"{uri!r} has a fragment, which a WebSocket URI must not have")
    if not parts.hostname:
        raise ValueError(f"{uri!r} names no host")
    if parts.username is not None or parts.password is not None:
        raise ValueError(f"{uri!r} carries user information, which wsframe does not send")
    secure = parts.scheme == "wss"
    port = parts.port if parts.port is not None else (443 if secure else 80)
    resource_name = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return WebSocketURI(secure, parts.hostname, port, resource_name)


def client_request(
    uri: WebSocketURI,
    *,
    origin: Optional[str] = None,
    subprotocols: Sequence[str] = (),
    extensions: Optional[str] = None,
    headers: Sequence[Field] = (),
) -> Tuple[bytes, str]:
    """The client's upgrade request (RFC 6455 section 4.1) and the key it carries.

    The key is 16 fresh bytes from the operating system's CSPRNG: the
    section requires a nonce "selected randomly for each connection".
    ``extensions`` is a ``Sec-WebSocket-Extensions`` offer (e.g.
    :func:`~wsframe.deflate_offer`'s), ``headers`` any more fields to send.
    """
    for subprotocol in subprotocols:
        if _TOKEN_TEXT.fullmatch(subprotocol) is None:
            raise ValueError(f"subprotocol {subprotocol!r} is not a token (RFC 6455 section 4.1)")
    key = base64.b64encode(os.urandom(16)).decode("ascii")
    lines = [
        f"GET {uri.resource_name} HTTP/1.1",
        f"Host: {uri.host_header}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {key}",
        f"Sec-WebSocket-Version: {WEBSOCKET_VERSION}",
    ]
    if origin is not None:
        lines.append(f"Origin: {origin}")
    if subprotocols:
        lines.append(f"Sec-WebSocket-Protocol: {', '.join(subprotocols)}")
    if extensions:
        lines.append(f"Sec-WebSocket-Extensions: {extensions}")
    lines += [f"{name}: {value}" for name, value in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"), key


def parse_response(head: bytes) -> Response:
    """Parse a response head: the bytes up to and including the empty line.

    Raises :class:`InvalidResponse` for one that is not HTTP/1.1.
    """
    parsed = _parse_head(head, InvalidResponse, "response")
    match = _STATUS_LINE.fullmatch(parsed.start_line)
    if match is None:
        raise InvalidResponse(f"malformed status line {parsed.start_line[:40]!r}")
    major, minor, status, reason = match.groups()
    if (int(major), int(minor)) < (1, 1):
        raise InvalidResponse("the server answered with HTTP before 1.1")
    return Response(int(status), (reason or b"").decode("latin-1"), parsed.headers, parsed.fields)


def check_response(response: Response, key: str, *, subprotocols: Sequence[str] = ()) -> Optional[str]:
    """Check the server's answer to a request that sent ``key`` and offered
    ``subprotocols`` (RFC 6455 section 4.1, the client's last steps);
    return the subprotocol the server selected, or ``None``.

    Raises :class:`InvalidResponse` for anything but a 101 with
    ``Upgrade: websocket``, ``Connection: Upgrade``, the right
    ``Sec-WebSocket-Accept`` and at most one subprotocol, one that was
    offered. (The extensions are the caller's to check against its offer:
    :func:`~wsframe.accept_deflate_response` does for permessage-deflate.)
    """
    if response.status != 101:
        raise InvalidResponse(f"the server answered {response.status} {response.reason}".rstrip()
                              + ", not 101 Switching Protocols", response)
    if "websocket" not in _tokens(response.header("upgrade")):
        raise InvalidResponse("the response's Upgrade header is not websocket", response)
    if "upgrade" not in _tokens(response.header("connection")):
        raise InvalidResponse("the response's Connection header does not include Upgrade", response)
    accepts = response.headers.get("sec-websocket-accept", [])
    if len(accepts) != 1 or accepts[0] != accept_key(key):
        raise InvalidResponse("the response's Sec-WebSocket-Accept does not match the request's key", response)
    selected = _list(response.headers.get("sec-websocket-protocol", []))
    if not selected:
        return None
    if len(selected) > 1:
        raise InvalidResponse(f"the server selected more than one subprotocol: {', '.join(selected)}", response)
    if selected[0] not in subprotocols:
        raise InvalidResponse(f"the server selected subprotocol {selected[0]!r}, which the client did not offer",
                              response)
    return selected[0]
