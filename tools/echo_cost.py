"""Where an echoed message's time goes inside ``wsframe echo``, in process.

    python tools/echo_cost.py [--size 16] [--messages 200000]

Feeds the echo server's protocol (``wsframe._echo.EchoProtocol``, its
handshake done) one masked client frame per read, as the end-to-end
benchmark's load client sends them, with a transport that only counts its
writes; and, for comparison, the codec alone: the frame decoded by a
``MessageDecoder`` and the echo encoded by ``encode_frame``. The difference
is what the Python layers between them cost per message: the asyncio
protocol, the connection, and the calls between them. No socket, no event
loop turn: the numbers leave out the kernel and asyncio's own read path,
which bench_echo.py includes. Run it from outside the checkout, so the
installed (compiled) package is timed; it prints the backend.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any, Callable

import wsframe
from wsframe import ClientConnection, MessageDecoder, Opcode, Role, encode_frame
from wsframe._echo import EchoConfig, EchoProtocol


class CountingTransport:
    """The part of an asyncio transport the echo protocol uses, writes counted."""

    def __init__(self) -> None:
        self.writes = 0

    def write(self, data: Any) -> None:
        self.writes += 1

    def writelines(self, data: Any) -> None:
        self.writes += 1

    def get_extra_info(self, name: str) -> Any:
        return ("127.0.0.1", 0) if name == "peername" else None

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def close(self) -> None:
        pass

    def abort(self) -> None:
        pass


def per_message(messages: int, step: Callable[[], None]) -> float:
    """Microseconds per call of ``step``, the best of three passes."""
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        for _ in range(messages):
            step()
        best = min(best, time.perf_counter() - started)
    return best / messages * 1e6


async def measure(size: int, messages: int) -> None:
    frame = encode_frame(Opcode.BINARY, b"x" * size, mask=True)
    buffer = memoryview(bytearray(65536))
    protocol = EchoProtocol(EchoConfig(compression=False), set(), buffer)
    transport = CountingTransport()
    protocol.connection_made(transport)  # type: ignore[arg-type]
    client = ClientConnection("ws://127.0.0.1/", compression=None)
    request = b"".join(client.data_to_send())
    buffer[: len(request)] = request
    protocol.buffer_updated(len(request))
    length = len(frame)

    def echo_one() -> None:
        buffer[:length] = frame
        protocol.buffer_updated(length)

    def copy_only() -> None:
        buffer[:length] = frame

    decoder = MessageDecoder(Role.SERVER, max_message_size=None)

    def codec_one() -> None:
        buffer[:length] = frame
        for event in decoder.feed(buffer[:length]):
            encode_frame(Opcode.BINARY, event.data)

    writes_before = transport.writes
    echo = per_message(messages, echo_one)
    assert transport.writes - writes_before == 3 * messages, "every message must be echoed with one write"
    copy = per_message(messages, copy_only)
    codec = per_message(messages, codec_one)
    print(f"backend {wsframe.backend}, {size}-byte binary messages, one per read, {messages:,} per pass")
    print(f"  EchoProtocol, read to write:  {echo - copy:.3f} us per message")
    print(f"  codec alone (decode, encode): {codec - copy:.3f} us per message")
    print(f"  the Python layers between:    {echo - codec:.3f} us per message")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=16, help="payload bytes per message (default: %(default)s)")
    parser.add_argument("--messages", type=int, default=200_000, help="messages per pass (default: %(default)s)")
    arguments = parser.parse_args()
    asyncio.run(measure(arguments.size, arguments.messages))


if __name__ == "__main__":
    main()
