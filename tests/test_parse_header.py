"""parse_header: RFC 6455 section 5.2 parsing and every section 5 MUST."""

from __future__ import annotations

import array
import mmap
from types import ModuleType

import pytest

from wsframe import CloseCode, FrameHeader, Opcode, PayloadTooBig, ProtocolError, Role, Rsv

SERVER = Role.SERVER  # reads client frames: must be masked
CLIENT = Role.CLIENT  # reads server frames: must not be masked
KEY = bytes([0x37, 0xFA, 0x21, 0x3D])


def header(
    *, fin=True, rsv1=False, rsv2=False, rsv3=False, opcode=Opcode.BINARY, masked=False, payload_length=0,
    mask_key=None, header_length=2,
) -> FrameHeader:
    return FrameHeader(fin, rsv1, rsv2, rsv3, opcode, masked, payload_length, mask_key, header_length)


def expect_protocol_error(codec: ModuleType, data: bytes, match: str, close_code=CloseCode.PROTOCOL_ERROR, **options):
    with pytest.raises(ProtocolError, match=match) as info:
        codec.parse_header(data, **options)
    assert info.value.close_code == close_code
    # The reason is sent in a close frame: at most 123 bytes (RFC 6455 5.5.1).
    assert len(info.value.reason.encode("utf-8")) <= 123
    assert str(int(close_code)) in str(info.value)
    return info.value


class TestRfcExamples:
    """The byte vectors of RFC 6455 section 5.7."""

    def test_unmasked_text_hello(self, codec):
        data = bytes([0x81, 0x05, 0x48, 0x65, 0x6C, 0x6C, 0x6F])
        parsed = codec.parse_header(data, role=CLIENT)
        assert parsed == header(opcode=Opcode.TEXT, payload_length=5)
        assert data[parsed.header_length :] == b"Hello"

    def test_masked_text_hello(self, codec):
        data = bytes([0x81, 0x85, 0x37, 0xFA, 0x21, 0x3D, 0x7F, 0x9F, 0x4D, 0x51, 0x58])
        parsed = codec.parse_header(data, role=SERVER)
        assert parsed == header(opcode=Opcode.TEXT, masked=True, payload_length=5, mask_key=KEY, header_length=6)
        assert codec.mask(data[parsed.header_length :], parsed.mask_key) == b"Hello"

    def test_fragmented_unmasked_text(self, codec):
        first = bytes([0x01, 0x03, 0x48, 0x65, 0x6C])
        second = bytes([0x80, 0x02, 0x6C, 0x6F])
        assert codec.parse_header(first, role=CLIENT) == header(fin=False, opcode=Opcode.TEXT, payload_length=3)
        assert codec.parse_header(second, role=CLIENT) == header(opcode=Opcode.CONTINUATION, payload_length=2)

    def test_unmasked_ping_and_masked_pong(self, codec):
        ping = bytes([0x89, 0x05, 0x48, 0x65, 0x6C, 0x6C, 0x6F])
        pong = bytes([0x8A, 0x85, 0x37, 0xFA, 0x21, 0x3D, 0x7F, 0x9F, 0x4D, 0x51, 0x58])
        assert codec.parse_header(ping, role=CLIENT) == header(opcode=Opcode.PING, payload_length=5)
        assert codec.parse_header(pong, role=SERVER) == header(
            opcode=Opcode.PONG, masked=True, payload_length=5, mask_key=KEY, header_length=6
        )

    def test_256_byte_binary_uses_16_bit_length(self, codec):
        data = bytes([0x82, 0x7E, 0x01, 0x00]) + bytes(256)
        assert codec.parse_header(data, role=CLIENT) == header(payload_length=256, header_length=4)

    def test_64_kib_binary_uses_64_bit_length(self, codec):
        data = bytes([0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0]) + bytes(65536)
        assert codec.parse_header(data, role=CLIENT) == header(payload_length=65536, header_length=10)


def encoded_length(payload_length: int) -> bytes:
    """The minimal length field for a client frame's second byte onward (mask bit set)."""
    if payload_length < 126:
        return bytes([0x80 | payload_length])
    if payload_length < 65536:
        return bytes([0x80 | 126]) + payload_length.to_bytes(2, "big")
    return bytes([0x80 | 127]) + payload_length.to_bytes(8, "big")


