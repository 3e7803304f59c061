"""mask and mask_inplace: RFC 6455 section 5.3 at every length tail, alignment and key offset."""

from __future__ import annotations

import array
import mmap
import os

import pytest
from helpers import reference_mask

KEY = bytes([0x37, 0xFA, 0x21, 0x3D])
DATA = os.urandom(300)
LARGE_SIZES = [1000, 4095, 4096, 4097, 65535, 65536, 65537, 1 << 20, (1 << 20) + 13]


@pytest.mark.parametrize("offset", range(4))
def test_every_length_up_to_300_at_every_key_offset(codec, offset):
    for length in range(301):
        data = DATA[:length]
        assert codec.mask(data, KEY, offset) == reference_mask(data, KEY, offset), length


@pytest.mark.parametrize("start", range(16))
def test_unaligned_memoryview_slices(codec, start):
    backing = bytearray(DATA)
    for length in (0, 1, 7, 8, 9, 31, 32, 33, 63, 64, 65, 129, 255):
        view = memoryview(backing)[start : start + length]
        for offset in range(4):
            assert codec.mask(view, KEY, offset) == reference_mask(bytes(view), KEY, offset)


@pytest.mark.parametrize("start", range(16))
def test_inplace_on_unaligned_slices_touches_only_the_slice(codec, start):
    for length in (0, 1, 3, 8, 15, 33, 64, 100, 255):
        backing = bytearray(DATA)
        expected = bytearray(DATA)
        expected[start : start + length] = reference_mask(DATA[start : start + length], KEY, 1)
        next_offset = codec.mask_inplace(memoryview(backing)[start : start + length], KEY, 1)
        assert backing == expected, (start, length)
        assert next_offset == (1 + length) % 4


@pytest.mark.parametrize("size", LARGE_SIZES)
def test_large_payloads(codec, size):
    data = os.urandom(size)
    expected = reference_mask(data, KEY, 3)
    assert codec.mask(data, KEY, 3) == expected
    buffer = bytearray(data)
    assert codec.mask_inplace(buffer, KEY, 3) == (3 + size) % 4
    assert buffer == expected


def test_masking_twice_restores_the_data(codec):
    assert codec.mask(codec.mask(DATA, KEY), KEY) == DATA


def test_chunked_inplace_unmask_continues_where_the_last_chunk_stopped(codec):
    payload = bytearray(reference_mask(DATA, KEY))
    view = memoryview(payload)
    offset = 0
    position = 0
    for chunk_size in (1, 2, 3, 5, 7, 11, 13, 64, 200):
        offset = codec.mask_inplace(view[position : position + chunk_size], KEY, offset)
        position += chunk_size
    codec.mask_inplace(view[position:], KEY, offset)
    assert payload == DATA


def test_offset_is_the_position_in_the_payload(codec):
    # Any non-negative offset works: only its value modulo 4 matters.
    assert codec.mask(DATA[5:50], KEY, 5) == reference_mask(DATA, KEY)[5:50]
    assert codec.mask(DATA[:10], KEY, 2**62 + 1) == reference_mask(DATA[:10], KEY, 1)


@pytest.mark.parametrize(
    "make",
    [
        bytearray,
        lambda b: memoryview(bytearray(b)),
        lambda b: array.array("B", b),
    ],
    ids=["bytearray", "memoryview", "array-B"],
)
def test_inplace_on_writable_buffers(codec, make):
    buffer = make(DATA[:101])
    codec.mask_inplace(buffer, KEY)
    assert bytes(buffer) == reference_mask(DATA[:101], KEY)


def test_inplace_on_wide_item_array(codec):
    buffer = array.array("I")
    buffer.frombytes(DATA[:100])
    assert codec.mask_inplace(buffer, KEY, 2) == 2
    assert buffer.tobytes() == reference_mask(DATA[:100], KEY, 2)


def test_inplace_on_mmap(codec):
    with mmap.mmap(-1, 4096) as mapped:
        mapped.write(DATA[:200])
        assert codec.mask_inplace(mapped, KEY, 1) == 1
        assert mapped[:] == reference_mask(DATA[:200] + bytes(4096 - 200), KEY, 1)


@pytest.mark.parametrize("key", [bytearray(KEY), memoryview(KEY), array.array("B", KEY)], ids=["bytearray", "memoryview", "array"])
def test_key_may_be_any_buffer(codec, key):
    assert codec.mask(DATA[:9], key) == reference_mask(DATA[:9], KEY)


@pytest.mark.parametrize("key", [b"", b"abc", b"abcde", bytes(8)])
def test_key_must_be_4_bytes(codec, key):
    with pytest.raises(ValueError, match="mask key must be 4 bytes long"):
        codec.mask(b"data", key)
    with pytest.raises(ValueError, match="mask key must be 4 bytes long"):
        codec.mask_inplace(bytearray(b"data"), key)


