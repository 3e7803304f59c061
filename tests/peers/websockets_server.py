"""A websockets server for the drop-in pair tests, optionally on wsframe.

Usage: python websockets_server.py [--dropin]. Prints ``PORT <n> <module>``
when it listens on 127.0.0.1 (the module whose masking websockets uses), then
one JSON line per finished connection with what the server saw (path,
messages received, close code and reason it got).
The URL path picks the server's part of the conversation: /echo echoes
until the client closes; the others do one thing and close.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import sys

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

BIG = bytes(range(256)) * (1 << 16)  # 16 MiB


def digest(message: object) -> str:
    data = message.encode() if isinstance(message, str) else message
    return f"{type(message).__name__}:{len(data)}:{hashlib.sha256(data).hexdigest()[:16]}"  # type: ignore[arg-type]


async def handler(ws: ServerConnection) -> None:
    path = ws.request.path if ws.request else "?"
    received = []
    try:
        if path == "/fragments":
            await ws.send(["frag", "ment", "ed ✓"])
            await ws.send([b"\x00", b"", b"\x01\x02"])
        elif path == "/big":
            await ws.send(BIG)
        elif path == "/ping":
            await (await ws.ping(b"server ping"))
            await ws.send("pong received")
        elif path.startswith("/close/"):
            await ws.close(int(path.split("/")[2]), "server closes")
        elif path == "/fail":
            raise RuntimeError("handler failed on purpose")
        if path == "/echo":
            async for message in ws:
                received.append(digest(message))
                await ws.send(message)
        else:
            await ws.close(1000, "done")
    except ConnectionClosed:
        pass
    finally:
        print(json.dumps({"path": path, "received": received, "close_code": ws.close_code, "close_reason": ws.close_reason}), flush=True)


async def main() -> None:
    from websockets import frames

    if "--dropin" in sys.argv:
        from wsframe.integrations import websockets as dropin

        dropin.install()
    async with serve(handler, "127.0.0.1", 0, max_size=32 << 20) as server:
        # Which masking function websockets' frame parser calls.
        print(f"PORT {server.sockets[0].getsockname()[1]} {frames.apply_mask.__module__}", flush=True)
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
