"""wsframe's drop-in under websockets: pairs with and without it must agree.

websockets' sdist ships no tests, so the proof is end to end: a websockets
server (tests/peers/websockets_server.py, in its own process) and a websockets
client exchange text, binary, fragmented, 16 MiB and compressed messages,
pings, and every close path, with the drop-in on the server, on the client,
on both and on neither; every pairing must see exactly what the plain pair sees.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import json
import random
import re
import socket
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest
from helpers import frame, require_peer

import wsframe

SERVER = Path(__file__).parent / "peers" / "websockets_server.py"


class WebsocketsServer:
    def __init__(self, dropin: bool) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(SERVER)] + (["--dropin"] if dropin else []),
            cwd=tempfile.gettempdir(),
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        match = re.fullmatch(r"PORT (\d+) (\S+)\n", line)
        if match is None:
            self.process.kill()
            pytest.fail(f"websockets server did not start: {line!r}")
        self.port = int(match.group(1))
        masking = match.group(2)
        assert (masking == "wsframe.integrations.websockets") is dropin, masking

    def stop(self, connections: int) -> List[Dict[str, Any]]:
        """Stop it once it reported ``connections`` connections; return those records, sorted."""
        assert self.process.stdout is not None
        records: List[Dict[str, Any]] = []
        reader = threading.Thread(
            target=lambda: records.extend(json.loads(self.process.stdout.readline()) for _ in range(connections)),  # type: ignore[union-attr]
            daemon=True,
        )
        reader.start()
        reader.join(60)
        self.process.terminate()
        self.process.communicate(timeout=30)
        assert len(records) == connections, f"the server reported {len(records)} of {connections} connections"
        return sorted(records, key=json.dumps)


async def conversations(port: int) -> List[Any]:
    """The client's side of every scenario: what it received and how each ended."""
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    sys.path.insert(0, str(SERVER.parent))
    from websockets_server import BIG, digest

    url = f"ws://127.0.0.1:{port}"
    seen: List[Any] = []

    async def finish(ws: Any) -> None:
        try:
            while True:
                seen.append(digest(await ws.recv()))
        except ConnectionClosed:
            pass
        seen.append(("closed", ws.close_code, ws.close_reason))

    async with connect(url + "/echo", max_size=32 << 20) as ws:
        seen.append(("extensions", [extension.name for extension in ws.protocol.extensions]))
        for message in ["héllo ✓", bytes(range(256)), "a" * 65536, random.Random(6455).randbytes(100_000), BIG, ""]:
            await ws.send(message)
            assert await ws.recv() == message
            seen.append(digest(message))
        await ws.send(["frag", "mented"])
        seen.append(digest(await ws.recv()))
        await ws.send([b"\xff", b"\xfe"])
        seen.append(digest(await ws.recv()))
        await asyncio.wait_for(await ws.ping(b"client ping"), 10)
        seen.append("pong")
        await ws.close(4321, "client bye")
    seen.append(("closed", ws.close_code, ws.close_reason))
    for path in ["/fragments", "/big", "/ping", "/close/1001", "/close/4000", "/fail"]:
        async with connect(url + path, max_size=32 << 20) as ws:
            seen.append(path)
            await finish(ws)
    async with connect(url + "/echo", max_size=1024) as ws:
        await ws.send(b"x" * 2048)  # the echo exceeds the client's limit: it sends 1009
        await finish(ws)
    return seen


def raw_violations(port: int) -> List[Tuple[int, bytes]]:
    """Frames no websockets client would send; the server's close frame for each."""
    replies = []
    for stream in [frame(1, b"\xed\xa0\x80"), frame(2, b"x", mask=False), frame(9, b"p", fin=False), frame(3, b"")]:
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        sock.sendall(
            b"GET /echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            assert chunk, "no handshake response"
            data += chunk
        sock.sendall(stream)
        decoder = wsframe.FrameDecoder(wsframe.Role.CLIENT, max_frame_size=None)
        frames = decoder.feed(data.split(b"\r\n\r\n", 1)[1])
        while not frames:
            chunk = sock.recv(65536)
            assert chunk, "the server closed TCP without a close frame"
            frames = decoder.feed(chunk)
        sock.close()
        replies.append((int(frames[0].opcode), frames[0].payload))
    return replies


def transcript(server_dropin: bool, client_dropin: bool) -> Dict[str, Any]:
    dropin = require_peer("wsframe.integrations.websockets")
    server = WebsocketsServer(server_dropin)
    server_side: List[Dict[str, Any]] = []
    try:
        if client_dropin:
            dropin.install()
        try:
            client = asyncio.run(asyncio.wait_for(conversations(server.port), 120))
        finally:
            dropin.uninstall()
        raw = raw_violations(server.port)
    finally:
        # 8 conversations, 4 raw connections.
        server_side = server.stop(connections=12)
    return {"client": client, "server": server_side, "raw": raw}


@pytest.fixture(scope="module")
def plain_transcript() -> Dict[str, Any]:
    return transcript(server_dropin=False, client_dropin=False)


def test_plain_pair_exercises_every_path(plain_transcript: Dict[str, Any]) -> None:
    client = plain_transcript["client"]
    assert ("extensions", ["permessage-deflate"]) in client
    assert ("closed", 4321, "client bye") in client
    assert ("closed", 1001, "server closes") in client
    assert ("closed", 1011, "") in client
    assert "pong" in client
    assert any(record["close_code"] == 1009 for record in plain_transcript["server"])
    assert [(opcode, payload[:2]) for opcode, payload in plain_transcript["raw"]] == [
        (8, (1007).to_bytes(2, "big")),
        (8, (1002).to_bytes(2, "big")),
        (8, (1002).to_bytes(2, "big")),
        (8, (1002).to_bytes(2, "big")),
    ]


@pytest.mark.parametrize(
    "server_dropin, client_dropin", [(True, False), (False, True), (True, True)], ids=["server", "client", "both"]
)
def test_dropin_pair_sees_what_the_plain_pair_sees(
    plain_transcript: Dict[str, Any], server_dropin: bool, client_dropin: bool
) -> None:
    assert transcript(server_dropin, client_dropin) == plain_transcript


def test_dropin_is_really_in_use() -> None:
    dropin = require_peer("wsframe.integrations.websockets")
    from websockets import frames

    dropin.install()
    try:
        assert frames.apply_mask is dropin.apply_mask
        assert frames.Frame.serialize is dropin.serialize
        encoded = frames.Frame(frames.Opcode.TEXT, b"hi").serialize(mask=True)
        assert encoded[:2] == b"\x81\x82" and len(encoded) == 8
        with pytest.raises(ValueError, match="mask must contain 4 bytes"):
            frames.apply_mask(b"data", b"abc")
    finally:
        dropin.uninstall()
    assert frames.apply_mask is not dropin.apply_mask


def test_install_refuses_an_untested_websockets(monkeypatch: pytest.MonkeyPatch) -> None:
    dropin = require_peer("wsframe.integrations.websockets")
    monkeypatch.setattr(importlib.metadata, "version", lambda name: "16.0")
    with pytest.raises(RuntimeError, match=r"tested with websockets 17\.4, and websockets 16\.0 is installed"):
        dropin.install()
    assert not dropin.installed()
