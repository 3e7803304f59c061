"""Parsing one frame header, for each length form, beside the bound.

The bound is ``struct.unpack_from`` of the same fields with no validation: what
reading the bytes costs in Python at all. Run with
``pytest benchmarks --benchmark-only -k header``.
"""

from __future__ import annotations

import importlib
import struct

import pytest

KEY = b"\x37\xfa\x21\x3d"
HEADERS = {
    "7-bit length, masked": bytes([0x82, 0x80 | 125]) + KEY,
    "16-bit length, masked": bytes([0x82, 0x80 | 126, 0x10, 0x00]) + KEY,
    "64-bit length, masked": bytes([0x82, 0x80 | 127]) + (1 << 20).to_bytes(8, "big") + KEY,
}
_FIRST_TWO = struct.Struct("!BB")


def unpack_bound(data: bytes) -> object:
    return _FIRST_TWO.unpack_from(data, 0)


IMPLEMENTATIONS = {"memcpy-bound": unpack_bound}
for _name, _module in (("wsframe-c", "wsframe._cframe"), ("wsframe-python", "wsframe._pyframe")):
    try:
        IMPLEMENTATIONS[_name] = importlib.import_module(_module).parse_header
    except ImportError:
        pass


@pytest.mark.parametrize("form", list(HEADERS))
@pytest.mark.parametrize("name", sorted(IMPLEMENTATIONS))
def bench_parse_header(benchmark, name, form):
    benchmark.group = f"parse header, {form}"
    result = benchmark(IMPLEMENTATIONS[name], HEADERS[form])
    assert result is not None
