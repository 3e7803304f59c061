"""FrameDecoder: frames out of bytes in any chunking (RFC 6455 section 5.2)."""

from __future__ import annotations

import os

import pytest
from helpers import feed_in_pieces, feed_until_error, frame, peak_memory, splits, trickle
from hypothesis import given
from hypothesis import strategies as st

from wsframe import CloseCode, Frame, Opcode, PayloadTooBig, ProtocolError, Role, Rsv

LARGE_PAYLOAD = os.urandom(70000)
STREAM = (
    frame(Opcode.TEXT, b"Hello")
    + frame(Opcode.BINARY, bytes(range(256)) * 2, fin=False)
    + frame(Opcode.PING, b"ping")
    + frame(Opcode.CONTINUATION, b"")
    + frame(Opcode.BINARY, LARGE_PAYLOAD)
    + frame(Opcode.CLOSE, b"\x03\xe8")
)


def whole(codec, stream=STREAM, **options):
    return codec.FrameDecoder(**options).feed(stream)


def test_rfc_examples(codec):
    decoder = codec.FrameDecoder(Role.CLIENT)
    frames = decoder.feed(bytes([0x01, 0x03, 0x48, 0x65, 0x6C, 0x80, 0x02, 0x6C, 0x6F]))
    assert frames == [
        Frame(Opcode.TEXT, b"Hel", False, False, False, False, True),
        Frame(Opcode.CONTINUATION, b"lo", True, False, False, False, True),
    ]
    server = codec.FrameDecoder(Role.SERVER)
    assert server.feed(bytes([0x81, 0x85, 0x37, 0xFA, 0x21, 0x3D, 0x7F, 0x9F, 0x4D, 0x51, 0x58])) == [
        Frame(Opcode.TEXT, b"Hello", True, False, False, False, True)
    ]


def test_many_frames_in_one_chunk_are_unmasked(codec):
    frames = whole(codec)
    assert [(f.opcode, f.fin) for f in frames] == [
        (Opcode.TEXT, True), (Opcode.BINARY, False), (Opcode.PING, True),
        (Opcode.CONTINUATION, True), (Opcode.BINARY, True), (Opcode.CLOSE, True),
    ]
    assert frames[0].payload == b"Hello"
    assert frames[1].payload == bytes(range(256)) * 2
    assert frames[4].payload == LARGE_PAYLOAD
    assert frames[5].payload == b"\x03\xe8"


def test_byte_by_byte_gives_the_same_frames(codec):
    assert feed_in_pieces(codec.FrameDecoder(), STREAM, range(1, len(STREAM))) == whole(codec)


@given(cuts=st.lists(st.integers(0, len(STREAM)), max_size=30))
def test_random_splits_give_the_same_frames(codec, cuts):
    assert feed_in_pieces(codec.FrameDecoder(), STREAM, cuts) == whole(codec)


def test_empty_feed_returns_nothing(codec):
    decoder = codec.FrameDecoder()
    assert decoder.feed(b"") == []
    assert decoder.feed(STREAM[:1]) == []
    assert decoder.feed(b"") == []


def test_any_buffer_and_no_reference_to_it_is_kept(codec):
    data = bytearray(frame(Opcode.BINARY, b"abcdef"))
    decoder = codec.FrameDecoder()
    frames = decoder.feed(memoryview(data)[:5]) + decoder.feed(data[5:])
    data[:] = bytes(len(data))  # the caller reuses its buffer
    assert frames[0].payload == b"abcdef"


def test_unmasked_frames_for_a_client(codec):
    stream = frame(Opcode.TEXT, b"hi", mask=False) + frame(Opcode.BINARY, bytes(300), mask=False)
    assert [f.payload for f in codec.FrameDecoder(Role.CLIENT).feed(stream)] == [b"hi", bytes(300)]


