"""The reference client (``wsframe client``) against real servers: wsframe's echo
server, websockets' and aiohttp's, with and without compression, on both backends."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Iterator, List, Tuple

import pytest
from conftest import EchoServer, load_backend
from helpers import require_peer

PEERS = Path(__file__).parent / "peers"
LINES = ["hello", "héllo ✓ 😀", "x" * 5000, "compress me " * 400, ""]


def run_client(backend: str, *arguments: str, stdin: str = "", timeout: float = 60,
               **environment: str) -> subprocess.CompletedProcess:
    env = {name: value for name, value in os.environ.items() if name != "WSFRAME_PURE_PYTHON"}
    env.update(environment)
    if backend == "python":
        env["WSFRAME_PURE_PYTHON"] = "1"
    # Run outside the checkout: "python -m" would import the source tree.
    return subprocess.run([sys.executable, "-m", "wsframe", "client", *arguments], input=stdin, text=True,
                          capture_output=True, env=env, cwd=tempfile.gettempdir(), timeout=timeout)


class PeerServer:
    """A peer's echo server script from tests/peers/ that prints ``PORT <n>``."""

    def __init__(self, script: str, *arguments: str) -> None:
        self.process = subprocess.Popen([sys.executable, str(PEERS / script), *arguments], stdout=subprocess.PIPE,
                                        text=True, cwd=tempfile.gettempdir())
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        match = re.match(r"PORT (\d+)", line)
        if match is None:
            self.stop()
            pytest.fail(f"{script} did not start: {line!r}")
        self.url = f"ws://127.0.0.1:{match.group(1)}"

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)
        assert self.process.stdout is not None
        self.process.stdout.close()


@pytest.fixture(params=["c", "python"], ids=lambda name: f"backend={name}")
def client_backend(request: pytest.FixtureRequest) -> str:
    load_backend(request.param)
    return request.param  # type: ignore[no-any-return]


@pytest.fixture(params=["wsframe", "websockets", "aiohttp"])
def server(request: pytest.FixtureRequest) -> Iterator[Tuple[str, str]]:
    """(kind, URL) of an echo server of each kind."""
    if request.param == "wsframe":
        echo = EchoServer("c", "--max-message-size", str(16 << 20))
        yield "wsframe", echo.url
        echo.stop()
        return
    require_peer(request.param)
    peer = PeerServer("websockets_server.py") if request.param == "websockets" else PeerServer("aiohttp_echo.py")
    yield request.param, peer.url + "/echo"
    peer.stop()


@pytest.mark.parametrize("compression", [True, False], ids=["deflate", "plain"])
def test_the_client_talks_to_every_server(client_backend: str, server: Tuple[str, str], compression: bool) -> None:
    kind, url = server
    arguments = [url] if compression else [url, "--no-compression"]
    result = run_client(client_backend, *arguments, stdin="".join(line + "\n" for line in LINES))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:-1] == LINES
    # The server's own echo server answers the handshake; compression when offered.
    expected = "permessage-deflate" if compression else "no compression"
    assert f"connected to {url} ({expected})" in result.stderr, result.stderr


def test_a_refused_handshake_says_so(client_backend: str) -> None:
    echo = EchoServer("c", "--allowed-origin", "https://app.example")
    try:
        result = run_client(client_backend, echo.url, "--origin", "https://evil.example")
    finally:
        echo.stop()
    assert result.returncode == 1
    assert "handshake failed: the server answered 403 Forbidden, not 101 Switching Protocols" in result.stderr


def test_no_server_is_an_error_not_a_traceback(client_backend: str) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = run_client(client_backend, f"ws://127.0.0.1:{port}/")
    assert result.returncode == 1 and f"cannot connect to ws://127.0.0.1:{port}/" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_uri_that_is_not_a_websocket_uri_is_refused(client_backend: str) -> None:
    result = run_client(client_backend, "http://127.0.0.1/")
    assert result.returncode == 2 and "is not a ws:// or wss:// URI" in result.stderr


def test_a_server_that_closes_first_ends_the_client(client_backend: str) -> None:
    require_peer("websockets")
    peer = PeerServer("websockets_server.py")
    try:
        # /close/4000 makes the server close at once with that code.
        result = run_client(client_backend, peer.url + "/close/4000", stdin="")
    finally:
        peer.stop()
    assert result.returncode == 1 and "closed with 4000 server closes" in result.stderr


def test_lines_arrive_in_order_under_many_messages(client_backend: str) -> None:
    echo = EchoServer("c")
    try:
        lines: List[str] = [f"message {n}" for n in range(2000)]
        result = run_client(client_backend, echo.url, stdin="".join(line + "\n" for line in lines))
    finally:
        echo.stop()
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == lines


TLS_SERVER = """
import asyncio, ssl, sys
from websockets.asyncio.server import serve

async def echo(ws):
    async for message in ws:
        await ws.send(message)

async def main():
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(sys.argv[1], sys.argv[2])
    async with serve(echo, "127.0.0.1", 0, ssl=context) as server:
        print(f"PORT {server.sockets[0].getsockname()[1]}", flush=True)
        await server.serve_forever()

asyncio.run(main())
"""


def test_wss_uris_connect_over_tls_with_the_systems_certificates(client_backend: str, tmp_path: Path) -> None:
    require_peer("websockets")
    trustme = require_peer("trustme")
    authority = trustme.CA()
    certificate = authority.issue_cert("localhost")
    certificate.private_key_and_cert_chain_pem.write_to_path(str(tmp_path / "server.pem"))
    authority.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    script = tmp_path / "tls_server.py"
    script.write_text(TLS_SERVER)
    server = subprocess.Popen([sys.executable, str(script), str(tmp_path / "server.pem"), str(tmp_path / "server.pem")],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        port = re.match(r"PORT (\d+)", server.stdout.readline()).group(1)  # type: ignore[union-attr]
        trusted = run_client(client_backend, f"wss://localhost:{port}/", stdin="over TLS\n",
                             SSL_CERT_FILE=str(tmp_path / "ca.pem"))
        untrusted = run_client(client_backend, f"wss://localhost:{port}/")
    finally:
        server.terminate()
        server.wait(10)
    assert trusted.returncode == 0 and trusted.stdout == "over TLS\n", trusted.stderr
    # Without the authority in the trust store, the certificate is refused.
    assert untrusted.returncode == 1 and "CERTIFICATE_VERIFY_FAILED" in untrusted.stderr, untrusted.stderr
