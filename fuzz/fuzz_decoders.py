"""Atheris harness: both backends on arbitrary input must agree, and only refuse.

For one input it runs, on the C extension and on the pure-Python twin:
``parse_header``, ``FrameDecoder`` (whole and chunked) and ``MessageDecoder``
over the input cut into pieces at fuzzer-chosen places, with or without a
``max_events`` (the events each feed returned or its error handed over, what
it kept back, and where a close frame ended the stream), and ``mask``. The
options (role, allowed RSV bits, limits) come from the input's first bytes.
A crash is any exception other than ``ProtocolError`` (a bug in wsframe), or
any difference between the backends' results or errors.

Run it with ``bash fuzz/run.sh`` (all harnesses) or directly:
``python fuzz/fuzz_decoders.py -max_total_time=60 fuzz/corpus/decoders``.
"""

from __future__ import annotations

import sys
from typing import Any, Callable, List, Tuple

import atheris

with atheris.instrument_imports():
    from wsframe import _pyframe
    from wsframe._errors import ProtocolError
    from wsframe._types import Role

from wsframe import _cframe  # compiled: compared, not coverage-instrumented

LIMITS = [None, 0, 1, 125, 126, 1024, 65535, 65536, 1 << 20]


def outcome(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Tuple[Any, ...]:
    try:
        return ("returned", function(*args, **kwargs))
    except ProtocolError as exc:
        return ("raised", type(exc), exc.close_code, exc.reason, exc.events)


def feed_pieces(decoder: Any, stream: bytes, cuts: List[int], max_events: Any = None) -> List[Any]:
    results = []
    start = 0
    for cut in cuts + [len(stream)]:
        data = stream[start:cut]
        while True:
            result = outcome(decoder.feed, data, max_events)
            results.append((result, decoder.undecoded))
            if result[0] == "raised" or not decoder.undecoded:
                break
            data = b""  # drain what max_events kept back
        if result[0] == "raised":
            break
        start = cut
    results.append(("closed", decoder.closed, decoder.bytes_after_close))
    return results


def test_one_input(data: bytes) -> None:
    provider = atheris.FuzzedDataProvider(data)
    role = Role.SERVER if provider.ConsumeBool() else Role.CLIENT
    allowed_rsv = provider.ConsumeIntInRange(0, 7) << 4
    frame_limit = LIMITS[provider.ConsumeIntInRange(0, len(LIMITS) - 1)]
    message_limit = LIMITS[provider.ConsumeIntInRange(0, len(LIMITS) - 1)]
    key = provider.ConsumeBytes(4).ljust(4, b"\0")
    offset = provider.ConsumeIntInRange(0, 7)
    cuts = sorted({provider.ConsumeIntInRange(0, 1 << 16) for _ in range(provider.ConsumeIntInRange(0, 6))})
    max_events = provider.ConsumeIntInRange(0, 3) or None
    stream = provider.ConsumeBytes(provider.remaining_bytes())

    def both(run: Callable[[Any], Any], what: str) -> None:
        c_result, python_result = run(_cframe), run(_pyframe)
        if c_result != python_result:
            raise AssertionError(f"backends differ on {what}:\nC:      {c_result!r}\nPython: {python_result!r}")

    both(lambda m: outcome(m.parse_header, stream, role=role, allowed_rsv=allowed_rsv, max_payload_length=frame_limit), "parse_header")
    both(lambda m: m.mask(stream, key, offset), "mask")
    for chunked in (False, True):
        both(
            lambda m, chunked=chunked: feed_pieces(
                m.FrameDecoder(role, max_frame_size=frame_limit, allowed_rsv=allowed_rsv, chunked=chunked), stream, cuts,
                max_events,
            ),
            f"FrameDecoder(chunked={chunked})",
        )
    both(
        lambda m: feed_pieces(
            m.MessageDecoder(role, max_frame_size=frame_limit, max_message_size=message_limit, allowed_rsv=allowed_rsv),
            stream,
            cuts,
            max_events,
        ),
        "MessageDecoder",
    )


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
