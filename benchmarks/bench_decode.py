"""Decoding masked client frames into messages, beside the peers.

Streams of messages, one masked frame each, fed in 64 KiB chunks, as a
server reads them from a socket: binary messages (100,000 frames of 16 B,
10,000 of 1 KiB, 100 of 1 MiB) and 10,000 text messages of 1 KiB of mixed
ASCII and multi-byte UTF-8, which every implementation validates. Every implementation runs its real receive path, message layer
included; peers that are not installed are skipped. wsproto and websockets
also run with wsframe's drop-in installed (``*+wsframe-dropin``). Run with
``pytest benchmarks --benchmark-only -k decode``.
"""

from __future__ import annotations

import asyncio
import importlib
import os
from typing import Callable, Dict, List

import pytest
from peers import available, with_dropin

KEY = bytes([0x37, 0xFA, 0x21, 0x3D])
CHUNK = 65536
STREAMS = {"16 B": (16, 100_000), "1 KiB": (1024, 10_000), "1 MiB": (1 << 20, 100), "1 KiB text": (1024, 10_000)}

# 1 KiB of mixed text: ASCII with 2-, 3- and 4-byte UTF-8 sequences.
_TEXT_UNIT = "WebSocket frame, ünïcödé, 日本語テキスト, emoji 😀🎉. ".encode()
MIXED_TEXT = (_TEXT_UNIT * (1024 // len(_TEXT_UNIT) + 1))[:1024].decode("utf-8", "ignore").encode()


def masked_frame(payload: bytes, opcode: int = 2) -> bytes:
    from wsframe import _pyframe

    return _pyframe.encode_frame(opcode, payload, mask=KEY)


def chunks_of(frame_size: int, count: int, text: bool = False) -> List[bytes]:
    frame = masked_frame(MIXED_TEXT, opcode=1) if text else masked_frame(os.urandom(frame_size))
    stream = frame * count
    return [stream[i : i + CHUNK] for i in range(0, len(stream), CHUNK)]


def wsframe_decoder(module_name: str) -> Callable[[List[bytes]], int]:
    module = importlib.import_module(module_name)

    def run(chunks: List[bytes]) -> int:
        decoder = module.MessageDecoder(max_frame_size=None, max_message_size=None)
        feed = decoder.feed
        return sum(len(feed(chunk)) for chunk in chunks)

    return run


def aiohttp_reader(module_name: str) -> Callable[[List[bytes]], int]:
    reader_module = importlib.import_module(module_name)
    from aiohttp.base_protocol import BaseProtocol

    loop = asyncio.new_event_loop()

    def run(chunks: List[bytes]) -> int:
        # A queue with a limit no stream here reaches, so the reader never
        # stalls; its messages are counted and dropped after every chunk.
        queue = reader_module.WebSocketDataQueue(BaseProtocol(loop), 2**30, loop=loop)
        reader = reader_module.WebSocketReader(queue, 2**30, compress=False, decode_text=True)
        messages = 0
        for chunk in chunks:
            reader.feed_data(chunk)
            while queue._buffer:
                queue._buffer.popleft()
                messages += 1
        return messages

    return run


def websockets_protocol() -> Callable[[List[bytes]], int]:
    from websockets.protocol import Protocol, Side

    def run(chunks: List[bytes]) -> int:
        protocol = Protocol(Side.SERVER, max_size=None)
        messages = 0
        for chunk in chunks:
            protocol.receive_data(chunk)
            messages += len(protocol.events_received())
        return messages

    return run


def wsproto_connection() -> Callable[[List[bytes]], int]:
    from wsproto.connection import Connection, ConnectionType

    def run(chunks: List[bytes]) -> int:
        connection = Connection(ConnectionType.SERVER)
        messages = 0
        for chunk in chunks:
            connection.receive_data(chunk)
            messages += sum(1 for event in connection.events() if event.message_finished)
        return messages

    return run


def copy_bound(chunks: List[bytes]) -> int:
    """The physical bound: touching every byte once, as a copy."""
    for chunk in chunks:
        bytearray(chunk)
    return 0


_TEXT_PAYLOADS = [bytes(MIXED_TEXT) for _ in range(STREAMS["1 KiB text"][1])]


def cpython_utf8_decode(chunks: List[bytes]) -> int:
    """A reference for text streams: CPython's UTF-8 decoder alone turning the
    payloads, already unmasked and split, into str. It bounds every decoder
    that uses it; wsframe-c builds its str without it."""
    for payload in _TEXT_PAYLOADS:
        payload.decode("utf-8")
    return 0


def implementations() -> Dict[str, Callable[[List[bytes]], int]]:
    candidates: Dict[str, Callable[[], Callable[[List[bytes]], int]]] = {
        "wsframe-c": lambda: wsframe_decoder("wsframe._cframe"),
        "wsframe-python": lambda: wsframe_decoder("wsframe._pyframe"),
        "aiohttp-c": lambda: aiohttp_reader("aiohttp._websocket.reader_c"),
        "aiohttp-python": lambda: aiohttp_reader("aiohttp._websocket.reader_py"),
        "websockets": websockets_protocol,
        "wsproto": wsproto_connection,
        "wsproto+wsframe-dropin": lambda: with_dropin("wsproto", wsproto_connection),
        "websockets+wsframe-dropin": lambda: with_dropin("websockets", websockets_protocol),
        "picows": lambda: importlib.import_module("picows_harness").decoder(),
    }
    found = available(candidates)
    found["memcpy-bound"] = copy_bound
    found["cpython-utf8-decode"] = cpython_utf8_decode
    return found


IMPLEMENTATIONS = implementations()
DECODERS = [name for name in IMPLEMENTATIONS if name not in ("memcpy-bound", "cpython-utf8-decode")]
_STREAM_CACHE: Dict[str, List[bytes]] = {}


@pytest.mark.parametrize("stream", list(STREAMS))
@pytest.mark.parametrize("name", sorted(IMPLEMENTATIONS))
def bench_decode(benchmark, name, stream):
    frame_size, count = STREAMS[stream]
    if name == "cpython-utf8-decode" and not stream.endswith("text"):
        pytest.skip("the UTF-8 decode reference applies to text streams only")
    if stream not in _STREAM_CACHE:
        _STREAM_CACHE[stream] = chunks_of(frame_size, count, text=stream.endswith("text"))
    chunks = _STREAM_CACHE[stream]
    benchmark.group = f"decode {stream} frames"
    benchmark.extra_info["size"] = frame_size * count
    benchmark.extra_info["frames"] = count
    messages = benchmark.pedantic(IMPLEMENTATIONS[name], args=(chunks,), rounds=5, warmup_rounds=1)
    if name in DECODERS:
        assert messages == count
