"""Masking throughput: wsframe's backends beside peers and the memcpy bound.

Run with ``pytest benchmarks --benchmark-only`` (see README). Each group is one
payload size; compare entries within a group as ratios, since this machine's
absolute times drift. Peers that are not installed are skipped.
"""

from __future__ import annotations

import importlib
import os
from typing import Callable, Dict

import pytest

KEY = bytes([0x37, 0xFA, 0x21, 0x3D])
SIZES = [16, 125, 4096, 65536, 1 << 20, 16 << 20]


def _optional(module: str, attribute: str):
    try:
        return getattr(importlib.import_module(module), attribute)
    except (ImportError, AttributeError):
        return None


def _copying_implementations() -> Dict[str, Callable[[bytes], bytes]]:
    from wsframe import _pyframe

    implementations: Dict[str, Callable[[bytes], bytes]] = {}
    cframe_mask = _optional("wsframe._cframe", "mask")
    if cframe_mask is not None:
        implementations["wsframe-c"] = lambda data: cframe_mask(data, KEY)
    implementations["wsframe-python"] = lambda data: _pyframe.mask(data, KEY)
    # The physical bound: copying the bytes without masking them.
    implementations["memcpy-bound"] = bytes
    websockets_mask = _optional("websockets.speedups", "apply_mask")
    if websockets_mask is not None:
        implementations["websockets-c"] = lambda data: websockets_mask(data, KEY)
    websockets_py_mask = _optional("websockets.utils", "apply_mask")
    if websockets_py_mask is not None:
        implementations["websockets-python"] = lambda data: websockets_py_mask(data, KEY)
    wsaccel_masker = _optional("wsaccel.xormask", "XorMaskerSimple")
    if wsaccel_masker is not None:
        implementations["wsaccel"] = lambda data: wsaccel_masker(KEY).process(data)
    return implementations


def _inplace_implementations() -> Dict[str, Callable[[bytearray], object]]:
    from wsframe import _pyframe

    implementations: Dict[str, Callable[[bytearray], object]] = {}
    cframe_mask_inplace = _optional("wsframe._cframe", "mask_inplace")
    if cframe_mask_inplace is not None:
        implementations["wsframe-c"] = lambda buffer: cframe_mask_inplace(buffer, KEY)
    implementations["wsframe-python"] = lambda buffer: _pyframe.mask_inplace(buffer, KEY)
    aiohttp_mask = _optional("aiohttp._websocket.mask", "_websocket_mask_cython")
    if aiohttp_mask is not None:
        implementations["aiohttp-cython"] = lambda buffer: aiohttp_mask(KEY, buffer)
    return implementations


COPYING = _copying_implementations()
INPLACE = _inplace_implementations()


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
