"""Hostile streams: each ends in messages or a clear error, with memory bounded
by the limits and the data that actually arrived, never by what a peer claims.

The long variants carry the ``slow`` marker: ``pytest -m slow``.
"""

from __future__ import annotations

import pytest
from helpers import frame, peak_memory, trickle

from wsframe import (
    BinaryMessage,
    Close,
    CloseCode,
    InvalidUTF8,
    Opcode,
    PayloadTooBig,
    Ping,
    ProtocolError,
    TextMessage,
)

TEXT, BINARY, CONT = Opcode.TEXT, Opcode.BINARY, Opcode.CONTINUATION
MASKED_LARGEST = bytes([0x82, 0xFF]) + (2**63 - 1).to_bytes(8, "big") + b"\x37\xfa\x21\x3d"


def test_header_claiming_the_largest_length_is_refused_by_the_default_limit(codec):
    with pytest.raises(PayloadTooBig) as info:
        codec.MessageDecoder().feed(MASKED_LARGEST)
    assert info.value.close_code == CloseCode.MESSAGE_TOO_BIG


def test_header_claiming_the_largest_length_allocates_nothing_without_limits(codec):
    decoder = codec.MessageDecoder(max_frame_size=None, max_message_size=None)
    events, peak = peak_memory(lambda: decoder.feed(MASKED_LARGEST + bytes(4096)))
    assert events == []
    assert peak < 64 << 10, peak


def test_message_in_100_000_one_byte_fragments(codec):
    count = 100_000
    stream = (frame(TEXT, b"a", fin=False) + frame(CONT, b"b", fin=False) * (count - 2) + frame(CONT, b"c"))
    decoder = codec.MessageDecoder()
    chunks = [stream[i : i + 65536] for i in range(0, len(stream), 65536)]
    events, peak = peak_memory(lambda: [event for chunk in chunks for event in decoder.feed(chunk)])
    assert events == [TextMessage("a" + "b" * (count - 2) + "c")]
    # The message is 100 KB; the 700 KB stream was built before measuring.
    assert peak < 2 << 20, peak


def test_10_000_pings_inside_a_fragmented_message(codec):
    stream = frame(BINARY, b"start ", fin=False)
    for index in range(10_000):
        stream += frame(Opcode.PING, index.to_bytes(2, "big")) + frame(CONT, b"x", fin=False)
    stream += frame(CONT, b" end")
    decoder = codec.MessageDecoder()
    events = []
    for offset in range(0, len(stream), 4096):
        events += decoder.feed(stream[offset : offset + 4096])
    assert events[:10_000] == [Ping(index.to_bytes(2, "big")) for index in range(10_000)]
    assert events[10_000:] == [BinaryMessage(b"start " + b"x" * 10_000 + b" end")]


def _invalid_at_the_last_byte(codec, size: int) -> None:
    payload = b"a" * (size - 1) + b"\xff"
    stream = frame(TEXT, payload)
    decoder = codec.MessageDecoder(max_frame_size=size, max_message_size=size)
    body, last = stream[:-1], stream[-1:]

    def feed_all_but_the_last_byte():
        return [event for offset in range(0, len(body), 65536) for event in decoder.feed(body[offset : offset + 65536])]

    events, peak = peak_memory(feed_all_but_the_last_byte)
    assert events == []  # everything before the bad byte is valid, so nothing fails yet
    with pytest.raises(InvalidUTF8) as info:
        decoder.feed(last)
    assert info.value.close_code == CloseCode.INVALID_FRAME_PAYLOAD_DATA
    # The payload that arrived is held (as bytes, or as text decoded so far),
    # within a small multiple of it.
    assert peak < 3 * size, peak


def test_text_invalid_at_its_last_byte_after_8_mib(codec):
    _invalid_at_the_last_byte(codec, 8 << 20)


@pytest.mark.slow
def test_text_invalid_at_its_last_byte_after_64_mib(codec):
    _invalid_at_the_last_byte(codec, 64 << 20)


@pytest.mark.slow
def test_16_mib_frame_trickled_one_byte_per_feed(codec):
    size = 16 << 20
    stream = frame(BINARY, bytes(size))
    decoder = codec.MessageDecoder(max_frame_size=size, max_message_size=size)
    events, peak = peak_memory(lambda: trickle(decoder, stream))
    assert [len(event.data) for event in events] == [size]
    assert peak < 3 * size, peak


def test_close_reason_of_123_bytes_of_multi_byte_characters(codec):
    reason = "😀" * 30 + "€"  # 120 + 3 = 123 bytes, the most a close frame holds
    assert len(reason.encode()) == 123
    assert codec.MessageDecoder().feed(frame(Opcode.CLOSE, b"\x03\xe8" + reason.encode())) == [Close(1000, reason)]
    # One byte more does not fit in a control frame at all.
    with pytest.raises(ProtocolError, match="over 125 bytes"):
        codec.MessageDecoder().feed(frame(Opcode.CLOSE, b"\x03\xe8" + ("😀" * 31).encode()))


def test_open_text_message_fed_empty_continuations_holds_nothing_per_frame(codec):
    # An attacker keeps a text message open and sends empty fragments for
    # ever: under any message limit, memory must not grow with their count.
    decoder = codec.MessageDecoder()
    assert decoder.feed(frame(TEXT, b"a", fin=False)) == []
    empties = frame(CONT, b"", fin=False) * 10_000

    def feed_200_000_empty_continuations():
        return [event for _ in range(20) for event in decoder.feed(empties)]

    events, peak = peak_memory(feed_200_000_empty_continuations)
    assert events == []
    # A piece kept per fragment, even an empty str, is 8 bytes of list each: 1.6 MB.
    assert peak < 256 << 10, peak
    assert decoder.feed(frame(CONT, b"b")) == [TextMessage("ab")]


def test_text_in_3_byte_fragments_holds_about_its_size(codec):
    # Multi-byte characters cut across fragments, as 3-byte fragments do.
    text = ("aé€😀" * 30_000)[:100_000]
    encoded = text.encode()
    pieces = [encoded[start : start + 3] for start in range(0, len(encoded), 3)]
    stream = b"".join(frame(CONT if index else TEXT, piece, fin=False) for index, piece in enumerate(pieces))
    chunks = [stream[start : start + 65536] for start in range(0, len(stream), 65536)]
    decoder = codec.MessageDecoder()

    def feed_every_fragment():
        return [event for chunk in chunks for event in decoder.feed(chunk)]

    events, peak = peak_memory(feed_every_fragment)
    assert events == []
    # What is held grows with the message (its bytes, or its text decoded in
    # long pieces: 1.8 times its UTF-8 here, as most of it is 4-byte wide
    # str); a decoded str per fragment held over 20 times its size.
    assert peak < 2 * len(encoded), (peak, len(encoded))
    assert decoder.feed(frame(CONT, b"")) == [TextMessage(text)]
