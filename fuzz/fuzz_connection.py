"""Atheris harness: a server connection, its handshake done, fed arbitrary bytes.

Each input is cut into reads and fed to a ``ServerConnection`` on the C
backend (the compiled copy of the connection layer) and to one on the
pure-Python twin (the interpreted copy), both echoing every message: the
events, the bytes they send, their states and failures must be identical
(server frames are unmasked, so the output is deterministic). What they send
must parse as server frames, a failure's close frame must carry the
failure's code, and nothing may follow a close frame. No exception may
escape the connection. Run with ``bash fuzz/run.sh`` or
``python fuzz/fuzz_connection.py -max_total_time=60``.
"""

from __future__ import annotations

import sys
from typing import Any, List, Tuple

import atheris

with atheris.instrument_imports():
    from wsframe import (
        BinaryMessage,
        FrameDecoder,
        Opcode,
        ProtocolError,
        Role,
        Rsv,
        State,
        TextMessage,
        _backend,
        _cframe,
        _pyframe,
    )

REQUEST = (b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
           b"Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n")


def run(codec: Any, reads: List[bytes], max_queue: int, write_limit: int) -> Tuple[Any, ...]:
    saved = _backend.MessageDecoder, _backend.encode_frame
    _backend.MessageDecoder, _backend.encode_frame = codec.MessageDecoder, codec.encode_frame
    try:
        server = _backend.connection_classes(codec).ServerConnection(max_message_size=4096, max_queue=max_queue, write_limit=write_limit)
        server.receive_data(REQUEST)
        server.events_received()
        server.accept()
    finally:
        _backend.MessageDecoder, _backend.encode_frame = saved
    server.data_to_send()
    events: List[Any] = []
    output = b""
    for data in reads:
        server.receive_data(data)
        while batch := server.events_received():
            events += batch
            for event in batch:
                if isinstance(event, TextMessage) and server.can_send:
                    server.send_text(event.data)
                elif isinstance(event, BinaryMessage) and server.can_send:
                    server.send_binary(event.data)
            output += b"".join(server.data_to_send())
        output += b"".join(server.data_to_send())
    failure = server.failure
    failed = (type(failure).__name__, int(failure.close_code), failure.reason) if isinstance(
        failure, ProtocolError) else None
    return events, output, server.state, failed, server.close_expected()


def check(output: bytes, state: State, failed: Any) -> None:
    frames = FrameDecoder(Role.CLIENT, max_frame_size=None, allowed_rsv=Rsv.RSV1).feed(output)
    closes = [index for index, frame in enumerate(frames) if frame.opcode == Opcode.CLOSE]
    assert closes in ([], [len(frames) - 1]), "a frame followed a close frame"
    if failed is not None:
        assert closes and int.from_bytes(frames[-1].payload[:2], "big") == failed[1]
        assert state is State.CLOSED


def test_one_input(data: bytes) -> None:
    provider = atheris.FuzzedDataProvider(data)
    max_queue = provider.ConsumeIntInRange(1, 20)
    write_limit = provider.ConsumeIntInRange(1, 4096)
    cuts = sorted(provider.ConsumeIntInRange(0, 4096) for _ in range(provider.ConsumeIntInRange(0, 6)))
    stream = provider.ConsumeBytes(provider.remaining_bytes())
    bounds = [0, *[min(cut, len(stream)) for cut in cuts], len(stream)]
    reads = [stream[start:end] for start, end in zip(bounds, bounds[1:])]
    c = run(_cframe, reads, max_queue, write_limit)
    python = run(_pyframe, reads, max_queue, write_limit)
    assert c == python, (c, python)
    check(c[1], c[2], c[3])


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
