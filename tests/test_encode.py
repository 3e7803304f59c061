"""encode_header and encode_frame: shortest lengths, masking, and refusals of misuse."""

from __future__ import annotations

import os

import pytest
from helpers import reference_mask

from wsframe import MAX_PAYLOAD_LENGTH, Opcode, Role, Rsv

KEY = bytes([0x37, 0xFA, 0x21, 0x3D])


class TestRfcExamples:
    """RFC 6455 section 5.7, produced rather than parsed."""

    def test_unmasked_text_hello(self, codec):
        assert codec.encode_frame(Opcode.TEXT, b"Hello") == bytes([0x81, 0x05, 0x48, 0x65, 0x6C, 0x6C, 0x6F])

    def test_masked_text_hello(self, codec):
        expected = bytes([0x81, 0x85, 0x37, 0xFA, 0x21, 0x3D, 0x7F, 0x9F, 0x4D, 0x51, 0x58])
        assert codec.encode_frame(Opcode.TEXT, b"Hello", mask=KEY) == expected

    def test_fragments(self, codec):
        assert codec.encode_frame(Opcode.TEXT, b"Hel", fin=False) == bytes([0x01, 0x03, 0x48, 0x65, 0x6C])
        assert codec.encode_frame(Opcode.CONTINUATION, b"lo") == bytes([0x80, 0x02, 0x6C, 0x6F])

    def test_ping_and_masked_pong(self, codec):
        assert codec.encode_frame(Opcode.PING, b"Hello") == bytes([0x89, 0x05]) + b"Hello"
        assert codec.encode_frame(Opcode.PONG, b"Hello", mask=KEY) == bytes(
            [0x8A, 0x85, 0x37, 0xFA, 0x21, 0x3D, 0x7F, 0x9F, 0x4D, 0x51, 0x58]
        )

    def test_256_bytes_and_64_kib(self, codec):
        assert codec.encode_header(Opcode.BINARY, 256) == bytes([0x82, 0x7E, 0x01, 0x00])
        assert codec.encode_header(Opcode.BINARY, 65536) == bytes([0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0])


@pytest.mark.parametrize(
    ("payload_length", "header_length"),
    [(0, 2), (1, 2), (125, 2), (126, 4), (127, 4), (65535, 4), (65536, 10), (2**32, 10), (MAX_PAYLOAD_LENGTH, 10)],
)
def test_header_uses_the_shortest_length_form(codec, payload_length, header_length):
    encoded = codec.encode_header(Opcode.BINARY, payload_length)
    assert len(encoded) == header_length
    parsed = codec.parse_header(encoded, role=Role.CLIENT)
    assert parsed.payload_length == payload_length
    masked = codec.encode_header(Opcode.BINARY, payload_length, mask_key=KEY)
    assert len(masked) == header_length + 4
    assert codec.parse_header(masked).mask_key == KEY


@pytest.mark.parametrize("payload_length", [0, 1, 125, 126, 65535, 65536, 100_000])
@pytest.mark.parametrize("masked", [False, True])
def test_frame_round_trips_through_parse_header(codec, payload_length, masked):
    payload = os.urandom(payload_length)
    frame = codec.encode_frame(Opcode.BINARY, payload, mask=KEY if masked else False)
    parsed = codec.parse_header(frame, role=Role.SERVER if masked else Role.CLIENT)
    body = frame[parsed.header_length :]
    assert parsed.payload_length == len(body) == payload_length
    assert (codec.mask(body, parsed.mask_key) if masked else body) == payload


def test_flags_are_encoded(codec):
    frame = codec.encode_frame(Opcode.TEXT, b"x", fin=False, rsv1=True, rsv2=True, rsv3=True)
    parsed = codec.parse_header(frame, role=Role.CLIENT, allowed_rsv=Rsv.RSV1 | Rsv.RSV2 | Rsv.RSV3)
    assert (parsed.fin, parsed.rsv1, parsed.rsv2, parsed.rsv3) == (False, True, True, True)
    assert codec.encode_header(Opcode.TEXT, 1, fin=False, rsv1=True, rsv2=True, rsv3=True) == frame[:2]


def test_mask_true_uses_a_fresh_random_key(codec):
    frames = [codec.encode_frame(Opcode.BINARY, b"same payload", mask=True) for _ in range(8)]
    keys = {codec.parse_header(frame).mask_key for frame in frames}
    assert len(keys) > 1  # 8 draws of 32 random bits: a repeat of all of them is impossible in practice
    for frame in frames:
        parsed = codec.parse_header(frame)
        assert codec.mask(frame[parsed.header_length :], parsed.mask_key) == b"same payload"


@pytest.mark.parametrize("mask", [False, None])
def test_mask_false_or_none_leaves_the_frame_unmasked(codec, mask):
    assert codec.encode_frame(Opcode.BINARY, b"ab", mask=mask) == b"\x82\x02ab"


