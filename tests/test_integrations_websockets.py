"""wsframe's drop-in under websockets: websockets' own tests, and pairs with and without it.

websockets' own tests of the seam the drop-in replaces (frames, the Sans-I/O
protocol, streams, client, server, permessage-deflate, legacy framing), which
its sdist leaves out, come from the tarball of its git tag in
../shared/peer-suites; every test that passes on websockets' code must pass
on wsframe's. End to end, a websockets server (tests/peers/websockets_server.py,
in its own process) and a websockets client exchange text, binary,
fragmented, 16 MiB and compressed messages, pings, and every close path, with
the drop-in on the server, on the client, on both and on neither; every
pairing must see exactly what the plain pair sees.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import socket
import subprocess
import sys
import tarfile
import tempfile
import threading
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest
from helpers import failed_tests, frame, missing_peer, require_peer, run_peer_suite

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




# websockets' own tests -------------------------------------------------------

PEER_SUITES = Path(os.environ.get("WSFRAME_PEER_SUITES", Path(__file__).resolve().parents[2] / "shared" / "peer-suites"))
WEBSOCKETS_SUITE = PEER_SUITES / "websockets-17.0.1-tests.tar.gz"
# The files of websockets' suite that test the seam the drop-in replaces.
SEAM = ["tests/test_frames.py", "tests/test_protocol.py", "tests/test_streams.py", "tests/test_client.py",
        "tests/test_server.py", "tests/extensions/test_permessage_deflate.py", "tests/legacy/test_framing.py"]
# Tests that cannot pass with the drop-in whatever it does, and why (README, "Drop-ins").
NOT_APPLICABLE = {
    f"tests/test_protocol.py::ErrorTests::test_{side}_hits_internal_error_reading_frame": (
        "simulates a bug by patching struct.unpack inside websockets' Frame.parse, which the drop-in's "
        "receive loop does not call; test_an_internal_error_in_the_loop_fails_with_1011 injects one into it")
    for side in ("client", "server")
}


@pytest.fixture(scope="module")
def websockets_suite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """websockets' tests/ at git tag 17.0.1, extracted."""
    require_peer("websockets")
    if not WEBSOCKETS_SUITE.exists():
        missing_peer(f"websockets' test suite is not at {WEBSOCKETS_SUITE} (set WSFRAME_PEER_SUITES to its folder)")
    root = tmp_path_factory.mktemp("websockets-suite")
    with tarfile.open(WEBSOCKETS_SUITE) as archive:
        archive.extractall(root, filter="data") if sys.version_info >= (3, 12) else archive.extractall(root)  # noqa: S202
    [suite] = [path for path in root.iterdir() if (path / "tests").is_dir()]
    return suite


def run_websockets_suite(suite: Path, workdir: Path, mode: str, backend: str = "c") -> Dict[str, Any]:
    return run_peer_suite(suite, workdir / f"{mode}-{backend}.json", "websockets", mode, backend, SEAM)


@pytest.fixture(scope="module")
def websockets_baseline(websockets_suite: Path, tmp_path_factory: pytest.TempPathFactory) -> Dict[str, Any]:
    result = run_websockets_suite(websockets_suite, tmp_path_factory.mktemp("baseline"), "off")
    assert len(result["outcomes"]) > 400, len(result["outcomes"])
    assert result["calls"]["receive loop: websockets' own"] > 100
    return result


@pytest.mark.peer_suite
@pytest.mark.parametrize("backend", ["c", "python"], ids=lambda name: f"backend={name}")
def test_websockets_own_suite_passes_with_the_dropin(
    websockets_suite: Path, websockets_baseline: Dict[str, Any], tmp_path: Path, backend: str
) -> None:
    dropin = run_websockets_suite(websockets_suite, tmp_path, "on", backend)
    own_keys = run_websockets_suite(websockets_suite, tmp_path, "secrets-keys", backend)
    assert set(dropin["outcomes"]) == set(own_keys["outcomes"]) == set(websockets_baseline["outcomes"])
    # wsframe read every frame; websockets' own receive loop never ran.
    for result in (dropin, own_keys):
        assert result["calls"].get("receive loop: websockets' own", 0) == 0, result["calls"]
        assert result["calls"]["receive loop: wsframe's"] > 100, result["calls"]
        assert result["calls"]["frame encoded by wsframe"] > 100, result["calls"]
    baseline_failures = failed_tests(websockets_baseline)
    # With websockets' source of mask keys, every test that passes on
    # websockets' code passes on wsframe's, but the two that cannot apply.
    assert failed_tests(own_keys) - baseline_failures == set(NOT_APPLICABLE)
    # With wsframe's keys, the only others are the tests that pin the key.
    key_pinning = failed_tests(dropin) - baseline_failures - set(NOT_APPLICABLE)
    assert failed_tests(dropin) >= set(NOT_APPLICABLE)
    assert key_pinning, "no test pins the mask key any more: update the README's count"
    print(f"websockets' seam tests: {len(websockets_baseline['outcomes'])}; failing on websockets' own code: "
          f"{len(baseline_failures)}; with the drop-in ({backend}): {len(failed_tests(dropin))} failing, of which "
          f"{len(key_pinning)} pin the mask key and {len(NOT_APPLICABLE)} cannot apply")


def test_an_internal_error_in_the_loop_fails_with_1011(monkeypatch: pytest.MonkeyPatch) -> None:
    # What websockets' two struct.unpack tests check, injected where the drop-in can fail.
    dropin = require_peer("wsframe.integrations.websockets")
    from websockets.frames import CloseCode
    from websockets.protocol import Protocol, Side

    class Broken:
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            pass

        def feed(self, data: Any) -> Any:
            raise RuntimeError("BOOM")

    monkeypatch.setattr(dropin, "FrameDecoder", Broken)
    dropin.install()
    try:
        for side, stream in ((Side.CLIENT, b"\x81\x00"), (Side.SERVER, b"\x81\x80\x00\x00\x00\x00")):
            connection = Protocol(side)
            connection.receive_data(stream)
            assert isinstance(connection.parser_exc, RuntimeError) and str(connection.parser_exc) == "BOOM"
            assert connection.close_sent is not None and connection.close_sent.code == CloseCode.INTERNAL_ERROR
    finally:
        dropin.uninstall()
