"""The server side of the opening handshake (RFC 6455 section 4.2), sans-I/O.

:func:`accept` reads a client's HTTP/1.1 upgrade request and returns the
``101 Switching Protocols`` response, or raises :class:`HandshakeError`
carrying the HTTP error response to send instead; :func:`check` and
:func:`switching_protocols` are its two halves, for a server (the uvicorn
protocol) that answers only once its application accepts. The reference
echo server and the uvicorn protocol use it; wsframe's public API is the
frame codec.
"""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Collection, Dict, List, NamedTuple, Optional, Tuple

from ._rfc6455 import WEBSOCKET_GUID, WEBSOCKET_VERSION

__all__ = ["HandshakeError", "Request", "accept", "accept_key", "check", "parse_request", "switching_protocols"]


#: A request line and its header fields may not exceed this (a peer that
#: sends more gets 431 before it can make the server buffer more).
MAX_REQUEST_SIZE = 8192
MAX_HEADER_FIELDS = 64

# RFC 9110 section 5.6.2: a token, the syntax of a field name.
_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_REQUEST_LINE = re.compile(rb"([!#$%&'*+\-.^_`|~0-9A-Za-z]+) (\S+) HTTP/(\d)\.(\d)")


class HandshakeError(Exception):
    """The request cannot be upgraded; ``response`` is the HTTP answer to send."""

    def __init__(self, status: int, reason: str, detail: str, headers: Tuple[Tuple[str, str], ...] = ()) -> None:
        super().__init__(f"{status} {reason}: {detail}")
        self.status = status
        self.detail = detail
        body = (detail + "\n").encode("utf-8")
        lines = [f"HTTP/1.1 {status} {reason}"]
        lines += [f"{name}: {value}" for name, value in headers]
        lines += ["Content-Type: text/plain; charset=utf-8", f"Content-Length: {len(body)}", "Connection: close"]
        self.response = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class Request(NamedTuple):
    """An HTTP request head: method, target and header fields.

    ``headers`` maps lower-cased names to their values; ``fields`` keeps the
    fields as they came, in order, names as sent (an ASGI scope wants them).
    """

    method: str
    target: str
    headers: Dict[str, List[str]]
    fields: Tuple[Tuple[str, str], ...] = ()

    def header(self, name: str) -> Optional[str]:
        """The field's value, the values of a repeated field joined by commas."""
        values = self.headers.get(name)
        return None if values is None else ", ".join(values)


def _bad_request(detail: str) -> HandshakeError:
    return HandshakeError(400, "Bad Request", detail)


def parse_request(head: bytes) -> Request:
    """Parse a request head: the bytes up to and including the empty line."""
    if len(head) > MAX_REQUEST_SIZE:
        raise HandshakeError(431, "Request Header Fields Too Large", f"request head over {MAX_REQUEST_SIZE} bytes")
    if not head.endswith(b"\r\n\r\n"):
        raise _bad_request("request head does not end with an empty line")
    request_line, *field_lines = head[:-4].split(b"\r\n")
    match = _REQUEST_LINE.fullmatch(request_line)
    if match is None:
        raise _bad_request("malformed request line")
    method, target, major, minor = match.groups()
    # Section 4.1: "The method of the request MUST be GET, and the HTTP
    # version MUST be at least 1.1."
    if (int(major), int(minor)) < (1, 1):
        raise HandshakeError(505, "HTTP Version Not Supported", "WebSocket needs HTTP/1.1 or later")
    if len(field_lines) > MAX_HEADER_FIELDS:
        raise HandshakeError(431, "Request Header Fields Too Large", f"more than {MAX_HEADER_FIELDS} header fields")
    headers: Dict[str, List[str]] = {}
    fields: List[Tuple[str, str]] = []
    for line in field_lines:
        name, colon, value = line.partition(b":")
        if not colon or _TOKEN.fullmatch(name) is None:
            # Also refuses obsolete line folding (RFC 9112 section 5.2).
            raise _bad_request(f"malformed header field {line[:40]!r}")
        text = value.strip(b" \t").decode("latin-1")
        if any(ord(c) < 0x20 and c != "\t" or c == "\x7f" for c in text):
            raise _bad_request(f"control character in header field {name.decode('ascii')}")
        headers.setdefault(name.decode("ascii").lower(), []).append(text)
        fields.append((name.decode("ascii"), text))
    return Request(method.decode("ascii"), target.decode("latin-1"), headers, tuple(fields))


