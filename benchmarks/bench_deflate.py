"""Compressed echo, beside websockets' permessage-deflate.

A server's work for each message of a compressed conversation: read the
client's masked, compressed frames (fed in 64 KiB chunks), inflate and
validate them, then deflate and frame the reply. JSON-like messages of 1 KiB
(2,000 of them) and 64 KiB (100), context takeover on both sides, zlib
level 6 in both libraries. Run with
``pytest benchmarks --benchmark-only -k deflate``.
"""

from __future__ import annotations

import importlib
import json
import random
from typing import Callable, Dict, List

import pytest
from peers import available

CHUNK = 65536
SIZES = {"1 KiB": (1024, 2000), "64 KiB": (65536, 100)}


def json_message(size: int, seed: int) -> str:
    """A JSON document of about ``size`` bytes, like an API's replies."""
    rng = random.Random(seed)
    items = []
    text = "[]"
    while len(text) < size:
        items.append(
            {
                "id": rng.randrange(10**6),
                "name": rng.choice(["alpha", "beta", "gamma", "delta"]) + str(rng.randrange(1000)),
                "price": round(rng.uniform(1, 500), 2),
                "tags": rng.sample(["new", "sale", "popular", "limited", "eco"], 2),
                "active": rng.random() < 0.5,
            }
        )
        text = json.dumps(items)
    return text[:size].rsplit("},", 1)[0] + "}]"


def client_stream(size: int, count: int) -> List[bytes]:
    """The client's frames, compressed with context takeover, in 64 KiB chunks."""
    import wsframe

    deflater = wsframe.Deflater(wsframe.DeflateParameters(), wsframe.Role.CLIENT)
    stream = b"".join(
        wsframe.encode_frame(wsframe.Opcode.TEXT, deflater.compress(json_message(size, n).encode()), rsv1=True, mask=True)
        for n in range(count)
    )
    return [stream[i : i + CHUNK] for i in range(0, len(stream), CHUNK)]


def wsframe_echo(module_name: str) -> Callable[[List[bytes]], int]:
    import wsframe

    module = importlib.import_module(module_name)

    def run(chunks: List[bytes]) -> int:
        parameters = wsframe.DeflateParameters()
        decoder = module.MessageDecoder(wsframe.Role.SERVER, max_frame_size=None, deflate=parameters)
        deflater = wsframe.Deflater(parameters, wsframe.Role.SERVER)
        encode_frame = module.encode_frame
        sent = 0
        for chunk in chunks:
            for event in decoder.feed(chunk):
                sent += len(encode_frame(1, deflater.compress(event.data.encode()), rsv1=True))
        return sent

    return run


def websockets_echo() -> Callable[[List[bytes]], int]:
    from websockets.extensions.permessage_deflate import PerMessageDeflate
    from websockets.frames import Frame
    from websockets.protocol import Protocol, Side

    def run(chunks: List[bytes]) -> int:
        protocol = Protocol(Side.SERVER, max_size=None)
        protocol.extensions = [PerMessageDeflate(False, False, 15, 15, {"level": 6})]
        sent = 0
        for chunk in chunks:
            protocol.receive_data(chunk)
            for event in protocol.events_received():
                if isinstance(event, Frame):
                    protocol.send_text(event.data)
            sent += sum(len(data) for data in protocol.data_to_send())
        return sent

    return run


IMPLEMENTATIONS: Dict[str, Callable[[List[bytes]], int]] = available(
    {
        "wsframe-c": lambda: wsframe_echo("wsframe._cframe"),
        "wsframe-python": lambda: wsframe_echo("wsframe._pyframe"),
        "websockets": websockets_echo,
    }
)
_STREAMS: Dict[str, List[bytes]] = {}


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("name", sorted(IMPLEMENTATIONS))
def bench_deflate_echo(benchmark, name, size):
    message_size, count = SIZES[size]
    if size not in _STREAMS:
        _STREAMS[size] = client_stream(message_size, count)
    benchmark.group = f"compressed echo, {size} JSON messages"
    benchmark.extra_info["size"] = message_size * count
    benchmark.extra_info["frames"] = count
    sent = benchmark.pedantic(IMPLEMENTATIONS[name], args=(_STREAMS[size],), rounds=5, warmup_rounds=1)
    assert sent > 0
