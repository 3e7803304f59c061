"""The opening handshake (RFC 6455 section 4) as functions, both sides, without sockets."""

from __future__ import annotations

import base64
from typing import Optional

import pytest

from wsframe import handshake
from wsframe.handshake import MAX_HEADER_FIELDS
from wsframe.handshake import InvalidRequest, InvalidResponse, accept_key, accept_response, check_request, parse_request

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


def accept(request: handshake.Request, origins: Optional[list] = None, extra_headers: tuple = ()) -> bytes:
    return accept_response(check_request(request, origins=origins), extra_headers)


def refusal(head: bytes, origins: Optional[list] = None) -> InvalidRequest:
    with pytest.raises(InvalidRequest) as excinfo:
        accept(parse_request(head), origins=origins)
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
    assert accept(parse_request(request(*VALID)), origins=["http://example.com"]).startswith(b"HTTP/1.1 101 ")
    assert refusal(request(*VALID), origins=["https://other.example"]).status == 403
    no_origin = [field for field in VALID if not field.startswith("Origin")]
    assert refusal(request(*no_origin), origins=["http://example.com"]).status == 403
    # None in the list admits clients that send no Origin (most non-browser clients).
    assert accept(parse_request(request(*no_origin)), origins=[None]).startswith(b"HTTP/1.1 101 ")



def test_refusals_are_complete_http_responses() -> None:
    error = refusal(request(*VALID, request_line="POST /chat HTTP/1.1"))
    head, _, body = error.response.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 405 Method Not Allowed\r\n")
    assert b"\r\nAllow: GET\r\n" in head and b"\r\nDate: " in head
    assert body == b"a WebSocket handshake is a GET request\n"


def test_request_exposes_path_query_origin_and_subprotocols() -> None:
    parsed = parse_request(request(*VALID, "Sec-WebSocket-Protocol: chat, superchat",
                                   "Sec-WebSocket-Protocol: v3", request_line="GET /chat?room=1 HTTP/1.1"))
    assert (parsed.path, parsed.query, parsed.origin) == ("/chat", "room=1", "http://example.com")
    assert parsed.subprotocols == ["chat", "superchat", "v3"]


@pytest.mark.parametrize("offered, supported, selected", [
    (["chat", "superchat"], ["superchat", "chat"], "superchat"),  # the server's preference wins
    (["chat"], ["v2"], None),  # no match: no subprotocol, which section 4.2.2 allows
    ([], ["chat"], None),
])
def test_select_subprotocol(offered: list, supported: list, selected: Optional[str]) -> None:
    assert handshake.select_subprotocol(offered, supported) == selected


# The client side (RFC 6455 sections 3 and 4.1) ----------------------------------


@pytest.mark.parametrize("uri, expected, host_header", [
    ("ws://example.com/chat", (False, "example.com", 80, "/chat"), "example.com"),
    ("wss://example.com", (True, "example.com", 443, "/"), "example.com"),
    ("ws://example.com:8080/a/b?x=1&y=2", (False, "example.com", 8080, "/a/b?x=1&y=2"), "example.com:8080"),
    ("wss://example.com:443/", (True, "example.com", 443, "/"), "example.com"),
    ("ws://[::1]:9001/", (False, "::1", 9001, "/"), "[::1]:9001"),
])
def test_uris_are_taken_apart_as_section_3_says(uri: str, expected: tuple, host_header: str) -> None:
    parsed = handshake.parse_uri(uri)
    assert tuple(parsed) == expected and parsed.host_header == host_header


@pytest.mark.parametrize("uri, complaint", [
    ("http://example.com/", "not a ws:// or wss:// URI"),
    ("ws://example.com/#frag", "fragment"),
    ("ws:///path", "names no host"),
    ("ws://user:secret@example.com/", "user information"),
])
def test_uris_that_are_not_websocket_uris_are_refused(uri: str, complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint):
        handshake.parse_uri(uri)


