"""A plain ASGI WebSocket echo application, for uvicorn with wsframe's protocol.

Echoes every text and binary message; on ``/echo``, the text "close <code>
<reason>" makes it close with that code and reason. ``/subprotocol`` accepts the
client's first subprotocol, and ``/deny`` refuses the handshake with a 403
of its own (``websocket.http.response``).
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable, Dict

Receive = Callable[[], Awaitable[Dict[str, Any]]]
Send = Callable[[Dict[str, Any]], Awaitable[None]]


async def app(scope: Dict[str, Any], receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    assert scope["type"] == "websocket", scope["type"]
    message = await receive()
    assert message["type"] == "websocket.connect"
    if scope["path"] == "/deny":
        await send({"type": "websocket.http.response.start", "status": 403,
                    "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "websocket.http.response.body", "body": b"not here"})
        return
    subprotocols = scope["subprotocols"] if scope["path"] == "/subprotocol" else []
    await send({"type": "websocket.accept", "subprotocol": subprotocols[0] if subprotocols else None,
                "headers": [(b"x-echo", b"wsframe")]})
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            return
        text = message.get("text")
        # On /echo only, so that a plain echo (Autobahn's, on /) echoes
        # every text, one that starts with "close " too.
        if text is not None and text.startswith("close ") and scope["path"] == "/echo":
            _, code, reason = text.split(" ", 2)
            await send({"type": "websocket.close", "code": int(code), "reason": reason})
            continue
        if text is not None:
            await send({"type": "websocket.send", "text": text})
        else:
            await send({"type": "websocket.send", "bytes": message["bytes"]})
