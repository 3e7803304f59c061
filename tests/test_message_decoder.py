"""MessageDecoder: reassembly, control frames, limits, UTF-8 and close frames (RFC 6455 5.4-5.6, 7, 8)."""

from __future__ import annotations

import os

import pytest
from helpers import feed_in_pieces, feed_until_error, frame, peak_memory, splits, trickle, viable_utf8_prefix
from hypothesis import given
from hypothesis import strategies as st

from wsframe import (
    BinaryMessage,
    Close,
    CloseCode,
    InvalidUTF8,
    Opcode,
    PayloadTooBig,
    Ping,
    Pong,
    ProtocolError,
    Role,
    TextMessage,
)

TEXT, BINARY, CONT = Opcode.TEXT, Opcode.BINARY, Opcode.CONTINUATION


def expect_error(decoder, data, error_type, close_code, match):
    with pytest.raises(error_type, match=match) as info:
        decoder.feed(data)
    assert info.value.close_code == close_code
    assert len(info.value.reason.encode()) <= 123
    return info.value


class TestReassembly:
    def test_single_frame_messages(self, codec):
        stream = frame(TEXT, "héllo wörld".encode()) + frame(BINARY, b"\x00\xff")
        assert codec.MessageDecoder().feed(stream) == [TextMessage("héllo wörld"), BinaryMessage(b"\x00\xff")]

    def test_fragmented_messages_with_control_frames_between_fragments(self, codec):
        decoder = codec.MessageDecoder()
        assert decoder.feed(frame(TEXT, b"frag", fin=False)) == []
        # A ping between fragments is delivered at once, before the message ends.
        assert decoder.feed(frame(Opcode.PING, b"are you there")) == [Ping(b"are you there")]
        assert decoder.feed(frame(CONT, b"men", fin=False) + frame(Opcode.PONG, b"")) == [Pong(b"")]
        assert decoder.feed(frame(CONT, b"ted")) == [TextMessage("fragmented")]

    def test_empty_messages_and_fragments(self, codec):
        stream = (frame(TEXT, b"") + frame(BINARY, b"", fin=False) + frame(CONT, b"", fin=False)
                  + frame(CONT, b"x") + frame(TEXT, b"", fin=False) + frame(CONT, b""))
        assert codec.MessageDecoder().feed(stream) == [
            TextMessage(""), BinaryMessage(b"x"), TextMessage("")]

    def test_binary_after_empty_first_fragment_stays_binary(self, codec):
        stream = frame(BINARY, b"", fin=False) + frame(CONT, b"\xff\xfe")
        assert codec.MessageDecoder().feed(stream) == [BinaryMessage(b"\xff\xfe")]

    def test_large_fragmented_message(self, codec):
        payload = os.urandom(300_000)
        stream = b"".join(frame(BINARY if i == 0 else CONT, payload[i : i + 70000], fin=i + 70000 >= len(payload))
                          for i in range(0, len(payload), 70000))
        assert feed_in_pieces(codec.MessageDecoder(), stream, range(0, len(stream), 4096)) == [BinaryMessage(payload)]

    def test_client_reads_unmasked_frames(self, codec):
        stream = frame(TEXT, b"a", fin=False, mask=False) + frame(CONT, b"b", mask=False)
        assert codec.MessageDecoder(Role.CLIENT).feed(stream) == [TextMessage("ab")]

    def test_continuation_without_a_message_is_refused(self, codec):
        expect_error(codec.MessageDecoder(), frame(CONT, b"x"), ProtocolError, 1002, "no fragmented message")

    @pytest.mark.parametrize("opcode", [TEXT, BINARY])
    def test_new_message_while_one_is_open_is_refused(self, codec, opcode):
        decoder = codec.MessageDecoder()
        decoder.feed(frame(TEXT, b"a", fin=False))
        header_only = frame(opcode, b"b")[:6]  # refused before its payload arrives
        expect_error(decoder, header_only, ProtocolError, 1002, "while a fragmented message")


