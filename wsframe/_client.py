"""The reference client: ``wsframe client ws://HOST:PORT/PATH``.

Sends each line of its standard input as a text message and prints every
message the server sends, until the server closes, or its input has ended
and no message came for ``linger`` seconds (then it closes with 1000). An asyncio protocol that is only I/O over a
:class:`~wsframe.ClientConnection`, as the echo server is over a
:class:`~wsframe.ServerConnection`: the connection makes the request,
checks the answer, masks, answers pings and closes; this module owns the
socket, the close timeout and flow control (reading stops while messages
wait to be printed).
"""

from __future__ import annotations

import asyncio
import ssl
import sys
import threading
from typing import Any, Optional, Sequence, Union

from ._backend import ClientConnection
from ._connection import DEFAULT_DEFLATE_OFFER, State
from ._events import BinaryMessage, TextMessage
from ._io import write_output
from .handshake import Response, parse_uri

__all__ = ["ClientProtocol", "connect", "run"]

#: Messages received and not yet taken by the application, past which the
#: client stops reading the socket.
MAX_WAITING = 16


class ClientProtocol(asyncio.Protocol):
    """An asyncio protocol over a :class:`ClientConnection`."""

    def __init__(self, connection: ClientConnection, close_timeout: float = 5.0) -> None:
        self.connection = connection
        self.close_timeout = close_timeout
        loop = asyncio.get_running_loop()
        self.loop = loop
        self.opened: "asyncio.Future[Response]" = loop.create_future()
        self.closed: "asyncio.Future[None]" = loop.create_future()
        self.messages: "asyncio.Queue[Optional[Union[TextMessage, BinaryMessage]]]" = asyncio.Queue()
        self.last_message_at = loop.time()
        self.transport: Any = None
        self.reading_paused = False
        self.closing_timer: Optional[asyncio.TimerHandle] = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        self.pump()  # the upgrade request

    def data_received(self, data: bytes) -> None:
        self.connection.receive_data(data)
        self.pump()

    def eof_received(self) -> None:
        self.connection.receive_eof()
        self.pump()

    def connection_lost(self, exc: Optional[Exception]) -> None:
        if self.closing_timer is not None:
            self.closing_timer.cancel()
        if self.connection.state is not State.CLOSED:
            self.connection.receive_eof()
        if not self.opened.done():
            self.opened.set_exception(self.connection.failure or ConnectionError("connection lost"))
        self.messages.put_nowait(None)
        if not self.closed.done():
            self.closed.set_result(None)

    def pump(self) -> None:
        connection = self.connection
        self.flush()
        while self.messages.qsize() < MAX_WAITING:
            events = connection.events_received()
            if not events:
                break
            for event in events:
                if isinstance(event, (TextMessage, BinaryMessage)):
                    self.messages.put_nowait(event)
                    self.last_message_at = self.loop.time()
                elif isinstance(event, Response):
                    self.opened.set_result(event)
            self.flush()
        if connection.state is State.CLOSED and connection.failure is not None and not self.opened.done():
            self.opened.set_exception(connection.failure)
        if connection.close_expected():
            self.transport.close()
        elif connection.state in (State.CLOSING, State.CLOSED) and self.closing_timer is None:
            # RFC 6455 section 7.1.1: the server closes TCP first; if it
            # does not within close_timeout, the client does.
            self.closing_timer = self.loop.call_later(self.close_timeout, self.transport.abort)
        paused = connection.receiving_paused or self.messages.qsize() >= MAX_WAITING
        if paused != self.reading_paused:
            self.reading_paused = paused
            if paused:
                self.transport.pause_reading()
            else:
                self.transport.resume_reading()

    def flush(self) -> None:
        output = self.connection.data_to_send()
        if output:
            write_output(self.transport, output)

    async def recv(self) -> Optional[Union[TextMessage, BinaryMessage]]:
        """The next message, or ``None`` once the connection is over."""
        message = await self.messages.get()
        self.pump()
        return message

    def send(self, message: Union[str, bytes]) -> None:
        if isinstance(message, str):
            self.connection.send_text(message)
        else:
            self.connection.send_binary(message)
        self.pump()

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Start the closing handshake (unless it started) and wait for TCP to close."""
        if self.connection.can_send:
            self.connection.send_close(code, reason)
            self.pump()
        await self.closed


async def connect(uri: str, *, close_timeout: float = 5.0, **options: Any) -> ClientProtocol:
    """Open a connection to ``uri`` and complete the handshake; ``options`` go
    to :class:`ClientConnection`. Raises its :class:`~wsframe.HandshakeError`
    if the server does not accept."""
    connection = ClientConnection(uri, **options)
    parts = connection.uri
    context = ssl.create_default_context() if parts.secure else None
    _, protocol = await asyncio.get_running_loop().create_connection(
        lambda: ClientProtocol(connection, close_timeout), parts.host, parts.port, ssl=context)
    await protocol.opened
    return protocol


def _stdin_lines(loop: asyncio.AbstractEventLoop, lines: "asyncio.Queue[Optional[str]]") -> None:
    """Read standard input in a thread (it may be a file, a pipe or a terminal)."""
    for line in sys.stdin:
        loop.call_soon_threadsafe(lines.put_nowait, line.rstrip("\n"))
    loop.call_soon_threadsafe(lines.put_nowait, None)


async def _client(uri: str, origin: Optional[str], subprotocols: Sequence[str], compression: bool,
                  close_timeout: float, linger: float) -> int:
    try:
        parse_uri(uri)
    except ValueError as error:
        print(f"wsframe client: {error}", file=sys.stderr)
        return 2
    try:
        protocol = await connect(uri, close_timeout=close_timeout, origin=origin, subprotocols=subprotocols,
                                 compression=DEFAULT_DEFLATE_OFFER if compression else None)
    except (OSError, ssl.SSLError) as error:
        print(f"wsframe client: cannot connect to {uri}: {error}", file=sys.stderr)
        return 1
    except Exception as error:  # the HandshakeError the connection raised
        print(f"wsframe client: handshake failed: {error}", file=sys.stderr)
        return 1
    connection = protocol.connection
    details = [f"subprotocol {connection.subprotocol}"] if connection.subprotocol else []
    details.append("permessage-deflate" if connection.deflate else "no compression")
    print(f"wsframe client: connected to {uri} ({', '.join(details)})", file=sys.stderr, flush=True)
    loop = asyncio.get_running_loop()
    lines: "asyncio.Queue[Optional[str]]" = asyncio.Queue()
    threading.Thread(target=_stdin_lines, args=(loop, lines), daemon=True).start()

    async def send_lines() -> None:
        while True:
            line = await lines.get()
            if line is None or not protocol.connection.can_send:
                break
            protocol.send(line)
        # The answers to the last lines may still be on their way.
        while (quiet := loop.time() - protocol.last_message_at) < linger and protocol.connection.can_send:
            await asyncio.sleep(linger - quiet)
        await protocol.close()

    async def print_messages() -> None:
        while True:
            message = await protocol.recv()
            if message is None:
                return
            if isinstance(message, TextMessage):
                print(message.data, flush=True)
            else:
                print(repr(message.data), flush=True)

    sender = asyncio.ensure_future(send_lines())
    await print_messages()
    sender.cancel()
    code = connection.close_code
    if connection.failure is not None or code not in (1000, 1001):
        why = connection.failure or f"closed with {code} {connection.close_reason}".rstrip()
        print(f"wsframe client: {why}", file=sys.stderr)
        return 1
    return 0


def run(uri: str, *, origin: Optional[str] = None, subprotocols: Sequence[str] = (), compression: bool = True,
        close_timeout: float = 5.0, linger: float = 1.0) -> int:
    """The command line's entry: the exit status."""
    try:
        return asyncio.run(_client(uri, origin, subprotocols, compression, close_timeout, linger))
    except KeyboardInterrupt:
        return 130