def test_client_request_has_every_field_section_4_1_requires() -> None:
    uri = handshake.parse_uri("ws://example.com:8080/chat?x=1")
    head, key = handshake.client_request(uri, origin="http://example.com", subprotocols=["chat", "v2"],
                                         extensions="permessage-deflate", headers=[("X-Token", "t")])
    lines = head.decode().split("\r\n")
    assert lines[0] == "GET /chat?x=1 HTTP/1.1" and head.endswith(b"\r\n\r\n")
    assert {"Host: example.com:8080", "Upgrade: websocket", "Connection: Upgrade", f"Sec-WebSocket-Key: {key}",
            "Sec-WebSocket-Version: 13", "Origin: http://example.com", "Sec-WebSocket-Protocol: chat, v2",
            "Sec-WebSocket-Extensions: permessage-deflate", "X-Token: t"} <= set(lines)
    # The server side accepts it as it is.
    assert check_request(parse_request(head)) == key


def test_client_keys_are_fresh_random_16_byte_nonces() -> None:
    uri = handshake.parse_uri("ws://example.com/")
    keys = {handshake.client_request(uri)[1] for _ in range(100)}
    assert len(keys) == 100
    assert all(len(base64.b64decode(key, validate=True)) == 16 for key in keys)


def test_a_subprotocol_that_is_not_a_token_is_refused() -> None:
    with pytest.raises(ValueError, match="not a token"):
        handshake.client_request(handshake.parse_uri("ws://example.com/"), subprotocols=["two words"])


def response(*fields: str, status_line: str = "HTTP/1.1 101 Switching Protocols") -> bytes:
    return ("\r\n".join((status_line,) + fields) + "\r\n\r\n").encode("latin-1")


GOOD_RESPONSE = ("Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")


def test_the_rfc_example_response_is_accepted() -> None:
    assert handshake.check_response(handshake.parse_response(response(*GOOD_RESPONSE)), KEY) is None
    with_protocol = response(*GOOD_RESPONSE, "Sec-WebSocket-Protocol: chat")
    assert handshake.check_response(handshake.parse_response(with_protocol), KEY, subprotocols=["x", "chat"]) == "chat"


@pytest.mark.parametrize("head, complaint", [
    (response(*GOOD_RESPONSE, status_line="HTTP/1.1 403 Forbidden"), "answered 403 Forbidden, not 101"),
    (response(*GOOD_RESPONSE, status_line="HTTP/1.1 200 OK"), "answered 200 OK"),
    (response(*GOOD_RESPONSE[1:]), "Upgrade header is not websocket"),
    (response("Upgrade: h2c", *GOOD_RESPONSE[1:]), "Upgrade header is not websocket"),
    (response(GOOD_RESPONSE[0], GOOD_RESPONSE[2]), "Connection header does not include Upgrade"),
    (response(*GOOD_RESPONSE[:2]), "Sec-WebSocket-Accept does not match"),
    (response(*GOOD_RESPONSE[:2], "Sec-WebSocket-Accept: dGhlIHNhbXBsZSBub25jZQ=="), "does not match"),
    (response(*GOOD_RESPONSE, GOOD_RESPONSE[2]), "does not match"),
    (response(*GOOD_RESPONSE, "Sec-WebSocket-Protocol: chat"), "'chat', which the client did not offer"),
    (response(*GOOD_RESPONSE, "Sec-WebSocket-Protocol: a, b"), "more than one subprotocol"),
])
def test_responses_that_do_not_complete_the_handshake_fail_it(head: bytes, complaint: str) -> None:
    with pytest.raises(InvalidResponse, match=complaint) as failure:
        handshake.check_response(handshake.parse_response(head), KEY, subprotocols=["a", "b"])
    assert failure.value.response is not None


@pytest.mark.parametrize("head, complaint", [
    (response(*GOOD_RESPONSE, status_line="HTTP/1.0 101 Switching Protocols"), "HTTP before 1.1"),
    (response(*GOOD_RESPONSE, status_line="ICY 200 OK"), "malformed status line"),
    (response(*GOOD_RESPONSE)[:-2], "does not end with an empty line"),
    (response(*GOOD_RESPONSE, "X-Big: " + "v" * 9000), "over 8192 bytes"),
])
def test_malformed_responses_are_refused(head: bytes, complaint: str) -> None:
    with pytest.raises(InvalidResponse, match=complaint):
        handshake.parse_response(head)
