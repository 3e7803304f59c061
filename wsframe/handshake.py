"""The opening handshake (RFC 6455 section 4) as functions, for servers and
clients that parse HTTP themselves; :class:`wsframe.ServerConnection` and
:class:`wsframe.ClientConnection` run it for everyone else.

Server side: :func:`parse_request`, :func:`check_request`,
:func:`select_subprotocol`, :func:`accept_response` or
:func:`http_response`. Client side: :func:`parse_uri`,
:func:`client_request`, :func:`parse_response`, :func:`check_response`.
"""

from ._handshake import (
    MAX_HEAD_SIZE,
    HandshakeError,
    InvalidRequest,
    InvalidResponse,
    Request,
    Response,
    WebSocketURI,
    accept_key,
    accept_response,
    check_request,
    check_response,
    client_request,
    http_response,
    offered_subprotocols,
    parse_request,
    parse_response,
    parse_uri,
    select_subprotocol,
)

__all__ = [
    "MAX_HEAD_SIZE",
    "HandshakeError",
    "InvalidRequest",
    "InvalidResponse",
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
