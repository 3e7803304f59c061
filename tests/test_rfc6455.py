"""The protocol's numbers: _rfc6455.py and its Cython twin _rfc6455.pxd agree,
and the header length both backends encode is the one _rfc6455 computes."""

from __future__ import annotations

import re
from pathlib import Path
from types import ModuleType

import pytest

from wsframe import Role, _rfc6455

PXD = Path(_rfc6455.__file__).with_suffix(".pxd")


def pxd_constants() -> dict:
    text = PXD.read_text()
    constants = {name: int(value, 0) for name, value in re.findall(r"^    ([A-Z][A-Z0-9_]*) = (0x[0-9A-Fa-f]+|\d+)$",
                                                                   text, re.MULTILINE)}
    for name, value in re.findall(r"#define WSFRAME_([A-Z0-9_]+) \(\(uint64_t\)(0x[0-9A-Fa-f]+)ull\)", text):
        constants[name] = int(value, 0)
    return constants


@pytest.mark.skipif(not PXD.exists(), reason="the .pxd ships in the sdist and the checkout, not in wheels")
def test_pxd_states_every_number_of_the_python_module_with_the_same_value() -> None:
    python = {name: getattr(_rfc6455, name) for name in _rfc6455.__all__ if isinstance(getattr(_rfc6455, name), int)}
    assert pxd_constants() == python


def test_values_are_the_rfcs() -> None:
    # RFC 6455 section 5.2's header layout and section 5.5's control-frame limit.
    assert (_rfc6455.FIN, _rfc6455.RSV1, _rfc6455.RSV2, _rfc6455.RSV3) == (0x80, 0x40, 0x20, 0x10)
    assert (_rfc6455.OP_TEXT, _rfc6455.OP_BINARY, _rfc6455.OP_CLOSE, _rfc6455.OP_PING, _rfc6455.OP_PONG) == (
        1, 2, 8, 9, 10)
    assert _rfc6455.MAX_CONTROL_PAYLOAD_LENGTH == 125
    assert _rfc6455.MAX_PAYLOAD_LENGTH == 2**63 - 1
    assert _rfc6455.WEBSOCKET_GUID == "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("payload_length", [0, 1, 125, 126, 127, 65535, 65536, 2**32, 2**63 - 1])
def test_both_backends_encode_the_header_length_rfc6455_computes(
    codec: ModuleType, payload_length: int, masked: bool
) -> None:
    header = codec.encode_header(2, payload_length, mask_key=b"\x01\x02\x03\x04" if masked else None)
    assert len(header) == _rfc6455.header_length(payload_length, masked)
    parsed = codec.parse_header(header, role=Role.SERVER if masked else Role.CLIENT)
    assert parsed.header_length == len(header)
