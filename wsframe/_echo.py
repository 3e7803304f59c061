"""The reference echo server: ``wsframe echo`` (or ``python -m wsframe echo``).

An asyncio server that is only I/O: each connection is a
:class:`~wsframe.ServerConnection` fed the bytes its socket reads, whose
events are answered (messages echoed, the request accepted) and whose
output is written back. The connection decides everything the protocol
decides (the handshake, pongs, the closing handshake, failing after a
violation); this module owns the socket, the timers and flow control:

- reading stops while the connection keeps input undecoded
  (``receiving_paused``: its events or its output are over their limits),
  and its output is drained only while the transport is writable, so a
  client that does not read stops being read;
- the handshake, idle and close timeouts bound how long a peer holds a
  connection: a peer that stops reading is cut off after at most the idle
  timeout and then the close timeout.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from typing import Any, Callable, Collection, NamedTuple, Optional, Set

from ._backend import ServerConnection
from ._deflate import DeflateParameters
from ._errors import ProtocolError
from ._events import BinaryMessage, TextMessage
from ._io import write_output
from .handshake import InvalidRequest, Request
from ._types import DEFAULT_MAX_SIZE, CloseCode, State

__all__ = ["EchoConfig", "EchoProtocol", "serve"]

logger = logging.getLogger("wsframe.echo")

_OPEN = State.OPEN

#: The receive buffer the connections read into, one per server.
READ_SIZE = 65536
# Connections the kernel may hold before they are accepted (it caps this at
# net.core.somaxconn). asyncio's default, 100, overflowed when 200 clients
# connected at once, and the kernel reset some of them.
BACKLOG = 1024


class EchoConfig(NamedTuple):
    """Limits and timeouts of the echo server (seconds, bytes)."""

    allowed_origins: Optional[Collection[Optional[str]]] = None
    max_message_size: Optional[int] = DEFAULT_MAX_SIZE
    handshake_timeout: float = 10.0
    idle_timeout: float = 60.0
    close_timeout: float = 5.0
    compression: bool = True


class EchoProtocol(asyncio.BufferedProtocol):
    """One echo connection: a :class:`ServerConnection` between a socket and its own answers."""

    def __init__(self, config: EchoConfig, connections: Set["EchoProtocol"], buffer: memoryview) -> None:
        self.config = config
        self.connections = connections
        self.connection = ServerConnection(
            origins=config.allowed_origins,
            compression=DeflateParameters() if config.compression else None,
            max_message_size=config.max_message_size,
        )
        self.loop = asyncio.get_running_loop()
        self.transport: Any = None
        self.peer = "?"
        # Shared by the server's connections: a read is decoded before
        # buffer_updated() returns, and the connection copies what it keeps,
        # so an idle connection holds no read buffer of its own.
        self.buffer = buffer
        self.reading_paused = False
        self.writing_paused = False
        self.timer: Optional[asyncio.TimerHandle] = None
        self.closing_timer: Optional[asyncio.TimerHandle] = None
        # Idle time is counted in quarters of idle_timeout without a read
        # (a clock read per read would cost the hot path more).
        self.reads = 0
        self.reads_seen = 0
        self.quiet_quarters = 0

    # asyncio.BufferedProtocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        peer = transport.get_extra_info("peername")
        self.peer = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer)
        self.connections.add(self)
        self.timer = self.loop.call_later(self.config.handshake_timeout, self.handshake_timed_out)

    def get_buffer(self, sizehint: int) -> memoryview:
        return self.buffer

    def buffer_updated(self, nbytes: int) -> None:
        self.reads += 1
        self.connection.receive_data(self.buffer[:nbytes])
        self.pump()

    def eof_received(self) -> None:
        self.connection.receive_eof()
        self.pump()

    def connection_lost(self, exc: Optional[Exception]) -> None:
        self.connections.discard(self)
        for timer in (self.timer, self.closing_timer):
            if timer is not None:
                timer.cancel()
        if self.connection.state is not State.CLOSED:
            self.connection.receive_eof()
        logger.debug("%s: connection closed (code %s)", self.peer, self.connection.close_code)

    def pause_writing(self) -> None:
        self.writing_paused = True

    def resume_writing(self) -> None:
        self.writing_paused = False
        self.pump()

    # The connection's events, and its output

    def pump(self) -> None:
        """Answer the connection's events until it has none, then write its output."""
        connection = self.connection
        while True:
            events = connection.events_received()
            progress = bool(events)
            while events:
                can_send = connection.can_send
                accepted = False
                for event in events:
                    if isinstance(event, BinaryMessage):
                        if can_send:
                            connection.send_binary(event.data)
                    elif isinstance(event, TextMessage):
                        if can_send:
                            connection.send_text(event.data)
                    elif isinstance(event, Request):
                        self.accept(event)
                        can_send = connection.can_send
                        accepted = True
                # More events only where it kept input back, or where the
                # accept decoded frames that came with the request.
                if not (accepted or connection.receiving_paused):
                    break
                events = connection.events_received()
            self.flush()
            # Output over the connection's write limit made it keep input
            # back; written now, that input can be decoded.
            if not progress or not connection.receiving_paused or self.writing_paused:
                break
        if connection.state is not _OPEN:
            self.not_open()
        # A client that does not read stops being read: the connection keeps
        # input back once its output passes its limit.
        if connection.receiving_paused is not self.reading_paused:
            self.reading_paused = not self.reading_paused
            if self.reading_paused:
                self.transport.pause_reading()
            else:
                self.transport.resume_reading()

    def not_open(self) -> None:
        """The connection is closing, closed or not yet open: act on it."""
        connection = self.connection
        if connection.close_expected():
            self.finish()
        elif connection.state is not State.CONNECTING and self.closing_timer is None:
            # The closing handshake started: the peer has close_timeout to finish it.
            self.closing_timer = self.loop.call_later(self.config.close_timeout, self.transport.abort)

    def flush(self) -> None:
        if not self.writing_paused:
            output = self.connection.data_to_send()
            if output:
                write_output(self.transport, output)

    def accept(self, request: Request) -> None:
        self.connection.accept()
        logger.debug("%s: %s accepted", self.peer, request.target)
        assert self.timer is not None
        self.timer.cancel()
        self.timer = self.loop.call_later(self.config.idle_timeout / 4, self.idle_check)

    def finish(self) -> None:
        """The connection is over: log why, if it failed, and close TCP (after what is written)."""
        failure = self.connection.failure
        if isinstance(failure, InvalidRequest):
            logger.info("%s: handshake refused: %s", self.peer, failure)
        elif isinstance(failure, ProtocolError):
            logger.info("%s: connection failed: %d %s", self.peer, failure.close_code, failure.reason)
        self.transport.close()

    # Timers

    def handshake_timed_out(self) -> None:
        if self.connection.state is State.CONNECTING:
            logger.info("%s: no upgrade request within %s s", self.peer, self.config.handshake_timeout)
            self.transport.abort()

    def idle_check(self) -> None:
        """Every quarter of idle_timeout: close once four quarters passed without a read."""
        if self.reads != self.reads_seen:
            self.reads_seen = self.reads
            self.quiet_quarters = 0
        else:
            self.quiet_quarters += 1
        if self.quiet_quarters < 4:
            self.timer = self.loop.call_later(self.config.idle_timeout / 4, self.idle_check)
            return
        self.timer = None
        if self.connection.can_send:
            # Start the closing handshake (RFC 6455 section 7.1.2); the
            # client's close frame, or close_timeout, ends it.
            logger.info("%s: idle for %s s, closing", self.peer, self.config.idle_timeout)
            self.connection.send_close(CloseCode.NORMAL_CLOSURE, "idle timeout")
            self.pump()

    def shut_down(self) -> None:
        """The server is stopping: close with 1001 (Going Away)."""
        if self.connection.can_send and self.connection.state is State.OPEN:
            self.connection.send_close(CloseCode.GOING_AWAY, "server shutting down")
            self.pump()
        elif self.connection.state is State.CONNECTING:
            self.transport.abort()