def test_frame_too_big_is_refused_from_its_header(codec):
    decoder = codec.FrameDecoder(max_frame_size=1000)
    header_only = frame(Opcode.BINARY, bytes(1001))[:8]  # header and key, no payload
    with pytest.raises(PayloadTooBig) as info:
        decoder.feed(header_only)
    assert info.value.close_code == CloseCode.MESSAGE_TOO_BIG


def test_frame_at_the_limit_is_accepted(codec):
    assert len(codec.FrameDecoder(max_frame_size=1000).feed(frame(Opcode.BINARY, bytes(1000)))[0].payload) == 1000


def test_default_limit_is_one_mebibyte(codec):
    decoder = codec.FrameDecoder()
    with pytest.raises(PayloadTooBig, match="over the limit of 1048576 bytes"):
        decoder.feed(frame(Opcode.BINARY, bytes(2**20 + 1))[:14])


def test_rsv_bits_need_allowed_rsv(codec):
    stream = frame(Opcode.TEXT, b"x", rsv1=True)
    assert codec.FrameDecoder(allowed_rsv=Rsv.RSV1).feed(stream)[0].rsv1 is True
    with pytest.raises(ProtocolError, match="RSV1"):
        codec.FrameDecoder().feed(stream)


def test_header_errors_surface_from_the_first_bad_byte(codec):
    decoder = codec.FrameDecoder()
    assert decoder.feed(frame(Opcode.TEXT, b"ok")) != []
    with pytest.raises(ProtocolError, match="reserved"):
        decoder.feed(b"\x83")


def test_decoder_stays_failed(codec):
    decoder = codec.FrameDecoder()
    with pytest.raises(ProtocolError) as first:
        decoder.feed(b"\x81\x05Hello")  # unmasked client frame
    for _ in range(2):
        with pytest.raises(ProtocolError) as again:
            decoder.feed(frame(Opcode.TEXT, b"valid"))
        assert (type(again.value), again.value.reason, again.value.close_code) == (
            type(first.value), first.value.reason, first.value.close_code)


