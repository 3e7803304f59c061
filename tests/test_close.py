"""close_payload: what to send in a close frame (RFC 6455 sections 5.5.1 and 7.4)."""

from __future__ import annotations

import pytest
from helpers import frame
from hypothesis import given
from hypothesis import strategies as st

from wsframe import Close, CloseCode, Opcode, close_payload


def test_code_and_reason():
    assert close_payload(1000, "bye") == b"\x03\xe8bye"
    assert close_payload(CloseCode.GOING_AWAY) == b"\x03\xe9"


def test_no_code_is_an_empty_payload():
    assert close_payload() == b""
    with pytest.raises(ValueError, match="needs a close code"):
        close_payload(None, "reason")


@pytest.mark.parametrize("code", [999, 1004, 1005, 1006, 1015, 1016, 2999, 5000])
def test_codes_a_peer_may_not_send_are_refused(code):
    with pytest.raises(ValueError, match=f"close code {code} may not be sent"):
        close_payload(code)


@pytest.mark.parametrize(
    ("reason", "kept_bytes"),
    [("a" * 200, 123), ("é" * 100, 122), ("a" + "😀" * 40, 121), ("😀" * 31, 120), ("€" * 41, 123)],
)
def test_long_reasons_are_cut_to_123_bytes_between_characters(reason, kept_bytes):
    payload = close_payload(1000, reason)
    assert len(payload) - 2 == kept_bytes
    assert reason.startswith(payload[2:].decode("utf-8"))


@given(st.text(max_size=200), st.sampled_from([1000, 1001, 1011, 3000, 4999]))
def test_every_payload_fits_and_decodes_back(codec, reason, code):
    payload = close_payload(code, reason)
    assert len(payload) <= 125
    events = codec.MessageDecoder().feed(frame(Opcode.CLOSE, payload))
    assert events[0].code == code and reason.startswith(events[0].reason)
    assert events == [Close(code, events[0].reason)]


def test_close_frame_through_encode_frame(codec):
    encoded = codec.encode_frame(Opcode.CLOSE, close_payload(1001, "going away"), mask=True)
    assert codec.MessageDecoder().feed(encoded) == [Close(1001, "going away")]
