"""Atheris harness: UTF-8 validation of text messages, against CPython's codec.

The input's bytes, as the payload of a text message split into fragments and
fed in pieces, must be accepted by both backends exactly when CPython's
strict UTF-8 codec accepts them (RFC 3629: no overlongs, no surrogates,
nothing above U+10FFFF), with the same text; when rejected, both raise
1007 from the same feed. The same bytes also go straight through every C
UTF-8 kernel this CPU runs (validation in the same pieces, and the str built
from them), which must agree with the portable one and with CPython. Any other
outcome is a crash.

Run with ``bash fuzz/run.sh`` or
``python fuzz/fuzz_utf8.py -max_total_time=60 fuzz/corpus/utf8``.
"""

from __future__ import annotations

import sys
from typing import Any, List, Tuple

import atheris

with atheris.instrument_imports():
    from wsframe import _pyframe
    from wsframe._errors import InvalidUTF8
    from wsframe._types import Opcode, Role

from wsframe import _cframe  # compiled: compared, not coverage-instrumented

KEY = b"\x37\xfa\x21\x3d"
UTF8_KERNELS = [name for name, runs in _cframe._utf8_kernels() if runs]


def decode(module: Any, stream: bytes, cuts: List[int]) -> Tuple[Any, ...]:
    decoder = module.MessageDecoder(Role.SERVER, max_frame_size=None, max_message_size=None)
    events: List[Any] = []
    start = 0
    for index, cut in enumerate(cuts + [len(stream)]):
        try:
            events.extend(decoder.feed(stream[start:cut]))
        except InvalidUTF8 as exc:
            return ("invalid", index, int(exc.close_code))
        start = cut
    return ("valid", events)


def test_one_input(data: bytes) -> None:
    provider = atheris.FuzzedDataProvider(data)
    fragments = provider.ConsumeIntInRange(1, 4)
    cuts = sorted({provider.ConsumeIntInRange(0, 1 << 12) for _ in range(provider.ConsumeIntInRange(0, 5))})
    payload = provider.ConsumeBytes(provider.remaining_bytes())
    bounds = [len(payload) * index // fragments for index in range(fragments + 1)]
    stream = b"".join(
        _pyframe.encode_frame(Opcode.TEXT if index == 0 else Opcode.CONTINUATION, payload[start:end],
                              fin=index == fragments - 1, mask=KEY)
        for index, (start, end) in enumerate(zip(bounds, bounds[1:]))
    )
    c_result, python_result = decode(_cframe, stream, cuts), decode(_pyframe, stream, cuts)
    if c_result != python_result:
        raise AssertionError(f"backends differ:\nC:      {c_result!r}\nPython: {python_result!r}")
    try:
        expected = payload.decode("utf-8")
    except UnicodeDecodeError:
        expected = None
        assert c_result[0] == "invalid" and c_result[2] == 1007, c_result
    else:
        assert c_result[0] == "valid" and [event.data for event in c_result[1]] == [expected], c_result
    kernel_cuts = [cut for cut in cuts if cut <= len(payload)]
    portable = _cframe._utf8_with("scalar", payload, kernel_cuts)
    assert portable[3] == expected, (portable, expected)
    assert portable[2] == expected, (portable, expected)
    for kernel in UTF8_KERNELS[1:]:
        result = _cframe._utf8_with(kernel, payload, kernel_cuts)
        if result != portable:
            raise AssertionError(f"UTF-8 kernel {kernel} differs:\n{result!r}\nscalar: {portable!r}")


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
