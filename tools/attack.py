#!/usr/bin/env python3
"""Hostile peers against WebSocket servers, as black boxes (issue 21).

Each attack runs against a fresh server process on 127.0.0.1 (a free port),
with raw-socket clients, while a well-behaved client on the same server sends
a small message every 20 ms and waits for its echo. For each attack and server
it records what the server accepted from the attackers, how much its resident
memory grew (VmHWM from /proc, the peak reset before the attack), how long it
held an attacker that went quiet, whether the well-behaved client got every
reply, and that client's p99 round trip. It prints a Markdown table, or JSON.

    python tools/attack.py                                   # every attack, every server
    python tools/attack.py --server wsframe-c --attack ping-flood
    python tools/attack.py --list                            # the attacks and servers
    python tools/attack.py --json > attacks.json
    python tools/attack.py --command 'mine=python my_server.py --port {port}'

Linux only (it reads /proc). Traffic goes to 127.0.0.1 only, every loop is
bounded in time, and every server it starts is stopped before it exits.
tests/test_attacks.py runs the fast cases against ``wsframe echo`` and
asserts the bounds of docs/security.md.
"""

from __future__ import annotations

import argparse
import base64
import collections
import json
import os
import re
import select
import shlex
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Deque, Dict, List, Optional, Sequence, Tuple

ROOT = Path(__file__).resolve().parent.parent
PEERS = ROOT / "tests" / "peers"
HOST = "127.0.0.1"
KEY = b"\x37\xfa\x21\x3d"  # attackers mask with one key: a server cannot tell, nor need it

# The limits every server runs with here (where its command line can set them).
MAX_MESSAGE_SIZE = 16 << 20
IDLE_TIMEOUT = 3.0  # wsframe echo: --idle-timeout and --handshake-timeout
PING_INTERVAL = 2.0  # uvicorn: --ws-ping-interval and --ws-ping-timeout


# --- servers ----------------------------------------------------------------------


@dataclass(frozen=True)
class ServerSpec:
    """How to start one server: its command (``{port}`` is replaced by a free
    port, or it listens on port 0 and prints it: ``port_pattern``)."""

    command: Tuple[str, ...]
    env: Tuple[Tuple[str, str], ...] = ()
    path: str = "/"
    port_pattern: Optional[str] = None
    settings: str = ""


def _wsframe_echo(backend: str) -> ServerSpec:
    flags = ("WSFRAME_PURE_PYTHON", "1") if backend == "python" else ("WSFRAME_REQUIRE_EXTENSION", "1")
    return ServerSpec(
        (sys.executable, "-m", "wsframe", "echo", "--port", "0", "--idle-timeout", str(IDLE_TIMEOUT),
         "--handshake-timeout", str(IDLE_TIMEOUT), "--max-message-size", str(MAX_MESSAGE_SIZE)),
        env=(flags,), port_pattern=r"ws://127\.0\.0\.1:(\d+)/",
        settings=f"idle and handshake timeouts {IDLE_TIMEOUT:g} s, close timeout 5 s, messages up to 16 MiB",
    )


def _uvicorn(ws: str, backend: str = "c") -> ServerSpec:
    env: Tuple[Tuple[str, str], ...] = ()
    if ws.startswith("wsframe"):
        env = (("WSFRAME_PURE_PYTHON", "1"),) if backend == "python" else (("WSFRAME_REQUIRE_EXTENSION", "1"),)
    return ServerSpec(
        (sys.executable, "-m", "uvicorn", "asgi_echo:app", "--app-dir", str(PEERS), "--host", HOST, "--port", "0",
         "--ws", ws, "--ws-max-size", str(MAX_MESSAGE_SIZE), "--ws-ping-interval", str(PING_INTERVAL),
         "--ws-ping-timeout", str(PING_INTERVAL), "--timeout-keep-alive", str(int(IDLE_TIMEOUT)),
         "--no-access-log", "--log-level", "info"),
        env=env, port_pattern=r"Uvicorn running on http://127\.0\.0\.1:(\d+)",
        settings=f"ping interval and timeout {PING_INTERVAL:g} s, keep-alive {IDLE_TIMEOUT:g} s, messages up to 16 MiB",
    )


