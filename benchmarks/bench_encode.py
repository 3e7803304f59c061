"""Encoding frames, beside the peers: what a server (unmasked) and a client
(masked, with a fresh key per frame) send. Each implementation encodes 10,000
frames per round through its own send path; peers that are not installed are
skipped. picows runs its server send path, which ends in a call to the
transport's ``write`` (see picows_harness.py); ``wsframe-c+write`` makes the
same call after each encode_frame, for a like-for-like ratio. Run with
``pytest benchmarks --benchmark-only -k encode``.
"""

from __future__ import annotations

import asyncio
import importlib
import os
from typing import Callable, Dict, List

import pytest
from peers import available, installed_for, with_dropin

# Each benchmark's time is the median of this many rounds: on a shared machine a
# burst of other load lands in a few rounds, where a median of 5 moved with it.
ROUNDS = 15
COUNT = 10_000
SIZES = [16, 1024, 65536]
Encoder = Callable[[bytes, int], int]


def wsframe_encoder(module_name: str, masked: bool) -> Encoder:
    module = importlib.import_module(module_name)
    encode_frame = module.encode_frame

    def run(payload: bytes, count: int) -> int:
        total = 0
        for _ in range(count):
            total += len(encode_frame(2, payload, mask=masked))
        return total

    return run


def wsframe_encoder_writing(masked: bool) -> Encoder:
    """encode_frame, each frame handed to the same transport ``write`` that picows calls."""
    from picows_harness import transport_writer

    encode_frame = importlib.import_module("wsframe._cframe").encode_frame
    write = transport_writer()

    def run(payload: bytes, count: int) -> int:
        total = 0
        for _ in range(count):
            frame = encode_frame(2, payload, mask=masked)
            write(frame)
            total += len(frame)
        return total

    return run


def websockets_encoder(masked: bool) -> Encoder:
    from websockets.frames import Frame, Opcode

    def run(payload: bytes, count: int) -> int:
        total = 0
        for _ in range(count):
            total += len(Frame(Opcode.BINARY, payload).serialize(mask=masked, extensions=[]))
        return total

    return run


def wsproto_encoder(masked: bool) -> Encoder:
    from wsproto.frame_protocol import FrameProtocol

    protocol = FrameProtocol(client=masked, extensions=[])

    def run(payload: bytes, count: int) -> int:
        total = 0
        for _ in range(count):
            total += len(protocol.send_data(payload, fin=True))
        return total

    return run


class _Transport:
    """Collects what aiohttp's writer sends."""

    def __init__(self) -> None:
        self.sent = 0

    def write(self, data: bytes) -> None:
        self.sent += len(data)

    def writelines(self, lines: List[bytes]) -> None:
        for line in lines:
            self.sent += len(line)

    def is_closing(self) -> bool:
        return False

    def get_write_buffer_size(self) -> int:
        return 0


def aiohttp_encoder(masked: bool) -> Encoder:
    from aiohttp._websocket.writer import WebSocketWriter
    from aiohttp.base_protocol import BaseProtocol
    from aiohttp.http_websocket import WSMsgType

    loop = asyncio.new_event_loop()

    def run(payload: bytes, count: int) -> int:
        transport = _Transport()
        writer = WebSocketWriter(BaseProtocol(loop), transport, use_mask=masked)

        async def send_all() -> None:
            for _ in range(count):
                await writer.send_frame(payload, WSMsgType.BINARY)

        loop.run_until_complete(send_all())
        return transport.sent

    return run


class _TornadoStream:
    """Collects what tornado's protocol writes to its IOStream."""

    def __init__(self) -> None:
        self.sent = 0

    def write(self, data: bytes) -> None:
        self.sent += len(data)


def tornado_encoder(masked: bool) -> Encoder:
    """tornado's send path below ``write_message``: ``WebSocketProtocol13._write_frame``
    (the method the drop-in replaces), writing to a stream that counts bytes,
    as aiohttp's writer writes to a counting transport here."""
    from tornado.websocket import WebSocketProtocol13, _WebSocketParams

    def run(payload: bytes, count: int) -> int:
        protocol = WebSocketProtocol13(None, mask_outgoing=masked, params=_WebSocketParams())  # type: ignore[arg-type]
        protocol.stream = stream = _TornadoStream()  # type: ignore[assignment]
        write_frame = protocol._write_frame
        for _ in range(count):
            write_frame(True, 2, payload)
        return stream.sent

    return run


def copy_bound(payload: bytes, count: int) -> int:
    """The physical bound: one new bytes object per frame, copied from the payload."""
    source = bytearray(payload)
    total = 0
    for _ in range(count):
        total += len(bytes(source))
    return total


def implementations(masked: bool) -> Dict[str, Encoder]:
    candidates: Dict[str, Callable[[], Encoder]] = {
        "wsframe-c": lambda: wsframe_encoder("wsframe._cframe", masked),
        "wsframe-python": lambda: wsframe_encoder("wsframe._pyframe", masked),
        "websockets": lambda: websockets_encoder(masked),
        "websockets+wsframe-dropin": lambda: with_dropin("websockets", lambda: websockets_encoder(masked)),
        "wsproto": lambda: wsproto_encoder(masked),
        "wsproto+wsframe-dropin": lambda: with_dropin("wsproto", lambda: wsproto_encoder(masked)),
        "aiohttp": lambda: aiohttp_encoder(masked),
        "aiohttp+wsframe-dropin": lambda: with_dropin("aiohttp", lambda: aiohttp_encoder(masked)),
        "tornado": lambda: tornado_encoder(masked),
        "tornado+wsframe-dropin": lambda: with_dropin("tornado", lambda: tornado_encoder(masked)),
    }
    if not masked:
        # picows is harnessed as a server, which sends unmasked frames.
        candidates["picows"] = lambda: importlib.import_module("picows_harness").encoder()
        candidates["wsframe-c+write"] = lambda: wsframe_encoder_writing(masked)
    found = available(candidates)
    found["memcpy-bound"] = copy_bound
    return found


ROLES = {"server (unmasked)": implementations(False), "client (masked)": implementations(True)}


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("role", list(ROLES))
@pytest.mark.parametrize("name", sorted(set(ROLES["server (unmasked)"]) | set(ROLES["client (masked)"])))
def bench_encode(benchmark, name, role, size):
    if name not in ROLES[role]:
        pytest.skip(f"{name} is measured for the server role only")
    payload = os.urandom(size)
    benchmark.group = f"encode {role} {size} B"
    benchmark.extra_info["size"] = size * COUNT
    benchmark.extra_info["frames"] = COUNT
    run = ROLES[role][name]
    with installed_for(run):
        sent = benchmark.pedantic(run, args=(payload, COUNT), rounds=ROUNDS, warmup_rounds=1)
    assert sent >= size * COUNT
