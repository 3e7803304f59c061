"""Masking throughput: wsframe's backends beside peers and the memcpy bound.

Run with ``pytest benchmarks --benchmark-only`` (see README). Each group is one
payload size; compare entries within a group as ratios, since this machine's
absolute times drift. Peers that are not installed are skipped.
"""

from __future__ import annotations

import importlib
import os
from typing import Any, Callable

import pytest
from peers import available

KEY = bytes([0x37, 0xFA, 0x21, 0x3D])
SIZES = [16, 125, 4096, 65536, 1 << 20, 16 << 20]


def _keyed(module: str, attribute: str, key_first: bool = False) -> Callable[[], Callable[[Any], object]]:
    """A candidate that calls ``module.attribute(data, KEY)`` (or ``(KEY, data)``)."""

    def make() -> Callable[[Any], object]:
        function = getattr(importlib.import_module(module), attribute)
        if key_first:
            return lambda data: function(KEY, data)
        return lambda data: function(data, KEY)

    return make


def _wsaccel() -> Callable[[Any], object]:
    masker = importlib.import_module("wsaccel.xormask").XorMaskerSimple
    return lambda data: masker(KEY).process(data)


COPYING = available({
    "wsframe-c": _keyed("wsframe._cframe", "mask"),
    "wsframe-python": _keyed("wsframe._pyframe", "mask"),
    "websockets-c": _keyed("websockets.speedups", "apply_mask"),
    "websockets-python": _keyed("websockets.utils", "apply_mask"),
    "wsaccel": _wsaccel,
})
# The physical bound: copying the bytes without masking them, called through a
# lambda as every masker above is, so per-call overhead is alike in the group.
COPYING["memcpy-bound"] = lambda data: bytes(data)
INPLACE = available({
    "wsframe-c": _keyed("wsframe._cframe", "mask_inplace"),
    "wsframe-python": _keyed("wsframe._pyframe", "mask_inplace"),
    "aiohttp-cython": _keyed("aiohttp._websocket.mask", "_websocket_mask_cython", key_first=True),
})


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("name", sorted(COPYING))
def bench_mask_copy(benchmark, name, size):
    data = bytearray(os.urandom(size))
    benchmark.group = f"mask (copy) {size} B"
    benchmark.extra_info["size"] = size
    result = benchmark(COPYING[name], data)
    assert len(result) == size


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("name", sorted(INPLACE))
def bench_mask_inplace(benchmark, name, size):
    buffer = bytearray(os.urandom(size))
    benchmark.group = f"mask (in place) {size} B"
    benchmark.extra_info["size"] = size
    benchmark(INPLACE[name], buffer)
