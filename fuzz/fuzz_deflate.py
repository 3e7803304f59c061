"""Atheris harness: permessage-deflate negotiation and inflation on arbitrary input.

For one input: the bytes as a Sec-WebSocket-Extensions header go through
``negotiate_deflate`` (which may only decline, or raise NegotiationError)
and, when the server accepts, its response through the client's
``accept_deflate_response``, which must accept it. Then the bytes as a
compressed message, cut into frames, go to both backends' MessageDecoder with
a small inflated-size limit: they must agree, raise nothing but
ProtocolError, and never deliver more than the limit.

Run with ``bash fuzz/run.sh`` or
``python fuzz/fuzz_deflate.py -max_total_time=60 fuzz/corpus/deflate``.
"""

from __future__ import annotations

import sys
from typing import Any, List, Tuple

import atheris

with atheris.instrument_imports():
    from wsframe import _deflate, _pyframe
    from wsframe._errors import ProtocolError
    from wsframe._types import Opcode, Role

from wsframe import _cframe  # compiled: compared, not coverage-instrumented

LIMIT = 4096


def decode(module: Any, stream: bytes, parameters: _deflate.DeflateParameters, cuts: List[int]) -> List[Tuple[Any, ...]]:
    decoder = module.MessageDecoder(Role.CLIENT, max_frame_size=None, max_message_size=LIMIT, deflate=parameters)
    results: List[Tuple[Any, ...]] = []
    start = 0
    for cut in cuts + [len(stream)]:
        error = None
        try:
            events = decoder.feed(stream[start:cut])
        except ProtocolError as exc:
            events, error = exc.events, exc
        for event in events:
            data = getattr(event, "data", b"")
            assert len(data) <= LIMIT, f"delivered {len(data)} bytes past the {LIMIT}-byte limit"
        if error is not None:
            results.append(("raised", type(error), error.close_code, error.reason, events))
            break
        results.append(("returned", events))
        start = cut
    return results


def test_one_input(data: bytes) -> None:
    provider = atheris.FuzzedDataProvider(data)
    header = provider.ConsumeUnicodeNoSurrogates(provider.ConsumeIntInRange(0, 200))
    try:
        agreed = _deflate.negotiate_deflate(header)
    except _deflate.NegotiationError:
        agreed = None
    if agreed is not None:
        response, parameters = agreed
        client_view = _deflate.accept_deflate_response(response, "permessage-deflate; client_max_window_bits")
        assert client_view.server_max_window_bits == parameters.server_max_window_bits

    parameters = _deflate.DeflateParameters(
        server_no_context_takeover=provider.ConsumeBool(), client_no_context_takeover=provider.ConsumeBool()
    )
    frames = provider.ConsumeIntInRange(1, 4)
    text = provider.ConsumeBool()
    cuts = sorted({provider.ConsumeIntInRange(0, 4096) for _ in range(provider.ConsumeIntInRange(0, 4))})
    payload = provider.ConsumeBytes(provider.remaining_bytes())
    # The payload as the server's compressed message(s): RSV1 on each first frame.
    bounds = [len(payload) * index // frames for index in range(frames + 1)]
    stream = b""
    for index, (start, end) in enumerate(zip(bounds, bounds[1:])):
        opcode = (Opcode.TEXT if text else Opcode.BINARY) if index == 0 else Opcode.CONTINUATION
        stream += _pyframe.encode_frame(opcode, payload[start:end], fin=index == frames - 1, rsv1=index == 0)
    stream += stream  # twice: the second message inflates with the first's context
    c_result = decode(_cframe, stream, parameters, cuts)
    python_result = decode(_pyframe, stream, parameters, cuts)
    if c_result != python_result:
        raise AssertionError(f"backends differ:\nC:      {c_result!r}\nPython: {python_result!r}")


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