class EchoServer:
    """A running echo server: its asyncio server and its connections."""

    def __init__(self, server: asyncio.AbstractServer, connections: Set[EchoProtocol]) -> None:
        self.server = server
        self.connections = connections

    @property
    def sockets(self) -> Any:
        return self.server.sockets  # type: ignore[attr-defined]

    async def shut_down(self, timeout: float) -> None:
        """Stop accepting, close every connection with 1001 and wait for them (``timeout`` at most)."""
        self.server.close()
        for protocol in list(self.connections):
            protocol.shut_down()
        deadline = asyncio.get_running_loop().time() + timeout
        while self.connections and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.05)
        for protocol in list(self.connections):
            protocol.transport.abort()


async def serve(host: str = "127.0.0.1", port: int = 9001, config: EchoConfig = EchoConfig()) -> EchoServer:
    """Start the echo server on ``host:port``."""
    connections: Set[EchoProtocol] = set()
    buffer = memoryview(bytearray(READ_SIZE))
    server = await asyncio.get_running_loop().create_server(
        lambda: EchoProtocol(config, connections, buffer), host, port, backlog=BACKLOG)
    return EchoServer(server, connections)


def run(host: str, port: int, config: EchoConfig, banner: str = "",
        loop_factory: Optional[Callable[[], asyncio.AbstractEventLoop]] = None) -> None:
    """Serve until interrupted or sent SIGTERM, then close every connection
    with 1001 (the command line's entry); ``loop_factory`` makes the event loop."""

    async def main() -> None:
        echo = await serve(host, port, config)
        for sock in echo.sockets:
            address = sock.getsockname()
            print(f"wsframe echo server on ws://{address[0]}:{address[1]}/{banner}", flush=True)
        stop = asyncio.Event()
        if hasattr(signal, "SIGTERM"):
            try:
                asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
            except NotImplementedError:  # Windows' proactor loop
                pass
        try:
            await stop.wait()
        finally:
            await echo.shut_down(config.close_timeout)

    loop = loop_factory() if loop_factory is not None else asyncio.new_event_loop()
    try:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(main())
    except KeyboardInterrupt:
        pass
    finally:
        asyncio.set_event_loop(None)
        loop.close()
