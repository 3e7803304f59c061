"""An aiohttp echo server, optionally on wsframe's drop-in.

Usage: python aiohttp_echo.py [--dropin] [--no-compression] [--port N].
Listens on 127.0.0.1 (port 0: a free one) and prints ``PORT <n> <reader
class>`` once it does. Any path upgrades to a WebSocket with
permessage-deflate on (unless --no-compression) and a 16 MiB message limit,
and echoes text as text and binary as binary until the client closes: the
server Autobahn's fuzzing client is run against, the one the drop-in's
end-to-end tests and wsframe's client talk to, and aiohttp's row of
benchmarks/bench_echo.py.
"""

from __future__ import annotations

import argparse
import asyncio

from aiohttp import WSMsgType, web

MAX_MESSAGE = 16 * 1024 * 1024


COMPRESS = True


async def echo(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse(compress=COMPRESS, max_msg_size=MAX_MESSAGE, autoping=True)
    await ws.prepare(request)
    async for message in ws:
        if message.type is WSMsgType.TEXT:
            await ws.send_str(message.data)
        elif message.type is WSMsgType.BINARY:
            await ws.send_bytes(message.data)
    return ws


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dropin", action="store_true", help="install wsframe's aiohttp drop-in first")
    parser.add_argument("--no-compression", action="store_true", help="decline permessage-deflate")
    parser.add_argument("--port", type=int, default=0)
    arguments = parser.parse_args()
    global COMPRESS
    COMPRESS = not arguments.no_compression
    if arguments.dropin:
        from wsframe.integrations import aiohttp as dropin

        dropin.install()
    from aiohttp import web_ws

    app = web.Application()
    app.router.add_route("GET", "/{path:.*}", echo)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", arguments.port)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    reader = web_ws.WebSocketReader
    print(f"PORT {port} {reader.__module__}.{reader.__qualname__}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