WSFRAME_UVICORN = "wsframe.integrations.uvicorn:WSFrameProtocol"
SERVERS: Dict[str, ServerSpec] = {
    "wsframe-c": _wsframe_echo("c"),
    "wsframe-python": _wsframe_echo("python"),
    "uvicorn-wsframe-c": _uvicorn(WSFRAME_UVICORN, "c"),
    "uvicorn-wsframe-python": _uvicorn(WSFRAME_UVICORN, "python"),
    "uvicorn-websockets-sansio": _uvicorn("websockets-sansio"),
    "websockets": ServerSpec(
        (sys.executable, str(PEERS / "websockets_server.py")), path="/echo", port_pattern=r"PORT (\d+)",
        settings="websockets' defaults (ping 20 s, close timeout 10 s, open timeout 10 s), messages up to 32 MiB",
    ),
}


def _proc(pid: int, name: str) -> str:
    with open(f"/proc/{pid}/{name}") as file:
        return file.read()


def _status_bytes(pid: int, field_name: str) -> int:
    match = re.search(rf"^{field_name}:\s+(\d+) kB", _proc(pid, "status"), re.M)
    return int(match.group(1)) * 1024 if match else 0


class Server:
    """A running server process; stopped by ``stop()`` (or leaving ``with``)."""

    def __init__(self, name: str, spec: ServerSpec) -> None:
        self.name, self.spec = name, spec
        command = list(spec.command)
        if spec.port_pattern is None:
            self.port = _free_port()
            command = [part.replace("{port}", str(self.port)) for part in command]
        env = {key: value for key, value in os.environ.items()
               if key not in ("WSFRAME_PURE_PYTHON", "WSFRAME_REQUIRE_EXTENSION")}
        env.update(spec.env)
        env["PYTHONUNBUFFERED"] = "1"
        # Not from the checkout: "python -m wsframe" there would import the source tree.
        self.process = subprocess.Popen(command, cwd=tempfile.gettempdir(), env=env, stdin=subprocess.DEVNULL,
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.output: Deque[str] = collections.deque(maxlen=200)
        found = threading.Event()
        self._port_found: Optional[int] = None

        def drain() -> None:
            assert self.process.stdout is not None
            for line in self.process.stdout:
                self.output.append(line.rstrip())
                if spec.port_pattern is not None and not found.is_set():
                    match = re.search(spec.port_pattern, line)
                    if match:
                        self._port_found = int(match.group(1))
                        found.set()
            found.set()

        self._drain = threading.Thread(target=drain, daemon=True)
        self._drain.start()
        if spec.port_pattern is not None:
            found.wait(30)
            if self._port_found is None:
                self.stop()
                raise RuntimeError(f"{name} did not start: {list(self.output)[-5:]}")
            self.port = self._port_found
        deadline = time.monotonic() + 30
        while True:  # listening: a connection is accepted
            try:
                socket.create_connection((HOST, self.port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    self.stop()
                    raise RuntimeError(f"{name} does not listen on {self.port}: {list(self.output)[-5:]}") from None
                time.sleep(0.05)

    @property
    def pid(self) -> int:
        return self.process.pid

    def rss(self) -> int:
        return _status_bytes(self.pid, "VmRSS")

    def reset_peak(self) -> bool:
        """Reset VmHWM to the current RSS (Linux: clear_refs 5); False if not allowed."""
        try:
            with open(f"/proc/{self.pid}/clear_refs", "w") as file:
                file.write("5")
            return True
        except OSError:
            return False

    def peak(self) -> int:
        return _status_bytes(self.pid, "VmHWM")

    def descriptors(self) -> int:
        return len(os.listdir(f"/proc/{self.pid}/fd"))

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._drain.join(5)

    def __enter__(self) -> "Server":
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


# --- the wire ---------------------------------------------------------------------


def _masked(data: bytes) -> bytes:
    stream = (KEY * (len(data) // 4 + 1))[: len(data)]
    return (int.from_bytes(data, "little") ^ int.from_bytes(stream, "little")).to_bytes(len(data), "little")


def client_frame(opcode: int, payload: bytes = b"", *, fin: bool = True, rsv1: bool = False) -> bytes:
    """A masked client frame, built from RFC 6455 section 5.2 (not with wsframe)."""
    first = (0x80 if fin else 0) | (0x40 if rsv1 else 0) | opcode
    length = len(payload)
    if length < 126:
        header = bytes([first, 0x80 | length])
    elif length < 65536:
        header = bytes([first, 0x80 | 126]) + length.to_bytes(2, "big")
    else:
        header = bytes([first, 0x80 | 127]) + length.to_bytes(8, "big")
    return header + KEY + _masked(payload)


TEXT, BINARY, CONTINUATION, CLOSE, PING, PONG = 0x1, 0x2, 0x0, 0x8, 0x9, 0xA


def ws_connect(port: int, path: str = "/", *, extensions: Optional[str] = None, rcvbuf: Optional[int] = None,
               timeout: float = 10.0) -> Tuple[socket.socket, str, bytes]:
    """Open a WebSocket connection (RFC 6455 section 4.1): the socket, the
    response head, and any bytes read past it."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        if rcvbuf is not None:
            # Before connect(): the window the client advertises is set then.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        sock.settimeout(timeout)
        sock.connect((HOST, port))
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [f"GET {path} HTTP/1.1", f"Host: {HOST}:{port}", "Upgrade: websocket", "Connection: Upgrade",
                 f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13"]
        if extensions:
            lines.append(f"Sec-WebSocket-Extensions: {extensions}")
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        received = b""
        while b"\r\n\r\n" not in received:
            chunk = sock.recv(4096)
            if not chunk:
                raise ConnectionError(f"closed during the handshake: {received[:200]!r}")
            received += chunk
        head, _, rest = received.partition(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 101 "):
            raise ConnectionError(f"handshake refused: {head.splitlines()[0]!r}")
        return sock, head.decode("latin-1"), rest
    except BaseException:
        sock.close()
        raise


class FrameReader:
    """Server frames from a socket (unmasked, RFC 6455 section 5.2); only
    the well-behaved client and the bomb's verdict read them."""

    def __init__(self, sock: socket.socket, buffered: bytes = b"") -> None:
        self.sock, self.buffer = sock, bytearray(buffered)

    def _fill(self, size: int) -> None:
        while len(self.buffer) < size:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("the server closed the connection")
            self.buffer += chunk

    def frame(self) -> Tuple[int, bytes]:
        """The next frame's opcode and payload (fragments are not joined: the
        echoes and close frames read here are single frames)."""
        self._fill(2)
        length = self.buffer[1] & 0x7F
        start = 2
        if length == 126:
            self._fill(4)
            length, start = int.from_bytes(self.buffer[2:4], "big"), 4
        elif length == 127:
            self._fill(10)
            length, start = int.from_bytes(self.buffer[2:10], "big"), 10
        self._fill(start + length)
        opcode, payload = self.buffer[0] & 0x0F, bytes(self.buffer[start : start + length])
        del self.buffer[: start + length]
        return opcode, payload


# --- measuring ----------------------------------------------------------------------

_ESTABLISHED = "01"


def server_side_states(server_port: int) -> Dict[int, str]:
    """The TCP state of each connection to ``server_port``, by client port, on
    the server's side (/proc/net/tcp). A server that let go of a connection
    has closed its socket: it is no longer ESTABLISHED (FIN_WAIT1 while the
    kernel still holds unsent data, then gone)."""
    states: Dict[int, str] = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as file:
                next(file)
                for line in file:
                    fields = line.split()
                    local, remote, state = fields[1], fields[2], fields[3]
                    if int(local.rsplit(":", 1)[1], 16) == server_port:
                        states[int(remote.rsplit(":", 1)[1], 16)] = state
        except FileNotFoundError:
            continue
    return states


def wait_until_let_go(server_port: int, client_ports: Sequence[int], since: float, limit: float) -> Optional[float]:
    """Seconds from ``since`` until the server let go of every client port
    (None: some still ESTABLISHED ``limit`` seconds after ``since``)."""
    pending = set(client_ports)
    last = 0.0
    while pending:
        now = time.monotonic()
        states = server_side_states(server_port)
        for port in list(pending):
            if states.get(port) != _ESTABLISHED:
                pending.discard(port)
                last = now - since
        if not pending:
            break
        if now - since > limit:
            return None
        time.sleep(0.05)
    return max(last, 0.0)


class GoodClient(threading.Thread):
    """A well-behaved client: one small text message every ``interval``
    seconds, each waited for (5 s at most), pings answered; its round trips."""

    def __init__(self, port: int, path: str, interval: float = 0.02) -> None:
        super().__init__(daemon=True)
        self.port, self.path, self.interval = port, path, interval
        self.stopping = threading.Event()
        self.sent = 0
        self.replies = 0
        self.round_trips: List[float] = []
        self.error: Optional[str] = None
        self.ready = threading.Event()

    def run(self) -> None:
        try:
            sock, _, rest = ws_connect(self.port, self.path)
        except OSError as exc:
            self.error = f"could not connect: {exc}"
            self.ready.set()
            return
        self.ready.set()
        reader = FrameReader(sock, rest)
        sock.settimeout(5.0)
        try:
            while not self.stopping.is_set():
                message = f"well-behaved {self.sent:08d}".encode()
                started = time.monotonic()
                sock.sendall(client_frame(TEXT, message))
                self.sent += 1
                while True:
                    opcode, payload = reader.frame()
                    if opcode == PING:
                        sock.sendall(client_frame(PONG, payload))
                    elif opcode == CLOSE:
                        raise ConnectionError(f"server closed: {_close_code(payload)}")
                    elif opcode == TEXT and payload == message:
                        break
                self.replies += 1
                self.round_trips.append(time.monotonic() - started)
                self.stopping.wait(self.interval)
        except (OSError, ValueError) as exc:
            self.error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        finally:
            try:
                sock.sendall(client_frame(CLOSE, b"\x03\xe8"))
            except OSError:
                pass
            sock.close()

    def stop(self) -> None:
        self.stopping.set()
        self.join(15)

    def p99_ms(self) -> Optional[float]:
        if not self.round_trips:
            return None
        if len(self.round_trips) < 2:
            return self.round_trips[0] * 1000
        return statistics.quantiles(self.round_trips, n=100, method="inclusive")[98] * 1000


def _close_code(payload: bytes) -> Optional[int]:
    return int.from_bytes(payload[:2], "big") if len(payload) >= 2 else None


# --- attacks ------------------------------------------------------------------------


@dataclass
class Options:
    duration: float = 3.0  # how long a flood lasts
    hold: float = 12.0  # how long to wait, after an attacker goes quiet, for the server to let go
    connections: int = 4  # attacking connections of a flood
    idle_connections: int = 2000
    slowloris_connections: int = 50
    bomb_size: int = 256 << 20  # what the deflate bomb inflates to


@dataclass
class Attempt:
    """What one attack did, before the runner adds the server's side."""

    accepted: int = 0
    connections: int = 1
    held: Optional[float] = None  # seconds the server held a quiet attacker; None: still held at the end
    held_measured: bool = True
    outcome: str = ""
    details: Dict[str, object] = field(default_factory=dict)  # what tests check: close code, status, descriptors


@dataclass
class Result:
    attack: str
    server: str
    accepted_bytes: int
    connections: int
    rss_growth_bytes: int
    rss_growth_per_connection: int
    held_seconds: Optional[float]
    held_limit: Optional[float]
    client_sent: int
    client_replies: int
    client_p99_ms: Optional[float]
    client_error: Optional[str]
    outcome: str
    server_settings: str = ""
    notes: List[str] = field(default_factory=list)
    details: Dict[str, object] = field(default_factory=dict)

    @property
    def client_got_every_reply(self) -> bool:
        return self.client_error is None and self.client_sent > 0 and self.client_replies == self.client_sent


def _flood(socks: Sequence[socket.socket], batch: bytes, duration: float) -> Tuple[int, List[str]]:
    """Write ``batch`` over and over to every socket for ``duration`` seconds,
    never reading: the bytes the kernel took (what the server let in, give
    or take the two sockets' buffers), and how sockets ended early."""
    for sock in socks:
        sock.setblocking(False)
    offsets = {sock: 0 for sock in socks}
    accepted = 0
    ended: List[str] = []
    deadline = time.monotonic() + duration
    live = list(socks)
    while live and time.monotonic() < deadline:
        _, writable, _ = select.select([], live, [], 0.05)
        for sock in writable:
            offset = offsets[sock]
            try:
                sent = sock.send(batch[offset:] if offset else batch)
            except BlockingIOError:
                continue
            except OSError as exc:
                ended.append(type(exc).__name__)
                live.remove(sock)
                continue
            accepted += sent
            offsets[sock] = (offset + sent) % len(batch)
    return accepted, ended


def _ports(socks: Sequence[socket.socket]) -> List[int]:
    return [sock.getsockname()[1] for sock in socks]


def _close_all(socks: Sequence[socket.socket]) -> None:
    for sock in socks:
        try:
            sock.close()
        except OSError:
            pass


def attack_ping_flood(server: Server, options: Options) -> Attempt:
    """125-byte pings, as fast as TCP takes them, from clients that never read
    (4 KiB receive buffer), on several connections at once: a server that
    answers every ping without heeding backpressure queues pongs without end."""
    socks = [ws_connect(server.port, server.spec.path, rcvbuf=4096)[0] for _ in range(options.connections)]
    try:
        ping = client_frame(PING, b"p" * 125)
        accepted, ended = _flood(socks, ping * 512, options.duration)
        quiet = time.monotonic()
        held = wait_until_let_go(server.port, _ports(socks), quiet, options.hold)
        outcome = f"{len(ended)} of {len(socks)} dropped while flooding" if ended else "flood taken to the end"
        return Attempt(accepted, len(socks), held, outcome=outcome)
    finally:
        _close_all(socks)


def attack_slow_reader(server: Server, options: Options) -> Attempt:
    """1 KiB text messages for ``duration`` seconds without reading the
    echoes, then silence with the socket held open: the server's replies
    fill both sockets' buffers, and only a write deadline frees it."""
    sock = ws_connect(server.port, server.spec.path)[0]
    try:
        message = client_frame(TEXT, b"m" * 1024)
        accepted, ended = _flood([sock], message * 64, options.duration)
        quiet = time.monotonic()
        held = wait_until_let_go(server.port, _ports([sock]), quiet, options.hold)
        return Attempt(accepted, 1, held, outcome="dropped while sending" if ended else "sent to the end")
    finally:
        _close_all([sock])


def attack_empty_continuations(server: Server, options: Options) -> Attempt:
    """A 1-byte text fragment, then empty continuation frames as fast as the
    server reads them: an open message that grows by nothing per frame."""
    sock, _, _ = ws_connect(server.port, server.spec.path)
    try:
        sock.sendall(client_frame(TEXT, b"a", fin=False))
        empty = client_frame(CONTINUATION, b"", fin=False)
        accepted, ended = _flood([sock], empty * 10_000, options.duration)
        quiet = time.monotonic()
        held = wait_until_let_go(server.port, _ports([sock]), quiet, options.hold)
        frames = accepted // len(empty)
        return Attempt(accepted, 1, held, outcome=f"{frames:,} empty continuations taken"
                       + ("; dropped while sending" if ended else ""))
    finally:
        _close_all([sock])


def _deflated_zeros(size: int) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunk = bytes(1 << 20)
    parts = [compressor.compress(chunk) for _ in range(size >> 20)]
    parts.append(compressor.flush(zlib.Z_SYNC_FLUSH))
    return b"".join(parts)[:-4]  # RFC 7692 section 7.2.1: the tail removed


def attack_deflate_bomb(server: Server, options: Options) -> Attempt:
    """One compressed binary message that inflates to ``bomb_size`` bytes of
    zeros (about 1/1030 of that on the wire), far past the 16 MiB limit: it
    must be refused with 1009 having inflated at most the limit."""
    bomb = _deflated_zeros(options.bomb_size)
    sock, head, rest = ws_connect(server.port, server.spec.path,
                                  extensions="permessage-deflate; client_max_window_bits")
    try:
        if "permessage-deflate" not in head.lower():
            return Attempt(0, 1, None, held_measured=False, outcome="permessage-deflate declined")
        frame = client_frame(BINARY, bomb, rsv1=True)
        started = time.monotonic()
        outcome = "no close frame"
        close_code: Optional[int] = None
        try:
            sock.sendall(frame)
            accepted = len(frame)
        except OSError as exc:
            accepted = 0
            outcome = f"{type(exc).__name__} while sending, no close frame"
        quiet = time.monotonic()
        reader = FrameReader(sock, rest)
        sock.settimeout(max(options.hold, 1.0))
        try:
            while True:
                opcode, payload = reader.frame()
                if opcode == CLOSE:
                    close_code = _close_code(payload)
                    outcome = f"closed {close_code} after {time.monotonic() - started:.2f} s"
                    break
                if opcode == BINARY:
                    outcome = f"echoed {len(payload):,} bytes: not refused"
                    break
        except socket.timeout:
            outcome = "no answer"
        except OSError as exc:
            outcome = f"{type(exc).__name__} without a close frame"
        held = wait_until_let_go(server.port, _ports([sock]), quiet, options.hold)
        return Attempt(accepted, 1, held, outcome=outcome, details={"close_code": close_code})
    finally:
        _close_all([sock])


def attack_idle_connections(server: Server, options: Options) -> Attempt:
    """``idle_connections`` WebSocket connections opened and left silent: the
    memory and descriptors each costs, and that all come back once closed."""
    before = server.descriptors()
    socks: List[socket.socket] = []
    accepted = 0
    outcome = ""
    try:
        for _ in range(options.idle_connections):
            try:
                socks.append(ws_connect(server.port, server.spec.path)[0])
            except OSError as exc:
                outcome = f"{len(socks)} opened, then {type(exc).__name__}; "
                break
        accepted = len(socks) * 200  # about what each handshake sends
        quiet = time.monotonic()
        held = wait_until_let_go(server.port, _ports(socks), quiet, options.hold)
    finally:
        _close_all(socks)
    deadline = time.monotonic() + 10
    while server.descriptors() > before and time.monotonic() < deadline:
        time.sleep(0.1)
    after = server.descriptors()
    outcome += f"{len(socks)} open; descriptors {before} before, {after} after closing"
    return Attempt(accepted, max(len(socks), 1), held, outcome=outcome,
                   details={"opened": len(socks), "descriptors_before": before, "descriptors_after": after})


def attack_oversized_headers(server: Server, options: Options) -> Attempt:
    """An upgrade request with a 128 KiB header: refuse it (431), unbuffered."""
    sock = socket.create_connection((HOST, server.port), timeout=10)
    try:
        request = (f"GET {server.spec.path} HTTP/1.1\r\nHost: {HOST}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   f"Sec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}\r\nSec-WebSocket-Version: 13\r\n"
                   f"X-Padding: {'a' * (128 << 10)}\r\n\r\n").encode()
        accepted, ended = 0, []
        try:
            sock.sendall(request)
            accepted = len(request)
        except OSError as exc:
            ended.append(type(exc).__name__)
        quiet = time.monotonic()
        try:
            response = sock.recv(4096)
            status = response.split(b"\r\n", 1)[0].decode("latin-1") if response else "closed without a response"
        except OSError as exc:
            status = f"{type(exc).__name__} without a response"
        held = wait_until_let_go(server.port, _ports([sock]), quiet, options.hold)
        match = re.match(r"HTTP/1\.1 (\d{3}) ", status)
        return Attempt(accepted, 1, held, outcome=status + (f" ({ended[0]} while sending)" if ended else ""),
                       details={"status": int(match.group(1)) if match else None})
    finally:
        _close_all([sock])


def attack_slowloris(server: Server, options: Options) -> Attempt:
    """``slowloris_connections`` upgrade requests sent a byte every half
    second, never finished: a handshake deadline must cut them."""
    socks = []
    for _ in range(options.slowloris_connections):
        sock = socket.create_connection((HOST, server.port), timeout=10)
        sock.sendall(f"GET {server.spec.path} HTTP/1.1\r\nHost: {HOST}\r\n".encode())
        socks.append(sock)
    started = time.monotonic()
    accepted = sum(len(f"GET {server.spec.path} HTTP/1.1\r\nHost: {HOST}\r\n") for _ in socks)
    ports = _ports(socks)
    live = list(socks)
    try:
        held: Optional[float] = None
        while time.monotonic() - started <= options.hold:
            states = server_side_states(server.port)
            still = [sock for sock, port in zip(socks, ports) if states.get(port) == _ESTABLISHED]
            if not still:
                held = time.monotonic() - started
                break
            for sock in list(live):
                try:
                    sock.send(b"X")
                    accepted += 1
                except OSError:
                    live.remove(sock)
            time.sleep(0.5)
        return Attempt(accepted, len(socks), held, outcome=f"{len(socks)} requests left unfinished")
    finally:
        _close_all(socks)


ATTACKS: Dict[str, Callable[[Server, Options], Attempt]] = {
    "ping-flood": attack_ping_flood,
    "slow-reader": attack_slow_reader,
    "empty-continuations": attack_empty_continuations,
    "deflate-bomb": attack_deflate_bomb,
    "idle-connections": attack_idle_connections,
    "oversized-headers": attack_oversized_headers,
    "slowloris": attack_slowloris,
}


def run_attack(attack: str, server_name: str, options: Options = Options(),
               spec: Optional[ServerSpec] = None) -> Result:
    """Start the server, run one attack with the well-behaved client beside it, stop the server."""
    spec = spec or SERVERS[server_name]
    with Server(server_name, spec) as server:
        notes: List[str] = []
        warm = GoodClient(server.port, spec.path)  # the first connection's imports and buffers, before measuring
        warm.start()
        time.sleep(0.3)
        warm.stop()
        time.sleep(0.2)
        peak_reset = server.reset_peak()
        if not peak_reset:
            notes.append("VmHWM could not be reset: growth is from RSS samples")
        baseline = server.rss()
        samples = [baseline]
        sampling = threading.Event()

        def sample() -> None:
            while not sampling.wait(0.02):
                try:
                    samples.append(server.rss())
                except OSError:
                    return

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        client = GoodClient(server.port, spec.path)
        client.start()
        client.ready.wait(10)
        try:
            attempt = ATTACKS[attack](server, options)
        finally:
            client.stop()
            sampling.set()
            sampler.join(5)
        peak = max(max(samples), server.peak() if peak_reset else 0)
        if server.process.poll() is not None:
            notes.append(f"the server exited with {server.process.returncode}: {list(server.output)[-3:]}")
        growth = max(peak - baseline, 0)
        return Result(
            attack=attack, server=server_name, accepted_bytes=attempt.accepted, connections=attempt.connections,
            rss_growth_bytes=growth, rss_growth_per_connection=growth // max(attempt.connections, 1),
            held_seconds=attempt.held if attempt.held_measured else None,
            held_limit=options.hold if attempt.held_measured else None,
            client_sent=client.sent, client_replies=client.replies, client_p99_ms=client.p99_ms(),
            client_error=client.error, outcome=attempt.outcome, server_settings=spec.settings, notes=notes,
            details=attempt.details,
        )


# --- report -------------------------------------------------------------------------


def _size(count: int) -> str:
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if count >= 1 << shift:
            return f"{count / (1 << shift):.1f} {unit}"
    return f"{count} B"


def _held(result: Result) -> str:
    if result.held_limit is None:
        return "n/a"
    if result.held_seconds is None:
        return f"> {result.held_limit:g} s (still open)"
    return f"{result.held_seconds:.1f} s"


def markdown(results: Sequence[Result]) -> str:
    lines = [
        "| attack | server | accepted | server RSS growth (per conn.) | held after going quiet | "
        "well-behaved client: replies | its p99 | outcome |",
        "| --- | --- | ---: | ---: | ---: | --- | ---: | --- |",
    ]
    for result in results:
        replies = f"{result.client_replies}/{result.client_sent}"
        replies += " (all)" if result.client_got_every_reply else f" ({result.client_error or 'missing'})"
        p99 = f"{result.client_p99_ms:.1f} ms" if result.client_p99_ms is not None else "n/a"
        growth = _size(result.rss_growth_bytes)
        if result.connections > 1:
            growth += f" ({_size(result.rss_growth_per_connection)})"
        outcome = "; ".join([result.outcome, *result.notes])
        lines.append(f"| {result.attack} | {result.server} | {_size(result.accepted_bytes)} | {growth} | "
                     f"{_held(result)} | {replies} | {p99} | {outcome} |")
    return "\n".join(lines)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--attack", action="append", choices=sorted(ATTACKS), help="run this attack (repeatable; default: all)")
    parser.add_argument("--server", action="append", help=f"against this server (repeatable; default: all of {', '.join(SERVERS)})")
    parser.add_argument("--command", action="append", default=[], metavar="NAME=COMMAND",
                        help="another server: a command line with {port} where its port goes (repeatable)")
    parser.add_argument("--duration", type=float, default=Options.duration, help="seconds each flood lasts (default: %(default)s)")
    parser.add_argument("--hold", type=float, default=Options.hold,
                        help="seconds to wait for the server to let a quiet attacker go (default: %(default)s)")
    parser.add_argument("--connections", type=int, default=Options.connections, help="attacking connections of the ping flood (default: %(default)s)")
    parser.add_argument("--idle-connections", type=int, default=Options.idle_connections, help="default: %(default)s")
    parser.add_argument("--json", action="store_true", help="print JSON instead of the Markdown table")
    parser.add_argument("--save", metavar="PATH", help="also write the results as JSON to PATH")
    parser.add_argument("--list", action="store_true", help="list the attacks and servers, and exit")
    arguments = parser.parse_args(argv)
    servers = dict(SERVERS)
    for entry in arguments.command:
        name, _, command = entry.partition("=")
        servers[name] = ServerSpec(tuple(shlex.split(command)), settings="given on the command line")
    if arguments.list:
        for name, attack in ATTACKS.items():
            print(f"attack {name}: {(attack.__doc__ or '').split(chr(10))[0]}")
        for name, spec in servers.items():
            print(f"server {name}: {shlex.join(spec.command)} ({spec.settings})")
        return 0
    unknown = [name for name in arguments.server or [] if name not in servers]
    if unknown:
        parser.error(f"unknown server {unknown[0]!r}; known: {', '.join(servers)}")
    options = Options(duration=arguments.duration, hold=arguments.hold, connections=arguments.connections,
                      idle_connections=arguments.idle_connections)
    results = []
    for attack in arguments.attack or list(ATTACKS):
        for name in arguments.server or list(servers):
            print(f"{attack} against {name} ...", file=sys.stderr, flush=True)
            try:
                results.append(run_attack(attack, name, options, servers[name]))
            except (OSError, RuntimeError) as exc:
                print(f"  {attack} against {name} could not run: {exc}", file=sys.stderr)
    records = [{**asdict(result), "client_got_every_reply": result.client_got_every_reply} for result in results]
    if arguments.save:
        Path(arguments.save).write_text(json.dumps(records, indent=2) + "\n")
    if arguments.json:
        print(json.dumps(records, indent=2))
    else:
        print(markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