def _tokens(value: Optional[str]) -> List[str]:
    return [token.strip().lower() for token in (value or "").split(",")]


def accept_key(key: str) -> str:
    """``Sec-WebSocket-Accept`` for a ``Sec-WebSocket-Key`` (RFC 6455 section 4.2.2)."""
    digest = hashlib.sha1((key + WEBSOCKET_GUID).encode("ascii")).digest()
    return base64.b64encode(digest).decode("ascii")


def check(request: Request, *, allowed_origins: Optional[Collection[str]] = None) -> str:
    """Check an upgrade request (RFC 6455 section 4.2.1); return its ``Sec-WebSocket-Key``.

    ``allowed_origins``, when given, lists the ``Origin`` values accepted
    (browsers send one; other clients usually do not and are refused too).
    Raises :class:`HandshakeError` with the HTTP answer for a request that
    cannot be upgraded.
    """
    if request.method != "GET":
        raise HandshakeError(405, "Method Not Allowed", "a WebSocket handshake is a GET request", (("Allow", "GET"),))
    if request.header("host") is None:
        raise _bad_request("missing Host header")
    if "websocket" not in _tokens(request.header("upgrade")):
        raise HandshakeError(
            426,
            "Upgrade Required",
            "this is a WebSocket endpoint: send Upgrade: websocket",
            (("Upgrade", "websocket"), ("Sec-WebSocket-Version", "13")),
        )
    if "upgrade" not in _tokens(request.header("connection")):
        raise _bad_request("the Connection header must include Upgrade")
    keys = request.headers.get("sec-websocket-key", [])
    if not keys:
        raise _bad_request("missing Sec-WebSocket-Key header")
    if len(keys) > 1:
        raise _bad_request("more than one Sec-WebSocket-Key header")
    try:
        nonce = base64.b64decode(keys[0], validate=True)
    except ValueError:  # binascii.Error, or a non-ASCII character
        nonce = b""
    if len(nonce) != 16:
        raise _bad_request("Sec-WebSocket-Key must be 16 bytes in base64")
    # Section 4.4: a server that does not speak the requested version
    # answers with the versions it does speak.
    if request.header("sec-websocket-version") != WEBSOCKET_VERSION:
        raise HandshakeError(
            426, "Upgrade Required", "only WebSocket version 13 is supported", (("Sec-WebSocket-Version", "13"),)
        )
    if allowed_origins is not None and request.header("origin") not in allowed_origins:
        raise HandshakeError(403, "Forbidden", f"origin {request.header('origin')!r} is not allowed")
    return keys[0]


def switching_protocols(key: str, extra_headers: Tuple[Tuple[str, str], ...] = ()) -> bytes:
    """The ``101 Switching Protocols`` response for a checked request's key,
    with ``extra_headers`` (a negotiated extension, a subprotocol...)."""
    lines = [
        "HTTP/1.1 101 Switching Protocols",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Accept: {accept_key(key)}",
    ]
    lines += [f"{name}: {value}" for name, value in extra_headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def accept(
    request: Request,
    *,
    allowed_origins: Optional[Collection[str]] = None,
    extra_headers: Tuple[Tuple[str, str], ...] = (),
) -> bytes:
    """:func:`check` the request and return its 101 response with ``extra_headers``."""
    return switching_protocols(check(request, allowed_origins=allowed_origins), extra_headers)