class TestPayloadLength:
    @pytest.mark.parametrize("payload_length", [0, 1, 125, 126, 127, 65535, 65536, 2**32, 2**63 - 1])
    def test_lengths_in_every_form(self, codec, payload_length):
        data = bytes([0x82]) + encoded_length(payload_length) + KEY
        parsed = codec.parse_header(data)
        assert parsed.payload_length == payload_length
        assert parsed.header_length == len(data)
        assert parsed.mask_key == KEY

    @pytest.mark.parametrize("payload_length", [0, 1, 125])
    def test_16_bit_field_for_short_length_is_rejected(self, codec, payload_length):
        data = bytes([0x82, 0x80 | 126]) + payload_length.to_bytes(2, "big") + KEY
        expect_protocol_error(codec, data, "16-bit field")

    @pytest.mark.parametrize("payload_length", [0, 125, 126, 65535])
    def test_64_bit_field_for_short_length_is_rejected(self, codec, payload_length):
        data = bytes([0x82, 0x80 | 127]) + payload_length.to_bytes(8, "big") + KEY
        expect_protocol_error(codec, data, "64-bit field")

    @pytest.mark.parametrize("payload_length", [2**63, 2**64 - 1, 2**63 + 65536])
    def test_64_bit_length_with_top_bit_set_is_rejected(self, codec, payload_length):
        data = bytes([0x82, 0x80 | 127]) + payload_length.to_bytes(8, "big") + KEY
        expect_protocol_error(codec, data, "most significant bit")

    def test_limit_is_enforced_from_the_header_alone(self, codec):
        # A header claiming 2**63 - 1 bytes, with no payload behind it.
        data = bytes([0x82]) + encoded_length(2**63 - 1) + KEY
        error = expect_protocol_error(
            codec, data, "over the limit of 1048576 bytes", CloseCode.MESSAGE_TOO_BIG, max_payload_length=2**20
        )
        assert isinstance(error, PayloadTooBig)

    def test_limit_is_decided_before_the_mask_key_arrives(self, codec):
        data = bytes([0x82]) + encoded_length(70000)  # no mask key yet
        expect_protocol_error(codec, data, "70000 bytes", CloseCode.MESSAGE_TOO_BIG, max_payload_length=65536)

    @pytest.mark.parametrize("payload_length", [0, 100, 65536])
    def test_length_at_the_limit_is_accepted(self, codec, payload_length):
        data = bytes([0x82]) + encoded_length(payload_length) + KEY
        parsed = codec.parse_header(data, max_payload_length=payload_length)
        assert parsed.payload_length == payload_length

    def test_huge_limit_is_accepted(self, codec):
        data = bytes([0x82]) + encoded_length(2**63 - 1) + KEY
        assert codec.parse_header(data, max_payload_length=2**80).payload_length == 2**63 - 1


class TestOpcodes:
    @pytest.mark.parametrize("opcode", list(Opcode))
    def test_defined_opcodes_parse(self, codec, opcode):
        parsed = codec.parse_header(bytes([0x80 | opcode, 0x80]) + KEY)
        assert parsed.opcode is opcode

    @pytest.mark.parametrize("opcode", [3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF])
    def test_reserved_opcodes_are_rejected_from_the_first_byte(self, codec, opcode):
        expect_protocol_error(codec, bytes([0x80 | opcode]), f"opcode {opcode:#x} is reserved")

    @pytest.mark.parametrize("opcode", [Opcode.CLOSE, Opcode.PING, Opcode.PONG])
    def test_fragmented_control_frame_is_rejected(self, codec, opcode):
        expect_protocol_error(codec, bytes([opcode]), f"{opcode.name} frame has FIN clear")

    @pytest.mark.parametrize("opcode", [Opcode.CLOSE, Opcode.PING, Opcode.PONG])
    @pytest.mark.parametrize("length_field", [bytes([0x80 | 126, 0, 126]), bytes([0x80 | 127]) + (2**16).to_bytes(8, "big")])
    def test_control_frame_over_125_bytes_is_rejected(self, codec, opcode, length_field):
        expect_protocol_error(codec, bytes([0x80 | opcode]) + length_field + KEY, "over 125 bytes")

    @pytest.mark.parametrize("opcode", [Opcode.CLOSE, Opcode.PING, Opcode.PONG])
    def test_control_frame_of_125_bytes_is_accepted(self, codec, opcode):
        assert codec.parse_header(bytes([0x80 | opcode, 0x80 | 125]) + KEY).payload_length == 125

    @pytest.mark.parametrize("opcode", [Opcode.CONTINUATION, Opcode.TEXT, Opcode.BINARY])
    def test_data_frames_may_be_fragmented(self, codec, opcode):
        assert codec.parse_header(bytes([opcode, 0x80]) + KEY).fin is False


class TestRsvBits:
    @pytest.mark.parametrize(
        ("bits", "match"),
        [
            (0x40, "RSV1 bit is set"),
            (0x20, "RSV2 bit is set"),
            (0x10, "RSV3 bit is set"),
            (0x50, "RSV1 and RSV3 bits are set"),
            (0x70, "RSV1 and RSV2 and RSV3 bits are set"),
        ],
    )
    def test_unnegotiated_rsv_bits_are_rejected(self, codec, bits, match):
        expect_protocol_error(codec, bytes([0x80 | bits | Opcode.TEXT]), match)

    def test_negotiated_rsv1_is_accepted(self, codec):
        parsed = codec.parse_header(bytes([0xC1, 0x80]) + KEY, allowed_rsv=Rsv.RSV1)
        assert (parsed.rsv1, parsed.rsv2, parsed.rsv3) == (True, False, False)

    def test_only_the_negotiated_bits_are_accepted(self, codec):
        expect_protocol_error(codec, bytes([0xE1, 0x80]) + KEY, "RSV2 bit is set", allowed_rsv=Rsv.RSV1 | Rsv.RSV3)

    def test_all_bits_negotiated(self, codec):
        parsed = codec.parse_header(bytes([0xF1, 0x80]) + KEY, allowed_rsv=Rsv.RSV1 | Rsv.RSV2 | Rsv.RSV3)
        assert (parsed.rsv1, parsed.rsv2, parsed.rsv3) == (True, True, True)

    @pytest.mark.parametrize("allowed_rsv", [0x80, 0x01, -1, 0x170])
    def test_allowed_rsv_outside_the_rsv_bits_is_refused(self, codec, allowed_rsv):
        with pytest.raises(ValueError, match="allowed_rsv"):
            codec.parse_header(b"\x81\x80" + KEY, allowed_rsv=allowed_rsv)


