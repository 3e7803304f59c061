"""picows' and websockets' echo servers for bench_echo.py, each as its library's
users write one (aiohttp's is tests/peers/aiohttp_echo.py).

    python benchmarks/echo_servers.py picows|picows-asyncio|websockets

picows runs on aiofastnet's compiled transports when aiofastnet is installed
(its default, and a dependency of picows 2); picows-asyncio is the same server
on asyncio's own transports, the ones ``wsframe echo --loop asyncio`` uses.

Listens on 127.0.0.1 (a free port, printed as ``PORT <n>``), echoes binary
and text messages, compression off, 1 MiB message limit, on asyncio's own
event loop (as ``wsframe echo --loop asyncio`` runs), until terminated.
"""

from __future__ import annotations

import asyncio
import importlib.util
import sys

LIMIT = 1 << 20


async def picows_server(use_aiofastnet: bool = True) -> None:
    from picows import WSListener, WSMsgType, ws_create_server

    class Echo(WSListener):  # type: ignore[misc]
        def on_ws_frame(self, transport, frame) -> None:  # type: ignore[no-untyped-def]
            if frame.msg_type == WSMsgType.CLOSE:
                transport.send_close(frame.get_close_code(), frame.get_close_message())
                transport.disconnect()
            elif frame.msg_type in (WSMsgType.BINARY, WSMsgType.TEXT):
                transport.send(frame.msg_type, frame.get_payload_as_memoryview())

    # picows delivers frames: the load client sends whole messages, one frame each.
    server = await ws_create_server(lambda request: Echo(), "127.0.0.1", 0, max_frame_size=LIMIT,
                                    use_aiofastnet=use_aiofastnet and importlib.util.find_spec("aiofastnet") is not None)
    print(f"PORT {server.sockets[0].getsockname()[1]}", flush=True)
    await server.serve_forever()


async def websockets_server() -> None:
    from websockets.asyncio.server import serve

    async def echo(ws) -> None:  # type: ignore[no-untyped-def]
        async for message in ws:
            await ws.send(message)

    async with serve(echo, "127.0.0.1", 0, max_size=LIMIT, compression=None) as server:
        print(f"PORT {server.sockets[0].getsockname()[1]}", flush=True)
        await server.serve_forever()


async def picows_asyncio_server() -> None:
    await picows_server(use_aiofastnet=False)


SERVERS = {"picows": picows_server, "picows-asyncio": picows_asyncio_server, "websockets": websockets_server}

if __name__ == "__main__":
    asyncio.run(SERVERS[sys.argv[1]]())
