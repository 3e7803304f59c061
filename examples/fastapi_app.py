"""A FastAPI application whose WebSockets run on wsframe: uvicorn serves it
with wsframe's ASGI WebSocket protocol, WSFrameProtocol.

Chat rooms: every text message a client sends to /rooms/{room} goes to every
client in that room, the sender included, as "<client number>: <message>".
FastAPI code is unchanged by wsframe; only uvicorn's ``ws`` setting names it.

    python examples/fastapi_app.py 8000
    uvicorn fastapi_app:app --app-dir examples --ws wsframe.integrations.uvicorn:WSFrameProtocol
"""

import itertools
import sys
from typing import Dict, Set

import uvicorn
from fastapi import FastAPI, WebSocket, WebSocketDisconnect

from wsframe.integrations.uvicorn import WSFrameProtocol

app = FastAPI()
rooms: Dict[str, Set[WebSocket]] = {}
numbers = itertools.count(1)


@app.get("/")
async def index() -> Dict[str, str]:
    return {"rooms": "/rooms/{room}", "in use": ", ".join(sorted(rooms)) or "none"}


@app.websocket("/rooms/{room}")
async def chat(websocket: WebSocket, room: str) -> None:
    await websocket.accept()
    number = next(numbers)
    members = rooms.setdefault(room, set())
    members.add(websocket)
    try:
        while True:
            text = await websocket.receive_text()
            for member in list(members):
                await member.send_text(f"{number}: {text}")
    except WebSocketDisconnect:
        pass
    finally:
        members.discard(websocket)
        if not members:
            del rooms[room]


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8000
    # ws_max_size bounds a message (1009 beyond it); wsframe checks it from the frame header.
    uvicorn.run(app, host="127.0.0.1", port=port, ws=WSFrameProtocol, ws_max_size=1 << 20)
