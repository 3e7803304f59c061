"""picows, driven sans-I/O for the benchmarks.

picows parses and sends frames only inside its asyncio protocol, so this
builds its real server-side WSProtocol over a transport that keeps what is
written, completes the HTTP upgrade, and then feeds bytes through the
protocol's buffered-protocol interface, as asyncio would. picows also wants
the socket (it sets TCP options on it): it gets one end of a connected
loopback pair, which carries no data while decoding.

picows sends a frame straight to the socket when the transport has nothing
buffered, so its send cost would include a kernel write that the in-memory
encoders of the other libraries do not pay. For encoding, the transport here
reports buffered data: picows then builds the frame, copies it into a bytes
object and hands it to ``transport.write`` (its path while the socket is
busy); bench_encode.py times wsframe with the same write call beside it.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import socket
from typing import Any, Callable, List, Optional, Tuple


class _Transport(asyncio.Transport):
    def __init__(self, sockets: Optional[Tuple[socket.socket, socket.socket]]) -> None:
        super().__init__()
        self.sent = 0
        self.buffered = False  # report buffered data, so picows writes here, not to the socket
        self._sockets = sockets

    def write(self, data: Any) -> None:
        self.sent += len(data)

    def writelines(self, items: Any) -> None:
        for item in items:
            self.sent += len(item)

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._sockets[0] if name == "socket" and self._sockets else default

    def is_closing(self) -> bool:
        return False

    def run(self, work: Callable[[], Any]) -> Any:
        """Run ``work`` inside the event loop, which picows needs while it parses and sends."""

        async def inside() -> Any:
            return work()

        return self.loop.run_until_complete(inside())

    def close(self) -> None:
        pass

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def get_write_buffer_size(self) -> int:
        return 1 if self.buffered else 0

    def set_write_buffer_limits(self, high: Optional[int] = None, low: Optional[int] = None) -> None:
        pass


def _loopback_pair() -> Tuple[socket.socket, socket.socket]:
    with socket.create_server(("127.0.0.1", 0)) as server:
        client = socket.create_connection(server.getsockname())
        accepted, _ = server.accept()
    return client, accepted


class PicowsServer:
    """One upgraded picows server connection; ``on_frame`` sees every frame."""

    def __init__(self, on_frame: Callable[[Any], None]) -> None:
        from picows import WSAutoPingStrategy, WSListener
        from picows.picows import WSProtocol

        self.loop = asyncio.new_event_loop()
        self.sockets = _loopback_pair()
        self.transport = _Transport(self.sockets)
        server = self

        class Listener(WSListener):  # type: ignore[misc]
            def on_ws_connected(self, ws_transport: Any) -> None:
                server.ws_transport = ws_transport

            def on_ws_frame(self, ws_transport: Any, frame: Any) -> None:
                on_frame(frame)

        async def start() -> None:
            # picows wants a running event loop from its constructor on.
            self.protocol = WSProtocol(
                None, None, False, lambda request: Listener(), logging.getLogger("picows-bench"), True, 5,
                False, 20, 20, WSAutoPingStrategy.PING_WHEN_IDLE, True, 2**31 - 1, None, 16 * 1024,
            )
            await self._upgrade()

        self.loop.run_until_complete(start())

    async def _upgrade(self) -> None:
        self.protocol.connection_made(self.transport)
        key = base64.b64encode(os.urandom(16))
        self.feed(b"GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  b"Sec-WebSocket-Key: " + key + b"\r\nSec-WebSocket-Version: 13\r\n\r\n")
        await asyncio.sleep(0)

    def feed(self, data: bytes) -> None:
        view = memoryview(data)
        position = 0
        while position < len(data):
            buffer = self.protocol.get_buffer(len(data) - position)
            size = min(len(buffer), len(data) - position)
            if size == 0:
                raise RuntimeError("picows offered no buffer space: it stopped reading")
            buffer[:size] = view[position : position + size]
            self.protocol.buffer_updated(size)
            position += size

    def run(self, work: Callable[[], Any]) -> Any:
        """Run ``work`` inside the event loop, which picows needs while it parses and sends."""

        async def inside() -> Any:
            return work()

        return self.loop.run_until_complete(inside())

    def close(self) -> None:
        for sock in self.sockets:
            sock.close()
        self.loop.close()


def decoder() -> Callable[[List[bytes]], int]:
    """Frames in 64 KiB chunks through picows, each payload turned into bytes or str."""
    from picows import WSMsgType

    def run(chunks: List[bytes]) -> int:
        count = [0]

        def on_frame(frame: Any) -> None:
            if frame.msg_type == WSMsgType.TEXT:
                frame.get_payload_as_utf8_text()
            else:
                frame.get_payload_as_bytes()
            count[0] += 1

        server = PicowsServer(on_frame)
        try:
            server.run(lambda: [server.feed(chunk) for chunk in chunks])
        finally:
            server.close()
        return count[0]

    return run


def encoder() -> Callable[[bytes, int], int]:
    """picows' server send path (unmasked frames): ``count`` frames per call,
    each handed to the transport's ``write``."""
    from picows import WSMsgType

    server = PicowsServer(lambda frame: None)
    server.transport.buffered = True
    send = server.ws_transport.send

    def run(payload: bytes, count: int) -> int:
        before = server.transport.sent

        def send_all() -> None:
            for _ in range(count):
                send(WSMsgType.BINARY, payload)

        server.run(send_all)
        return server.transport.sent - before

    return run


def transport_writer() -> Callable[[bytes], None]:
    """The ``write`` that picows' frames go to here, for encoders timed beside it."""
    return _Transport(None).write
