"""The C backend's UTF-8 kernels (wsframe/_utf8.h), each one this CPU runs,
against CPython's strict codec: which bytes are valid (RFC 3629 section 4),
where a stream fed in pieces fails, and the str built from valid UTF-8."""

from __future__ import annotations

import random
from typing import List, Optional, Sequence, Tuple

import pytest
from helpers import viable_utf8_prefix
from hypothesis import given
from hypothesis import strategies as st

# Continuation bytes at the edges of the ranges the RFC 3629 grammar uses,
# and bytes just outside them.
EDGES = (0x00, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xFF)
# One character of each storage class a str can have, and a mix.
CLASSES = {"ascii": "a", "latin-1": "é", "bmp": "日", "astral": "😀", "mixed": "aé日😀"}


@pytest.fixture(scope="module")
def utf8_kernels(c_codec) -> List[str]:
    """The UTF-8 kernels this CPU runs, portable first, widest last."""
    runnable = [name for name, runs in c_codec._utf8_kernels() if runs]
    assert runnable[0] == "scalar"
    return runnable


def first_impossible_byte(data: bytes) -> Optional[int]:
    """The index of the first byte no valid UTF-8 could contain, or None."""
    if viable_utf8_prefix(data):
        return None
    # Viability only ever goes from true to false as bytes are added.
    low, high = 0, len(data) - 1
    while low < high:
        middle = (low + high) // 2
        if viable_utf8_prefix(data[: middle + 1]):
            low = middle + 1
        else:
            high = middle
    return low


def expected(data: bytes, cuts: Sequence[int]) -> Tuple[int, bool, Optional[str]]:
    """(the piece that must fail, or -1; whether the stream ends complete; its text)."""
    bad = first_impossible_byte(data)
    if bad is not None:
        return sum(1 for cut in cuts if cut <= bad), False, None
    try:
        return -1, True, data.decode("utf-8")
    except UnicodeDecodeError:
        return -1, False, None  # a sequence cut short at the end


def decoded_or_none(data: bytes) -> Optional[str]:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def check(c_codec, kernel: str, data: bytes, cuts: Sequence[int] = ()) -> None:
    failed, complete, streamed, whole = c_codec._utf8_with(kernel, data, list(cuts))
    want_failed, want_complete, text = expected(data, cuts)
    assert (failed, complete) == (want_failed, want_complete), (kernel, data, cuts)
    # CPython compares the storage kind of two strs before their characters,
    # so equality also proves the str was built in its canonical form.
    assert streamed == text, (kernel, data, cuts)
    assert whole == text, (kernel, data)


def test_the_chosen_kernel_is_the_widest_that_runs(c_codec, utf8_kernels):
    assert c_codec.UTF8_KERNEL.startswith(f"C, {utf8_kernels[-1]} ")


@pytest.mark.parametrize("position", [0, 30, 31, 63])
def test_every_two_byte_sequence(c_codec, utf8_kernels, position):
    # At 31 and 63 the pair straddles a 32-byte block of the vector kernel.
    prefix = b"a" * position
    for first in range(256):
        for second in range(256):
            data = prefix + bytes((first, second))
            text = decoded_or_none(data)
            for kernel in utf8_kernels:
                assert c_codec._utf8_with(kernel, data)[3] == text, (kernel, data)


@pytest.mark.parametrize("position", [0, 30])
def test_every_lead_with_every_second_byte_and_edge_third(c_codec, utf8_kernels, position):
    prefix = "日".encode() * (position // 3) + b"a" * (position % 3)
    for first in range(0xC0, 0x100):
        for second in range(256):
            for third in EDGES:
                data = prefix + bytes((first, second, third))
                text = decoded_or_none(data)
                for kernel in utf8_kernels:
                    assert c_codec._utf8_with(kernel, data)[3] == text, (kernel, data)


def test_four_byte_leads_with_edge_continuations(c_codec, utf8_kernels):
    for first in range(0xF0, 0x100):
        for second in EDGES:
            for third in EDGES:
                for fourth in EDGES:
                    data = b"ab" + bytes((first, second, third, fourth))
                    for kernel in utf8_kernels:
                        assert c_codec._utf8_with(kernel, data)[3] == decoded_or_none(data), (kernel, data)


@pytest.mark.parametrize("name", list(CLASSES))
def test_every_length_and_every_single_cut(c_codec, utf8_kernels, name):
    # Every length ends somewhere: on a boundary or inside a sequence.
    data = (CLASSES[name] * 40).encode()[:100]
    for kernel in utf8_kernels:
        for length in range(len(data) + 1):
            check(c_codec, kernel, data[:length])
            for cut in range(0, length + 1, 7):
                check(c_codec, kernel, data[:length], [cut])


@pytest.mark.parametrize("bad", [0x80, 0xBF, 0xC0, 0xC1, 0xF5, 0xFF, 0x41])
def test_a_bad_byte_at_every_position(c_codec, utf8_kernels, bad):
    data = ("aé日😀" * 10).encode()[:96]
    for kernel in utf8_kernels:
        for position in range(len(data)):
            corrupted = data[:position] + bytes((bad,)) + data[position + 1 :]
            check(c_codec, kernel, corrupted)
            check(c_codec, kernel, corrupted, [position, position + 1])


@pytest.mark.parametrize("name", list(CLASSES))
@pytest.mark.parametrize("characters", [700, 5000, 300_000])
def test_long_text_of_each_class(c_codec, utf8_kernels, name, characters):
    # Past 2,040 bytes the portable kernel's per-lane counters are folded
    # into the total; the str's size and storage class must still be exact.
    text = (CLASSES[name] * characters)[:characters]
    data = text.encode()
    for kernel in utf8_kernels:
        failed, complete, streamed, whole = c_codec._utf8_with(kernel, data, [len(data) // 3, len(data) // 2])
        assert (failed, complete) == (-1, True)
        assert streamed == text and whole == text


def test_random_mixes_of_every_class(c_codec, utf8_kernels):
    rng = random.Random(6455)
    alphabet = "aZ ~\x00\x7féÿĀ߿ࠀ日\ud7ff\ue000\uffff𐀀😀\U0010ffff"
    for _ in range(300):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 200)))
        data = text.encode("utf-8", "surrogatepass")
        cuts = sorted(rng.randrange(0, len(data) + 1) for _ in range(rng.randrange(0, 4)))
        for kernel in utf8_kernels:
            check(c_codec, kernel, data, cuts)


@given(
    text=st.text(max_size=120),
    mutations=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=3),
    cuts=st.lists(st.integers(0, 10_000), max_size=4),
)
def test_mutated_text_in_pieces(c_codec, utf8_kernels, text, mutations, cuts):
    data = bytearray(text.encode("utf-8", "surrogatepass"))
    for position, value in mutations:
        if data:
            data[position % len(data)] = value
    cut_points = sorted(cut % (len(data) + 1) for cut in cuts)
    for kernel in utf8_kernels:
        check(c_codec, kernel, bytes(data), cut_points)