@pytest.mark.parametrize("key", ["abcd", 1234, None])
def test_key_must_be_bytes_like(codec, key):
    with pytest.raises(TypeError, match="argument 'key' must be a bytes-like object"):
        codec.mask(b"data", key)


@pytest.mark.parametrize("data", ["text", 12, None])
def test_data_must_be_bytes_like(codec, data):
    with pytest.raises(TypeError, match="argument 'data' must be a bytes-like object"):
        codec.mask(data, KEY)


@pytest.mark.parametrize("buffer", [b"read-only", memoryview(b"read-only")], ids=["bytes", "readonly-view"])
def test_inplace_refuses_read_only_buffers(codec, buffer):
    with pytest.raises(TypeError, match="must be a writable buffer"):
        codec.mask_inplace(buffer, KEY)


def test_non_contiguous_buffers_are_refused(codec):
    with pytest.raises(BufferError, match="contiguous"):
        codec.mask(memoryview(DATA)[::2], KEY)
    with pytest.raises(BufferError, match="contiguous"):
        codec.mask_inplace(memoryview(bytearray(DATA))[::3], KEY)


def test_negative_offset_is_refused(codec):
    with pytest.raises(ValueError, match="must not be negative"):
        codec.mask(b"data", KEY, -1)
    with pytest.raises(ValueError, match="must not be negative"):
        codec.mask_inplace(bytearray(b"data"), KEY, -1)


@pytest.fixture(scope="module")
def kernels(c_codec):
    """The C masking kernels this CPU runs, portable first, widest last."""
    runnable = [name for name, runs in c_codec._mask_kernels() if runs]
    assert runnable[0] == "scalar"
    return runnable


class TestKernels:
    """Each C kernel (portable, SSE2, AVX2, AVX-512, NEON: whichever this CPU runs)
    against the reference at every start alignment, key offset and length tail."""

    def test_the_chosen_kernel_is_the_widest_that_runs(self, c_codec, kernels):
        assert c_codec.MASK_KERNEL.startswith(f"C, {kernels[-1]} ")

    def test_every_alignment_offset_and_tail(self, c_codec, kernels):
        backing = bytearray(os.urandom(64 + 300))
        for kernel in kernels:
            for start in range(64):
                view = memoryview(backing)[start : start + 300]
                for offset in range(4):
                    expected = reference_mask(bytes(view), KEY, offset)
                    for length in range(301):
                        assert c_codec._mask_with(kernel, view[:length], KEY, offset) == expected[:length], (
                            kernel, start, offset, length)

    def test_large_payloads_at_every_destination_alignment_and_key_offset(self, c_codec, kernels):
        # From 512 bytes the wide kernels first bring the destination to a
        # vector boundary: every head length 0-63, with every key offset, from
        # an aligned and an unaligned source.
        backing = os.urandom(1 + 1100)
        for kernel in kernels:
            for source in (memoryview(backing)[:1100], memoryview(backing)[1:]):
                for offset in range(4):
                    expected = reference_mask(bytes(source), KEY, offset)
                    for shift in range(64):
                        for length in (511, 512, 577, 1100):
                            assert c_codec._mask_with(kernel, source[:length], KEY, offset, shift) == (
                                expected[:length]), (kernel, offset, shift, length)

    @pytest.mark.parametrize("size", [1023, 4097, 65536 + 63, (1 << 20) + 255])
    def test_large_payloads_with_tails(self, c_codec, kernels, size):
        data = os.urandom(size)
        expected = reference_mask(data, KEY, 2)
        for kernel in kernels:
            assert c_codec._mask_with(kernel, memoryview(data)[0:], KEY, 2) == expected, kernel
            assert c_codec._mask_with(kernel, memoryview(b"x" + data)[1:], KEY, 2) == expected, kernel


def test_large_masks_let_other_threads_run(c_codec):
    import sys
    import threading

    if not getattr(sys, "_is_gil_enabled", lambda: True)():
        pytest.skip("no GIL on this free-threaded CPython: other threads always run, so there is none to release")
    counter = [0]
    spinning = threading.Event()
    stop = threading.Event()

    def spin():
        spinning.set()
        while not stop.is_set():
            counter[0] += 1

    # With a 1 s switch interval the interpreter never takes the GIL from a
    # thread that holds it for less than that, so right after this thread gets
    # the GIL back the spinner can advance only inside a call that releases it.
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1.0)
    spinner = threading.Thread(target=spin)
    try:
        spinner.start()
        spinning.wait()  # the spinner runs; this thread gets the GIL back within 1 s
        before = counter[0]
        c_codec.mask_inplace(bytearray(1024), KEY)
        small = counter[0] - before
        buffer = bytearray(64 << 20)
        before = counter[0]
        c_codec.mask_inplace(buffer, KEY)
        large = counter[0] - before
    finally:
        stop.set()
        spinner.join()
        sys.setswitchinterval(interval)
    assert small == 0
    assert large > 0