def test_payload_may_be_any_buffer(codec):
    payload = bytearray(os.urandom(300))
    expected = codec.encode_frame(Opcode.BINARY, bytes(payload), mask=KEY)
    assert codec.encode_frame(Opcode.BINARY, payload, mask=KEY) == expected
    assert codec.encode_frame(Opcode.BINARY, memoryview(b"z" + payload)[1:], mask=bytearray(KEY)) == expected


def test_masked_frame_matches_reference_masking(codec):
    payload = os.urandom(1000)
    frame = codec.encode_frame(Opcode.BINARY, payload, mask=KEY)
    assert frame[-1000:] == reference_mask(payload, KEY)


class TestMisuse:
    @pytest.mark.parametrize("opcode", [3, 7, 0xB, 0xF, 16, -1, 256])
    def test_undefined_opcode_is_refused(self, codec, opcode):
        with pytest.raises(ValueError, match="not a frame opcode"):
            codec.encode_frame(opcode, b"")
        with pytest.raises(ValueError, match="not a frame opcode"):
            codec.encode_header(opcode, 0)

    @pytest.mark.parametrize("opcode", [Opcode.CLOSE, Opcode.PING, Opcode.PONG])
    def test_control_frames_cannot_be_fragmented(self, codec, opcode):
        with pytest.raises(ValueError, match="cannot be fragmented"):
            codec.encode_frame(opcode, b"", fin=False)
        with pytest.raises(ValueError, match="cannot be fragmented"):
            codec.encode_header(opcode, 0, fin=False)

    @pytest.mark.parametrize("opcode", [Opcode.CLOSE, Opcode.PING, Opcode.PONG])
    def test_control_payload_over_125_bytes_is_refused(self, codec, opcode):
        assert len(codec.encode_frame(opcode, bytes(125))) == 127
        with pytest.raises(ValueError, match="125 bytes at most"):
            codec.encode_frame(opcode, bytes(126))
        with pytest.raises(ValueError, match="125 bytes at most"):
            codec.encode_header(opcode, 126)

    @pytest.mark.parametrize("payload_length", [-1, 2**63, 2**64])
    def test_payload_length_out_of_range_is_refused(self, codec, payload_length):
        with pytest.raises(ValueError, match="outside 0 to 2\\*\\*63 - 1"):
            codec.encode_header(Opcode.BINARY, payload_length)

    @pytest.mark.parametrize("key", [b"abc", b"abcde"])
    def test_mask_key_must_be_4_bytes(self, codec, key):
        with pytest.raises(ValueError, match="4 bytes"):
            codec.encode_frame(Opcode.BINARY, b"", mask=key)
        with pytest.raises(ValueError, match="4 bytes"):
            codec.encode_header(Opcode.BINARY, 0, mask_key=key)

    @pytest.mark.parametrize("key", ["abcd", 1])
    def test_mask_key_must_be_bytes_like(self, codec, key):
        with pytest.raises(TypeError, match="argument 'mask' must be a bytes-like object"):
            codec.encode_frame(Opcode.BINARY, b"", mask=key)
        with pytest.raises(TypeError, match="argument 'mask_key' must be a bytes-like object"):
            codec.encode_header(Opcode.BINARY, 0, mask_key=key)

    def test_payload_must_be_bytes_like(self, codec):
        with pytest.raises(TypeError, match="argument 'payload' must be a bytes-like object"):
            codec.encode_frame(Opcode.TEXT, "text must be encoded first")


def test_fresh_keys_across_many_frames(codec):
    # More frames than one 4 KiB pool of keys holds, so the C backend refills it.
    keys = [codec.parse_header(codec.encode_frame(Opcode.BINARY, b"", mask=True)).mask_key for _ in range(3000)]
    # 3000 draws of 32 random bits: the chance of any repeat is about 0.1%, of
    # five or more, negligible; a pool that handed out a key twice would repeat
    # a whole run of them.
    assert len(set(keys)) >= len(keys) - 4


@pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork is POSIX only")
def test_a_forked_child_does_not_repeat_its_parents_keys(codec):
    codec.encode_frame(Opcode.BINARY, b"", mask=True)  # the pool now holds unused keys
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: send the keys it draws, then leave at once
        try:
            keys = b"".join(codec.parse_header(codec.encode_frame(Opcode.BINARY, b"", mask=True)).mask_key
                            for _ in range(16))
            os.write(write_end, keys)
        finally:
            os._exit(0)
    os.close(write_end)
    child_keys = b""
    while len(child_keys) < 64:
        chunk = os.read(read_end, 64)
        if not chunk:
            break
        child_keys += chunk
    os.close(read_end)
    os.waitpid(pid, 0)
    parent_keys = b"".join(codec.parse_header(codec.encode_frame(Opcode.BINARY, b"", mask=True)).mask_key
                           for _ in range(16))
    assert len(child_keys) == 64
    assert child_keys != parent_keys