class TestLimits:
    def test_message_limit_applies_across_fragments_from_the_header(self, codec):
        decoder = codec.MessageDecoder(max_message_size=100)
        decoder.feed(frame(BINARY, bytes(60), fin=False))
        header_only = frame(CONT, bytes(41))[:6]
        error = expect_error(decoder, header_only, PayloadTooBig, CloseCode.MESSAGE_TOO_BIG, "message of 101 bytes")
        assert "limit of 100 bytes" in error.reason

    def test_message_at_the_limit_is_accepted(self, codec):
        decoder = codec.MessageDecoder(max_message_size=100)
        stream = frame(BINARY, bytes(60), fin=False) + frame(CONT, bytes(40))
        assert decoder.feed(stream) == [BinaryMessage(bytes(100))]

    def test_frame_limit(self, codec):
        decoder = codec.MessageDecoder(max_frame_size=10, max_message_size=None)
        expect_error(decoder, frame(BINARY, bytes(11)), PayloadTooBig, 1009, "frame payload of 11 bytes")

    def test_no_limits(self, codec):
        decoder = codec.MessageDecoder(max_frame_size=None, max_message_size=None)
        assert decoder.feed(frame(BINARY, bytes(3 << 20))) == [BinaryMessage(bytes(3 << 20))]

    def test_limits_must_not_be_negative(self, codec):
        with pytest.raises(ValueError, match="max_message_size"):
            codec.MessageDecoder(max_message_size=-1)
        with pytest.raises(ValueError, match="max_frame_size"):
            codec.FrameDecoder(max_frame_size=-1)

    def test_claimed_message_allocates_nothing(self, codec):
        decoder = codec.MessageDecoder(max_frame_size=None, max_message_size=None)
        header = bytes([0x82, 0xFF]) + (2**62).to_bytes(8, "big") + b"\x37\xfa\x21\x3d"
        events, peak = peak_memory(lambda: decoder.feed(header + bytes(1000)))
        assert events == []
        assert peak < 64 << 10, peak


class TestClose:
    def test_close_with_code_and_reason(self, codec):
        assert codec.MessageDecoder().feed(frame(Opcode.CLOSE, b"\x03\xe8bye")) == [Close(1000, "bye")]

    def test_empty_close_means_no_status_code(self, codec):
        assert codec.MessageDecoder().feed(frame(Opcode.CLOSE, b"")) == [Close(CloseCode.NO_STATUS_RCVD, "")]

    def test_one_byte_close_payload_is_refused(self, codec):
        expect_error(codec.MessageDecoder(), frame(Opcode.CLOSE, b"\x03"), ProtocolError, 1002, "1 byte")

    @pytest.mark.parametrize("code", [0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 65535])
    def test_codes_a_peer_may_not_send_are_refused(self, codec, code):
        expect_error(codec.MessageDecoder(), frame(Opcode.CLOSE, code.to_bytes(2, "big")), ProtocolError, 1002,
                     f"close code {code} is not one a peer may send")

    @pytest.mark.parametrize("code", [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4999])
    def test_codes_a_peer_may_send_are_accepted(self, codec, code):
        assert codec.MessageDecoder().feed(frame(Opcode.CLOSE, code.to_bytes(2, "big"))) == [Close(code, "")]

    def test_invalid_utf8_reason_is_1007(self, codec):
        expect_error(codec.MessageDecoder(), frame(Opcode.CLOSE, b"\x03\xe8\xff"), InvalidUTF8, 1007, "close reason")

    def test_longest_reason_of_four_byte_characters(self, codec):
        reason = "😀" * 30 + "abc"  # 123 bytes
        assert codec.MessageDecoder().feed(frame(Opcode.CLOSE, b"\x03\xe8" + reason.encode())) == [Close(1000, reason)]



VALID_UTF8 = [
    "",
    "ascii only, longer than eight bytes",
    "é",  # 2 bytes
    "€",  # 3 bytes
    "😀",  # 4 bytes
    "\u0080\u07ff\u0800\ud7ff\ue000\uffff\U00010000\U0010ffff",  # the edges of every range
    "mixed ascii é € 😀 text",
]