class TestChunked:
    def test_payload_arrives_in_pieces(self, codec):
        payload = os.urandom(1000)
        stream = frame(Opcode.BINARY, payload)
        decoder = codec.FrameDecoder(chunked=True)
        pieces = feed_in_pieces(decoder, stream, [3, 100, 101, 600])
        assert b"".join(p.payload for p in pieces) == payload
        assert [p.frame_finished for p in pieces] == [False] * (len(pieces) - 1) + [True]
        assert all(p.payload for p in pieces)

    def test_control_frames_arrive_whole(self, codec):
        stream = frame(Opcode.PING, b"0123456789")
        decoder = codec.FrameDecoder(chunked=True)
        assert feed_in_pieces(decoder, stream, range(len(stream))) == [
            Frame(Opcode.PING, b"0123456789", True, False, False, False, True)]

    def test_empty_frame_is_one_finished_piece(self, codec):
        assert codec.FrameDecoder(chunked=True).feed(frame(Opcode.TEXT, b"")) == [
            Frame(Opcode.TEXT, b"", True, False, False, False, True)]

    def test_large_frame_needs_no_buffer_of_its_size(self, codec):
        size = 8 << 20
        header = bytes([0x82, 127]) + size.to_bytes(8, "big")
        chunk = bytes(65536)
        decoder = codec.FrameDecoder(Role.CLIENT, chunked=True, max_frame_size=None)

        def receive():
            total = sum(len(f.payload) for f in decoder.feed(header))
            for _ in range(size // len(chunk)):
                total += sum(len(f.payload) for f in decoder.feed(chunk))
            return total

        total, peak = peak_memory(receive)
        assert total == size
        assert peak < 1 << 20, peak


class TestMemory:
    def test_claimed_length_allocates_nothing(self, codec):
        decoder = codec.FrameDecoder(max_frame_size=None)
        header = bytes([0x82, 0xFF]) + (2**62).to_bytes(8, "big") + b"\x37\xfa\x21\x3d"
        frames, peak = peak_memory(lambda: decoder.feed(header + bytes(1000)))
        assert frames == []
        assert peak < 64 << 10, peak

    def test_trickled_frame_stays_within_a_small_multiple_of_its_size(self, codec):
        size = 256 << 10
        stream = frame(Opcode.BINARY, bytes(size))
        decoder = codec.FrameDecoder()
        frames, peak = peak_memory(lambda: trickle(decoder, stream))
        assert [len(f.payload) for f in frames] == [size]
        assert peak < 4 * size, peak


# --- A close frame ends the stream; an error hands over the frames before it.

CLOSE_STREAM = frame(Opcode.TEXT, b"Hello") + frame(Opcode.CLOSE, b"\x03\xe8")
AFTER_CLOSE = frame(Opcode.PING, b"late") + b"\xff" * 20


@pytest.mark.parametrize("chunked", [False, True], ids=["whole", "chunked"])
def test_a_close_frame_ends_the_stream_at_every_split(codec, chunked):
    stream = CLOSE_STREAM + AFTER_CLOSE
    for cuts in splits(stream):
        decoder = codec.FrameDecoder(chunked=chunked)
        frames, error = feed_until_error(decoder, stream, cuts)
        assert error is None
        assert b"".join(f.payload for f in frames if f.opcode == Opcode.TEXT) == b"Hello"
        assert frames[-1] == Frame(Opcode.CLOSE, b"\x03\xe8", True, False, False, False, True)
        assert decoder.closed and decoder.bytes_after_close == len(AFTER_CLOSE), cuts
    assert decoder.feed(frame(Opcode.TEXT, b"more")) == []
    assert decoder.bytes_after_close == len(AFTER_CLOSE) + len(frame(Opcode.TEXT, b"more"))


@pytest.mark.parametrize("chunked", [False, True], ids=["whole", "chunked"])
def test_an_error_hands_over_the_frames_before_it_at_every_split(codec, chunked):
    payload = bytes(range(200))
    stream = frame(Opcode.BINARY, payload, fin=False) + frame(Opcode.PING, b"p") + frame(0x3, b"x")
    for cuts in splits(stream):
        decoder = codec.FrameDecoder(chunked=chunked)
        frames, error = feed_until_error(decoder, stream, cuts)
        assert isinstance(error, ProtocolError) and error.close_code == 1002 and "0x3 is reserved" in error.reason
        assert b"".join(f.payload for f in frames if f.opcode == Opcode.BINARY) == payload, cuts
        assert frames[-1] == Frame(Opcode.PING, b"p", True, False, False, False, True)
        assert not decoder.closed


def test_chunked_pieces_of_the_failing_feed_are_handed_over(codec):
    decoder = codec.FrameDecoder(chunked=True)
    stream = frame(Opcode.BINARY, b"0123456789")
    assert decoder.feed(stream[:8]) == [Frame(Opcode.BINARY, b"01", True, False, False, False, False)]
    with pytest.raises(ProtocolError) as info:
        decoder.feed(stream[8:] + b"\x8b")
    assert info.value.events == [Frame(Opcode.BINARY, b"23456789", True, False, False, False, True)]


@pytest.mark.parametrize("decoder_class", ["FrameDecoder", "MessageDecoder"])
def test_a_failed_feed_lets_go_of_the_callers_buffer(codec, decoder_class):
    # The caller keeps the error and reuses its bytearray: it must be free
    # to resize it (a view of it kept in the error's traceback would not be).
    buffer = bytearray(frame(Opcode.BINARY, b"y" * 3000) + frame(Opcode.BINARY, bytes(2000), fin=False)[:1500])
    decoder = getattr(codec, decoder_class)()
    assert len(decoder.feed(buffer)) == 1
    del buffer[:]
    buffer += frame(Opcode.BINARY, bytes(2000), fin=False)[1500:] + frame(0x3, b"")
    with pytest.raises(ProtocolError) as error:
        decoder.feed(buffer)
    del buffer[:]
    # The fragment is a whole frame, but not yet a whole message.
    assert len(error.value.events) == (1 if decoder_class == "FrameDecoder" else 0)
    assert buffer == bytearray()
