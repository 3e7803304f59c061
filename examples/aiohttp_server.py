"""An aiohttp server with wsframe under aiohttp's own WebSocket framing:
one install() call at startup, and the application is plain aiohttp.

It answers every text message in capitals and echoes binary ones at /ws,
and serves a page at /.

    python examples/aiohttp_server.py 8080
"""

import asyncio
import sys

from aiohttp import WSMsgType, web

# Imported under another name: "from wsframe.integrations import aiohttp"
# would hide the real aiohttp module behind wsframe's drop-in.
import wsframe.integrations.aiohttp as wsframe_aiohttp


async def index(request: web.Request) -> web.Response:
    return web.Response(text="WebSocket at /ws\n")


async def shout(request: web.Request) -> web.WebSocketResponse:
    websocket = web.WebSocketResponse(max_msg_size=1 << 20)
    await websocket.prepare(request)
    async for message in websocket:
        if message.type is WSMsgType.TEXT:
            await websocket.send_str(message.data.upper())
        elif message.type is WSMsgType.BINARY:
            await websocket.send_bytes(message.data)
    return websocket


def make_app() -> web.Application:
    app = web.Application()
    app.router.add_get("/", index)
    app.router.add_get("/ws", shout)
    return app


async def main(port: int) -> None:
    runner = web.AppRunner(make_app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    bound = runner.addresses[0][1]
    print(f"listening on ws://127.0.0.1:{bound}/ws", flush=True)
    try:
        await asyncio.Event().wait()  # until interrupted
    finally:
        await runner.cleanup()


if __name__ == "__main__":
    # Before any connection: aiohttp's reader and its writer's frame encoding become wsframe's.
    wsframe_aiohttp.install()
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 8080))