class TestMaskBit:
    def test_server_rejects_unmasked_client_frame(self, codec):
        expect_protocol_error(codec, b"\x81\x05", "client frame is not masked", role=SERVER)

    def test_client_rejects_masked_server_frame(self, codec):
        expect_protocol_error(codec, b"\x81\x85", "server frame is masked", role=CLIENT)

    def test_server_is_the_default_role(self, codec):
        expect_protocol_error(codec, b"\x81\x05", "client frame is not masked")

    @pytest.mark.parametrize("role", ["server", None, 0, True])
    def test_role_must_be_a_role(self, codec, role):
        with pytest.raises(TypeError, match="role must be Role.SERVER or Role.CLIENT"):
            codec.parse_header(b"\x81\x85" + KEY, role=role)


class TestIncompleteInput:
    FRAMES = [
        (bytes([0x81, 0x85]) + KEY, SERVER),
        (bytes([0x82, 0x80 | 126, 0x01, 0x00]) + KEY, SERVER),
        (bytes([0x82, 0x80 | 127, 0, 0, 0, 1, 0, 0, 0, 0]) + KEY, SERVER),
        (bytes([0x81, 0x05]), CLIENT),
        (bytes([0x82, 126, 0xFF, 0xFF]), CLIENT),
        (bytes([0x02, 127, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]), CLIENT),
    ]

    @pytest.mark.parametrize(("frame", "role"), FRAMES)
    def test_every_truncation_point_returns_none(self, codec, frame, role):
        for cut in range(len(frame)):
            assert codec.parse_header(frame[:cut], role=role) is None, cut
        assert codec.parse_header(frame, role=role).header_length == len(frame)

    @pytest.mark.parametrize(("frame", "role"), FRAMES)
    def test_trailing_payload_is_not_read(self, codec, frame, role):
        parsed = codec.parse_header(frame + b"\xff" * 20, role=role)
        assert parsed == codec.parse_header(frame, role=role)

    def test_offset_selects_the_frame(self, codec):
        data = b"junk" + bytes([0x81, 0x85]) + KEY
        assert codec.parse_header(data, 4).mask_key == KEY
        assert codec.parse_header(data, len(data)) is None
        assert codec.parse_header(data[:-1], 4) is None

    def test_offset_past_the_end_is_refused(self, codec):
        with pytest.raises(ValueError, match="past the end"):
            codec.parse_header(b"\x81", 2)

    def test_negative_offset_is_refused(self, codec):
        with pytest.raises(ValueError, match="must not be negative"):
            codec.parse_header(b"\x81\x80" + KEY, -1)


class TestBufferTypes:
    FRAME = bytes([0x82, 0x80 | 126, 0x01, 0x00]) + KEY

    @pytest.mark.parametrize(
        "wrap",
        [bytes, bytearray, memoryview, lambda b: memoryview(b"xx" + b)[2:], lambda b: array.array("B", b)],
        ids=["bytes", "bytearray", "memoryview", "memoryview-slice", "array"],
    )
    def test_any_buffer(self, codec, wrap):
        assert codec.parse_header(wrap(self.FRAME)).payload_length == 256

    def test_wide_item_buffer_is_read_as_bytes(self, codec):
        data = array.array("I")  # three 4-byte items
        data.frombytes(self.FRAME)
        assert codec.parse_header(data).payload_length == 256

    def test_mmap(self, codec):
        with mmap.mmap(-1, len(self.FRAME)) as mapped:
            mapped.write(self.FRAME)
            assert codec.parse_header(mapped).payload_length == 256

    @pytest.mark.parametrize("value", ["\x81\x80", 1234, None, [0x81, 0x80]])
    def test_non_buffer_is_a_type_error(self, codec, value):
        with pytest.raises(TypeError, match="must be a bytes-like object"):
            codec.parse_header(value)

    def test_non_contiguous_buffer_is_refused(self, codec):
        with pytest.raises(BufferError, match="contiguous"):
            codec.parse_header(memoryview(self.FRAME * 2)[::2])

    @pytest.mark.parametrize("offset", ["0", 1.0, None])
    def test_offset_must_be_an_integer(self, codec, offset):
        with pytest.raises(TypeError):
            codec.parse_header(self.FRAME, offset)

    def test_negative_limit_is_refused(self, codec):
        with pytest.raises(ValueError, match="max_payload_length"):
            codec.parse_header(self.FRAME, max_payload_length=-1)
