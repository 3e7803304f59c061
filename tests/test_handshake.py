"""The server's opening handshake (RFC 6455 section 4.2), without sockets."""

from __future__ import annotations

from typing import Optional

import pytest

from wsframe._handshake import MAX_HEADER_FIELDS, HandshakeError, accept, accept_key, parse_request

KEY = "dGhlIHNhbXBsZSBub25jZQ=="  # RFC 6455 section 1.3


def request(*fields: str, request_line: str = "GET /chat HTTP/1.1") -> bytes:
    return ("\r\n".join((request_line,) + fields) + "\r\n\r\n").encode("latin-1")


VALID = (
    "Host: server.example.com",
    "Upgrade: websocket",
    "Connection: Upgrade",
    f"Sec-WebSocket-Key: {KEY}",
    "Origin: http://example.com",
    "Sec-WebSocket-Version: 13",
)


def refusal(head: bytes, allowed_origins: Optional[list] = None) -> HandshakeError:
    with pytest.raises(HandshakeError) as excinfo:
        accept(parse_request(head), allowed_origins=allowed_origins)
    response = excinfo.value.response
    body = response.split(b"\r\n\r\n", 1)[1]
    assert f"Content-Length: {len(body)}".encode() in response
    assert b"Connection: close" in response
    return excinfo.value


def test_accept_key_matches_rfc_example() -> None:
    assert accept_key(KEY) == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


def test_rfc_example_request_is_upgraded() -> None:
    response = accept(parse_request(request(*VALID)))
    assert response == (
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"
    )


def test_header_names_and_tokens_are_case_insensitive() -> None:
    head = request(
        "HOST: a", "upgrade: WebSocket", "connection: keep-alive,  UPGRADE", f"sec-websocket-key: {KEY}", "SEC-WEBSOCKET-VERSION: 13"
    )
    assert accept(parse_request(head)).startswith(b"HTTP/1.1 101 ")


def test_repeated_fields_are_combined() -> None:
    parsed = parse_request(request("Connection: keep-alive", "Connection: Upgrade"))
    assert parsed.header("connection") == "keep-alive, Upgrade"


def test_extension_header_goes_into_the_response() -> None:
    response = accept(parse_request(request(*VALID)), extra_headers=(("Sec-WebSocket-Extensions", "x"),))
    assert response.endswith(b"Sec-WebSocket-Extensions: x\r\n\r\n")


@pytest.mark.parametrize(
    "head, status",
    [
        (request(*VALID, request_line="GET /chat HTTP/1.0"), 505),
        (request(*VALID, request_line="GET /chat"), 400),
        (request(*VALID, request_line="POST /chat HTTP/1.1"), 405),
        (request(*VALID, " folded: continuation"), 400),
        (request(*VALID, "Bad Name: x"), 400),
        (request(*VALID, "X-Control: a\x01b"), 400),
        (request(*VALID, *(f"X-{n}: v" for n in range(MAX_HEADER_FIELDS))), 431),
        (request(*VALID, "X-Big: " + "v" * 9000), 431),
        (request(*VALID)[:-2], 400),
    ],
    ids=["http-1.0", "no-version", "post", "obs-fold", "space-in-name", "control-char", "too-many-fields", "too-long", "no-empty-line"],
)
def test_malformed_requests_are_refused(head: bytes, status: int) -> None:
    assert refusal(head).status == status


@pytest.mark.parametrize(
    "drop, replace, status",
    [
        ("Host", None, 400),
        ("Upgrade", "Upgrade: h2c", 426),
        ("Connection", "Connection: keep-alive", 400),
        ("Sec-WebSocket-Key", None, 400),
        ("Sec-WebSocket-Key", "Sec-WebSocket-Key: not base64!", 400),
        ("Sec-WebSocket-Key", "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAAAAAAAA", 400),  # 21 bytes
        ("Sec-WebSocket-Key", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ\xbd=", 400),  # found by fuzz/fuzz_handshake.py
        ("Sec-WebSocket-Version", "Sec-WebSocket-Version: 8", 426),
        ("Sec-WebSocket-Version", None, 426),
    ],
)
def test_requests_that_are_not_websocket_upgrades_are_refused(drop: str, replace: Optional[str], status: int) -> None:
    fields = [field for field in VALID if not field.startswith(drop + ":")]
    if replace is not None:
        fields.append(replace)
    error = refusal(request(*fields))
    assert error.status == status
    if drop == "Sec-WebSocket-Version":
        # Section 4.4: the refusal names the version the server speaks.
        assert b"Sec-WebSocket-Version: 13\r\n" in error.response


def test_two_keys_are_refused() -> None:
    assert refusal(request(*VALID, f"Sec-WebSocket-Key: {KEY}")).status == 400


def test_origin_allow_list() -> None:
    assert accept(parse_request(request(*VALID)), allowed_origins=["http://example.com"]).startswith(b"HTTP/1.1 101 ")
    assert refusal(request(*VALID), allowed_origins=["https://other.example"]).status == 403
    no_origin = [field for field in VALID if not field.startswith("Origin")]
    assert refusal(request(*no_origin), allowed_origins=["http://example.com"]).status == 403