INVALID_UTF8 = {
    "stray continuation byte": b"ab\x80cd",
    "overlong 2-byte (C0)": b"\xc0\xaf",
    "overlong 2-byte (C1)": b"\xc1\xbf",
    "overlong 3-byte": b"\xe0\x80\xaf",
    "overlong 4-byte": b"\xf0\x80\x80\xaf",
    "surrogate D800": b"\xed\xa0\x80",
    "surrogate DFFF": b"\xed\xbf\xbf",
    "over U+10FFFF (F4 90)": b"\xf4\x90\x80\x80",
    "lead byte F5": b"\xf5\x80\x80\x80",
    "lead byte FF": b"\xff",
    "truncated 2-byte at the end": b"ok\xc3",
    "truncated 4-byte at the end": b"ok\xf0\x9f\x98",
    "ascii after a lead byte": b"\xe2\x82a",
    "valid text then invalid": "κόσμε".encode() + b"\xed\xa0\x80",
}


def first_impossible_byte(data: bytes) -> int:
    """Index of the byte at which ``data`` stops being a viable UTF-8 prefix, or len(data) if it is
    merely truncated at the end."""
    for end in range(1, len(data) + 1):
        if not viable_utf8_prefix(data[:end]):
            return end - 1
    return len(data)


class TestUtf8:
    @pytest.mark.parametrize("text", VALID_UTF8)
    def test_valid_text_split_at_every_byte_across_fragments(self, codec, text):
        data = text.encode()
        for split in range(len(data) + 1):
            stream = frame(TEXT, data[:split], fin=False) + frame(CONT, data[split:])
            assert codec.MessageDecoder().feed(stream) == [TextMessage(text)], split

    @pytest.mark.parametrize("data", list(INVALID_UTF8.values()), ids=list(INVALID_UTF8))
    def test_invalid_text_split_at_every_byte_across_fragments(self, codec, data):
        for split in range(len(data) + 1):
            stream = frame(TEXT, data[:split], fin=False) + frame(CONT, data[split:])
            expect_error(codec.MessageDecoder(), stream, InvalidUTF8, 1007, "text message is not valid UTF-8")

    @pytest.mark.parametrize("data", list(INVALID_UTF8.values()), ids=list(INVALID_UTF8))
    def test_invalid_text_fails_as_soon_as_the_bad_byte_arrives(self, codec, data):
        # Byte by byte, over three fragments: the feed that raises is the one
        # carrying the first byte no valid UTF-8 could continue with.
        pieces = [data[: len(data) // 3], data[len(data) // 3 : 2 * len(data) // 3], data[2 * len(data) // 3 :]]
        stream = b""
        payload_positions = []  # stream index of each payload byte
        for index, piece in enumerate(pieces):
            encoded = frame(TEXT if index == 0 else CONT, piece, fin=index == 2)
            header_length = len(encoded) - len(piece)
            payload_positions += [len(stream) + header_length + i for i in range(len(piece))]
            stream += encoded
        bad = first_impossible_byte(data)
        expected_feed = payload_positions[bad] if bad < len(data) else len(stream) - 1
        decoder = codec.MessageDecoder()
        for position in range(len(stream)):
            if position == expected_feed:
                expect_error(decoder, stream[position : position + 1], InvalidUTF8, 1007, "not valid UTF-8")
                break
            assert decoder.feed(stream[position : position + 1]) == [], position
        else:
            pytest.fail("no error raised")

    @given(st.text(max_size=40), st.lists(st.integers(0, 200), max_size=6))
    def test_any_text_in_any_fragmentation(self, codec, text, cuts):
        data = text.encode()
        bounds = [0] + sorted(min(c, len(data)) for c in cuts) + [len(data)]
        stream = b"".join(
            frame(TEXT if i == 0 else CONT, data[a:b], fin=i == len(bounds) - 2)
            for i, (a, b) in enumerate(zip(bounds, bounds[1:]))
        )
        assert feed_in_pieces(codec.MessageDecoder(), stream, cuts) == [TextMessage(text)]

    @given(st.binary(max_size=12))
    def test_random_bytes_as_text_match_pythons_verdict(self, codec, data):
        stream = frame(TEXT, data[:3], fin=False) + frame(CONT, data[3:])
        try:
            expected = [TextMessage(data.decode("utf-8"))]
        except UnicodeDecodeError:
            expected = None
        if expected is None:
            with pytest.raises(InvalidUTF8):
                codec.MessageDecoder().feed(stream)
        else:
            assert codec.MessageDecoder().feed(stream) == expected


def test_decoder_stays_failed(codec):
    decoder = codec.MessageDecoder()
    with pytest.raises(InvalidUTF8):
        decoder.feed(frame(TEXT, b"\xff"))
    with pytest.raises(InvalidUTF8):
        decoder.feed(frame(TEXT, b"fine"))


def test_trickled_message_stays_within_a_small_multiple_of_its_size(codec):
    size = 256 << 10
    stream = frame(BINARY, bytes(size // 2), fin=False) + frame(CONT, bytes(size // 2))
    decoder = codec.MessageDecoder()
    events, peak = peak_memory(lambda: trickle(decoder, stream))
    assert events == [BinaryMessage(bytes(size))]
    assert peak < 4 * size, peak


def test_c_builds_a_message_arriving_in_pieces_without_overshooting_its_size(c_codec):
    # Grown by doubling alone, a 1 MiB message fed in 64 KiB pieces ended in a
    # 2 MiB block, and glibc then gave that memory back to the kernel after
    # every message: a fresh process decoded such a stream at 1.2 GB/s, not 13.
    payload = os.urandom(1 << 20)
    stream = frame(BINARY, payload)
    pieces = [stream[i : i + 65536] for i in range(0, len(stream), 65536)]
    decoder = c_codec.MessageDecoder(max_message_size=None)
    events, peak = peak_memory(lambda: [event for piece in pieces for event in decoder.feed(piece)])
    assert events == [BinaryMessage(payload)]
    assert peak < len(payload) + (64 << 10), peak


MIXED_STREAM = (
    frame(TEXT, "première partie, ".encode(), fin=False)
    + frame(Opcode.PING, b"1")
    + frame(CONT, "suite 😀".encode(), fin=False)
    + frame(CONT, " fin".encode())
    + frame(BINARY, os.urandom(70000))
    + frame(Opcode.PONG, b"2")
    + frame(BINARY, b"", fin=False)
    + frame(CONT, b"tail")
    + frame(Opcode.CLOSE, b"\x03\xe8done")
)


def test_mixed_stream_byte_by_byte_gives_the_same_events(codec):
    expected = codec.MessageDecoder().feed(MIXED_STREAM)
    assert [type(e).__name__ for e in expected] == [
        "Ping", "TextMessage", "BinaryMessage", "Pong", "BinaryMessage", "Close"]
    assert expected[1] == TextMessage("première partie, suite 😀 fin")
    assert feed_in_pieces(codec.MessageDecoder(), MIXED_STREAM, range(1, len(MIXED_STREAM))) == expected


@given(cuts=st.lists(st.integers(0, len(MIXED_STREAM)), max_size=40))
def test_mixed_stream_split_anywhere_gives_the_same_events(codec, cuts):
    assert feed_in_pieces(codec.MessageDecoder(), MIXED_STREAM, cuts) == codec.MessageDecoder().feed(MIXED_STREAM)


def test_events_compare_and_hash_alike_in_both_backends(c_codec, py_codec):
    c_events = c_codec.MessageDecoder().feed(MIXED_STREAM)
    py_events = py_codec.MessageDecoder().feed(MIXED_STREAM)
    assert c_events == py_events
    assert [hash(e) for e in c_events] == [hash(e) for e in py_events]
    assert [type(e) for e in c_events] == [type(e) for e in py_events]
    assert {e: i for i, e in enumerate(c_events)} == {e: i for i, e in enumerate(py_events)}


def test_c_events_stay_out_of_the_cyclic_gc(c_codec):
    import gc

    events = c_codec.MessageDecoder().feed(MIXED_STREAM)
    frames = c_codec.FrameDecoder().feed(MIXED_STREAM)
    # Close events come from the shared Python close-frame parser, untouched.
    assert [type(e).__name__ for e in events + frames if gc.is_tracked(e)] == ["Close"]
    # They still behave as the NamedTuples they are.
    assert events[0]._replace(payload=b"x") == Ping(b"x")


def test_many_fragmented_messages_leave_nothing_behind(codec):
    stream = frame(BINARY, os.urandom(700), fin=False) + frame(CONT, os.urandom(700))
    decoder = codec.MessageDecoder()
    decoder.feed(stream * 10)

    def decode_many():
        for _ in range(200):
            assert len(decoder.feed(stream * 100)) == 100

    _, peak = peak_memory(decode_many)
    # 20,000 messages of 1,400 bytes went through; a leak of even one message
    # per feed would show, and one per message would be 28 MB.
    assert peak < 1 << 20, peak


# --- No event is lost: a close frame ends the stream, an error hands over what came before it.


def with_first_byte(data: bytes, bits: int) -> bytes:
    """``data`` with ``bits`` set in its first byte (RSV bits, say)."""
    return bytes([data[0] | bits]) + data[1:]


HELLO = frame(TEXT, b"Hello")
CLOSE_1000 = frame(Opcode.CLOSE, b"\x03\xe8")

# stream up to and including the close frame, what follows it, the events
CLOSE_CASES = {
    "text, close, ping": (HELLO + CLOSE_1000, frame(Opcode.PING, b"late"), [TextMessage("Hello"), Close(1000, "")]),
    "text, close, close": (HELLO + CLOSE_1000, frame(Opcode.CLOSE, b"\x03\xe9"),
                           [TextMessage("Hello"), Close(1000, "")]),
    "text, close, text": (HELLO + CLOSE_1000, frame(TEXT, b"late"), [TextMessage("Hello"), Close(1000, "")]),
    "fragment, close, fragment": (frame(TEXT, b"Hel", fin=False) + frame(Opcode.CLOSE, b"\x0f\xa0bye"),
                                  frame(CONT, b"lo"), [Close(4000, "bye")]),
    "close without a code, then garbage": (frame(Opcode.CLOSE, b""), b"\xff" * 40, [Close(1005, "")]),
    "close, then a frame that breaks every rule": (CLOSE_1000, frame(Opcode.BINARY, b"\xff", mask=False, rsv1=True),
                                                   [Close(1000, "")]),
}

# stream, the events before the violation, the error's type, code and words
VIOLATION_CASES = {
    "text, RSV2 frame, ping": (HELLO + with_first_byte(frame(TEXT, b"x"), 0x20) + frame(Opcode.PING, b""),
                               [TextMessage("Hello")], ProtocolError, 1002, "RSV2 bit is set"),
    "text, reserved opcode, ping": (HELLO + frame(0x3, b"x") + frame(Opcode.PING, b""),
                                    [TextMessage("Hello")], ProtocolError, 1002, "opcode 0x3 is reserved"),
    "text, reserved control opcode": (HELLO + frame(0xB, b""), [TextMessage("Hello")], ProtocolError, 1002,
                                      "opcode 0xb is reserved"),
    "text, continuation with no message, ping": (HELLO + frame(CONT, b"x") + frame(Opcode.PING, b""),
                                                 [TextMessage("Hello")], ProtocolError, 1002,
                                                 "continuation frame arrived with no fragmented message"),
    "fragments, then a new message before the last": (
        HELLO + frame(TEXT, b"a", fin=False) + frame(Opcode.PING, b"1") + frame(CONT, b"b", fin=False)
        + frame(BINARY, b"c"),
        [TextMessage("Hello"), Ping(b"1")], ProtocolError, 1002, "BINARY frame arrived while a fragmented message"),
    "fragment, ping, invalid UTF-8 continuation": (
        frame(TEXT, b"ok", fin=False) + frame(Opcode.PING, b"p") + frame(CONT, b"\xff"),
        [Ping(b"p")], InvalidUTF8, 1007, "text message is not valid UTF-8"),
    "text, unmasked frame": (HELLO + frame(BINARY, b"x", mask=False), [TextMessage("Hello")], ProtocolError, 1002,
                             "client frame is not masked"),
    "text, frame over the limit (header only)": (
        HELLO + bytes([0x82, 0xFF]) + (2 << 20).to_bytes(8, "big") + b"\x00" * 4,
        [TextMessage("Hello")], PayloadTooBig, 1009, "over the limit of 1048576 bytes"),
    "text, close with a code no peer may send": (HELLO + frame(Opcode.CLOSE, b"\x03\xed"), [TextMessage("Hello")],
                                                 ProtocolError, 1002, "close code 1005 is not one a peer may send"),
}


class TestCloseEndsTheStream:
    @pytest.mark.parametrize("case", list(CLOSE_CASES), ids=list(CLOSE_CASES))
    def test_at_every_split(self, codec, case):
        through_close, after, expected = CLOSE_CASES[case]
        stream = through_close + after
        for cuts in splits(stream):
            decoder = codec.MessageDecoder()
            events, error = feed_until_error(decoder, stream, cuts)
            assert (events, error) == (expected, None), cuts
            assert decoder.closed
            assert decoder.bytes_after_close == len(after), cuts

    def test_closed_only_once_the_close_frame_is_whole(self, codec):
        decoder = codec.MessageDecoder()
        assert not decoder.closed
        assert decoder.feed(CLOSE_1000[:-1]) == []
        assert not decoder.closed and decoder.bytes_after_close == 0
        assert decoder.feed(CLOSE_1000[-1:]) == [Close(1000, "")]
        assert decoder.closed and decoder.bytes_after_close == 0

    def test_feeds_after_the_close_return_nothing_and_are_counted(self, codec):
        decoder = codec.MessageDecoder()
        assert decoder.feed(CLOSE_1000 + b"abc") == [Close(1000, "")]
        assert decoder.feed(frame(TEXT, b"Hello")) == []
        assert decoder.feed(bytearray(b"\xff\xff")) == []
        assert decoder.feed(b"") == []
        assert decoder.bytes_after_close == 3 + len(frame(TEXT, b"Hello")) + 2
        # The caller's mistakes are still the caller's: not a buffer is a TypeError.
        with pytest.raises(TypeError, match="bytes-like"):
            decoder.feed("text")

    def test_a_malformed_close_is_an_error_not_an_end(self, codec):
        decoder = codec.MessageDecoder()
        expect_error(decoder, frame(Opcode.CLOSE, b"\x03") + frame(TEXT, b"x"), ProtocolError, 1002, "1 byte")
        assert not decoder.closed


class TestErrorsHandOverEarlierEvents:
    @pytest.mark.parametrize("case", list(VIOLATION_CASES), ids=list(VIOLATION_CASES))
    def test_at_every_split(self, codec, case):
        stream, expected, error_type, close_code, words = VIOLATION_CASES[case]
        for cuts in splits(stream):
            decoder = codec.MessageDecoder()
            events, error = feed_until_error(decoder, stream, cuts)
            assert events == expected, cuts
            assert type(error) is error_type and error.close_code == close_code, (cuts, error)
            assert words in error.reason
            assert not decoder.closed
            # The decoder stays failed, and hands over nothing twice.
            with pytest.raises(error_type) as again:
                decoder.feed(frame(Opcode.PING, b""))
            assert again.value.events == [] and again.value.reason == error.reason

    def test_events_are_only_those_of_the_failing_feed(self, codec):
        decoder = codec.MessageDecoder()
        assert decoder.feed(HELLO) == [TextMessage("Hello")]
        error = expect_error(decoder, frame(Opcode.PONG, b"1") + frame(0x3, b""), ProtocolError, 1002, "reserved")
        assert error.events == [Pong(b"1")]

    def test_an_error_at_the_first_frame_has_no_events(self, codec):
        error = expect_error(codec.MessageDecoder(), frame(0x3, b"") + HELLO, ProtocolError, 1002, "reserved")
        assert error.events == []

    def test_compressed_messages_before_corrupt_deflate_are_handed_over(self, codec):
        from wsframe import Deflater, negotiate_deflate

        _, parameters = negotiate_deflate("permessage-deflate")
        deflater = Deflater(parameters, Role.CLIENT)
        stream = (frame(TEXT, deflater.compress(b"first"), rsv1=True) + frame(BINARY, b"plain")
                  + frame(BINARY, b"\xff\xff\xff\xff", rsv1=True))
        for cuts in splits(stream):
            events, error = feed_until_error(codec.MessageDecoder(deflate=parameters), stream, cuts)
            assert events == [TextMessage("first"), BinaryMessage(b"plain")], cuts
            assert error is not None and error.close_code == 1002 and "deflate" in error.reason

    def test_errors_not_from_a_decoder_carry_no_events(self):
        assert ProtocolError("why").events == [] and InvalidUTF8("why").events == []


# --- max_events: a decoder that stops when the caller has enough ----------------


def drain(decoder, data, max_events):
    """Feed ``data`` with ``max_events``, then feed(b"") until nothing is held; each feed's events."""
    batches = [decoder.feed(data, max_events=max_events)]
    while decoder.undecoded:
        batches.append(decoder.feed(b"", max_events=max_events))
    return batches


class TestMaxEvents:
    STREAM = b"".join(frame(TEXT, f"message {n}".encode()) for n in range(7)) + frame(Opcode.PING, b"p") + frame(
        BINARY, b"\x00" * 300, fin=False) + frame(CONT, b"\x01" * 300)

    @pytest.mark.parametrize("max_events", [1, 2, 3, 9, 10])
    def test_feeds_return_at_most_max_events_and_lose_none(self, codec, max_events):
        expected = codec.MessageDecoder().feed(self.STREAM)
        assert len(expected) == 9
        for cuts in splits(self.STREAM):
            decoder = codec.MessageDecoder()
            events = []
            start = 0
            for cut in sorted(set(cuts)) + [len(self.STREAM)]:
                batches = drain(decoder, self.STREAM[start:cut], max_events)
                assert all(len(batch) <= max_events for batch in batches)
                events += [event for batch in batches for event in batch]
                start = cut
            assert events == expected, cuts

    def test_the_rest_is_kept_undecoded_until_asked_for(self, codec):
        decoder = codec.MessageDecoder()
        assert decoder.feed(self.STREAM, max_events=2) == [TextMessage("message 0"), TextMessage("message 1")]
        assert decoder.undecoded == len(self.STREAM) - len(frame(TEXT, b"message 0")) - len(frame(TEXT, b"message 1"))
        # New data goes after what was kept, and without a limit all of it is decoded.
        events = decoder.feed(frame(TEXT, b"after"))
        assert [getattr(event, "data", None) for event in events][-1] == "after"
        assert len(events) == 8 and decoder.undecoded == 0

    def test_an_error_in_the_kept_bytes_comes_with_the_events_before_it(self, codec):
        stream = frame(TEXT, b"a") + frame(TEXT, b"b") + frame(TEXT, b"c") + frame(0x3, b"")
        decoder = codec.MessageDecoder()
        assert decoder.feed(stream, max_events=2) == [TextMessage("a"), TextMessage("b")]
        error = expect_error(decoder, b"", ProtocolError, 1002, "reserved")
        assert error.events == [TextMessage("c")]

    def test_a_close_frame_still_ends_the_stream(self, codec):
        stream = frame(TEXT, b"a") + frame(Opcode.CLOSE, b"\x03\xe8") + frame(TEXT, b"late")
        decoder = codec.MessageDecoder()
        assert decoder.feed(stream, max_events=1) == [TextMessage("a")]
        assert decoder.feed(b"", max_events=1) == [Close(1000, "")]
        assert decoder.closed and decoder.undecoded == 0 and decoder.bytes_after_close == len(frame(TEXT, b"late"))

    @pytest.mark.parametrize("value, error", [(0, ValueError), (-1, ValueError), (1.5, TypeError),
                                              (2**70, OverflowError), ("2", TypeError)])
    def test_max_events_must_be_a_positive_count(self, codec, value, error):
        decoder = codec.MessageDecoder()
        with pytest.raises(error):
            decoder.feed(frame(TEXT, b"a"), max_events=value)
        # A refused argument fails nothing: the decoder goes on.
        assert decoder.feed(frame(TEXT, b"a")) == [TextMessage("a")]

    def test_a_burst_of_compressed_frames_inflates_no_more_than_it_returns(self, codec):
        from wsframe import Deflater, negotiate_deflate

        _, parameters = negotiate_deflate("permessage-deflate")
        deflater = Deflater(parameters, Role.CLIENT)
        message = bytes(256 << 10)
        frames = [frame(BINARY, deflater.compress(message), rsv1=True) for _ in range(64)]
        burst = b"".join(frames)
        assert len(burst) < 64 << 10  # one read's worth that inflates to 16 MiB
        decoder = codec.MessageDecoder(max_message_size=None, deflate=parameters)
        events, peak = peak_memory(lambda: decoder.feed(burst, max_events=2))
        assert events == [BinaryMessage(message)] * 2
        assert peak < 8 * len(message), peak  # all 64 at once would be 16 MiB
        assert decoder.undecoded == len(burst) - len(frames[0]) - len(frames[1])
