"""Decoding masked client frames into messages, beside the peers.

Streams of messages, one masked frame each, fed in 64 KiB chunks, as a
server reads them from a socket: binary messages (100,000 frames of 16 B,
10,000 of 1 KiB, 100 of 1 MiB) and two streams of 10,000 text messages of
1 KiB (mixed ASCII and multi-byte UTF-8; JSON), which every implementation
validates. Every implementation runs its real receive path, message layer
included; peers that are not installed are skipped. wsproto, websockets,
aiohttp and tornado also run with wsframe's drop-in installed
(``*+wsframe-dropin``). tornado's receive path needs a stream, so it reads
the same chunks from a real socket pair (see ``tornado_receiver``). Run with
``pytest benchmarks --benchmark-only -k decode``.
"""

from __future__ import annotations

import asyncio
import importlib
import os
from typing import Callable, Dict, List, Optional

import pytest
from peers import available, installed_for, with_dropin

KEY = bytes([0x37, 0xFA, 0x21, 0x3D])
CHUNK = 65536
# Each benchmark's time is the median of this many rounds: on a shared machine a
# burst of other load lands in a few rounds, where a median of 5 moved with it.
ROUNDS = 15
STREAMS = {
    "16 B": (16, 100_000),
    "1 KiB": (1024, 10_000),
    "1 MiB": (1 << 20, 100),
    "1 KiB text": (1024, 10_000),
    "1 KiB JSON text": (1024, 10_000),
}


def _about_1_kib(unit: str) -> bytes:
    """``unit`` repeated to 1024 bytes of UTF-8, less a character cut at the end."""
    encoded = unit.encode()
    return (encoded * (1024 // len(encoded) + 1))[:1024].decode("utf-8", "ignore").encode()


# Mixed text: ASCII with 2-, 3- and 4-byte UTF-8 sequences throughout.
MIXED_TEXT = _about_1_kib("WebSocket frame, ünïcödé, 日本語テキスト, emoji 😀🎉. ")
# What most text messages are: JSON, mostly ASCII, the odd accent or emoji.
JSON_TEXT = _about_1_kib('{"user": "Zoë", "room": "général", "text": "see you at 10 🎉", "id": 1234567, "ok": true},')
TEXTS = {"1 KiB text": MIXED_TEXT, "1 KiB JSON text": JSON_TEXT}


def masked_frame(payload: bytes, opcode: int = 2) -> bytes:
    from wsframe import _pyframe

    return _pyframe.encode_frame(opcode, payload, mask=KEY)


def chunks_of(frame_size: int, count: int, text: Optional[bytes] = None) -> List[bytes]:
    """The stream, cut in chunks: ``count`` masked frames of ``text`` (a text
    message) or, without it, of ``frame_size`` random bytes."""
    frame = masked_frame(text, opcode=1) if text is not None else masked_frame(os.urandom(frame_size))
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


def tornado_receiver() -> Callable[[List[bytes]], int]:
    """tornado's receive path through a real IOStream pair.

    tornado's ``WebSocketProtocol13`` reads from an ``IOStream``, not from
    chunks handed to it, so each round opens a socket pair on a fresh
    asyncio loop: one end is a tornado ``IOStream`` read by the protocol's
    own ``_receive_frame_loop``, the other an ``IOStream`` that writes the
    chunks, then a masked close frame. The protocol's handler is the
    smallest one tornado accepts (``_WebSocketDelegate``: it counts
    ``on_message`` calls); the round ends when the loop has handled the close
    and returned. Both runs pay the same socket, loop and handler costs, so
    the ratio of tornado with and without the drop-in understates the
    difference in the receive loop itself."""
    import socket

    from tornado.iostream import IOStream
    from tornado.websocket import WebSocketProtocol13, _WebSocketParams

    close = masked_frame((1000).to_bytes(2, "big"), opcode=8)

    class Delegate:
        def __init__(self) -> None:
            self.messages = 0

        def on_message(self, message: object) -> None:
            self.messages += 1

        def on_ping(self, data: bytes) -> None:
            pass

        def on_pong(self, data: bytes) -> None:
            pass

        def on_ws_connection_close(self, close_code: object = None, close_reason: object = None) -> None:
            pass

        def log_exception(self, kind: object, value: BaseException, traceback: object) -> None:
            raise value

    async def receive(chunks: List[bytes]) -> int:
        ours, theirs = socket.socketpair()
        reader, writer = IOStream(ours), IOStream(theirs)
        delegate = Delegate()
        protocol = WebSocketProtocol13(delegate, mask_outgoing=False,  # type: ignore[arg-type]
                                       params=_WebSocketParams(max_message_size=2**31))
        protocol.stream = reader
        loop = asyncio.ensure_future(protocol._receive_frame_loop())
        for chunk in chunks:
            await writer.write(chunk)
        await writer.write(close)
        await loop
        writer.close()
        return delegate.messages

    def run(chunks: List[bytes]) -> int:
        event_loop = asyncio.new_event_loop()
        try:
            return event_loop.run_until_complete(receive(chunks))
        finally:
            event_loop.close()

    return run


def copy_bound(chunks: List[bytes]) -> int:
    """The physical bound: touching every byte once, as a copy."""
    for chunk in chunks:
        bytearray(chunk)
    return 0


def cpython_utf8_decode(text: bytes, count: int) -> Callable[[List[bytes]], int]:
    """A reference for text streams: CPython's UTF-8 decoder alone turning the
    payloads, already unmasked and split, into str. It bounds every decoder
    that uses it; wsframe-c builds its str without it."""
    payloads = [bytes(text) for _ in range(count)]

    def run(chunks: List[bytes]) -> int:
        for payload in payloads:
            payload.decode("utf-8")
        return 0

    return run


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
        # The drop-in's reader and queue, as aiohttp's server and client get
        # them: compiled (wsframe._caiohttp) with the C backend.
        "aiohttp+wsframe-dropin": lambda: with_dropin("aiohttp", lambda: aiohttp_reader("wsframe.integrations.aiohttp")),
        "tornado": tornado_receiver,
        "tornado+wsframe-dropin": lambda: with_dropin("tornado", tornado_receiver),
        "picows": lambda: importlib.import_module("picows_harness").decoder(),
    }
    found = available(candidates)
    found["memcpy-bound"] = copy_bound
    return found


IMPLEMENTATIONS = implementations()
DECODERS = [name for name in IMPLEMENTATIONS if name != "memcpy-bound"]
_STREAM_CACHE: Dict[str, List[bytes]] = {}


@pytest.mark.parametrize("stream", list(STREAMS))
@pytest.mark.parametrize("name", sorted([*IMPLEMENTATIONS, "cpython-utf8-decode"]))
def bench_decode(benchmark, name, stream):
    frame_size, count = STREAMS[stream]
    text = TEXTS.get(stream)
    if name == "cpython-utf8-decode" and text is None:
        pytest.skip("the UTF-8 decode reference applies to text streams only")
    if stream not in _STREAM_CACHE:
        _STREAM_CACHE[stream] = chunks_of(frame_size, count, text=text)
    chunks = _STREAM_CACHE[stream]
    run = cpython_utf8_decode(text, count) if text and name == "cpython-utf8-decode" else IMPLEMENTATIONS[name]
    benchmark.group = f"decode {stream} frames"
    benchmark.extra_info["size"] = frame_size * count
    benchmark.extra_info["frames"] = count
    with installed_for(run):
        messages = benchmark.pedantic(run, args=(chunks,), rounds=ROUNDS, warmup_rounds=1)
    if name in DECODERS:
        assert messages == count
