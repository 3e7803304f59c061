"""The reference echo server: ``python -m wsframe echo``.

How to put wsframe into an event loop. Each connection is one coroutine:
read the HTTP upgrade request, answer it, then feed every chunk the socket
gives to a :class:`~wsframe.MessageDecoder` and write back what its events
call for. wsframe itself does no I/O; this file does all of it.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Collection, NamedTuple, Optional, Tuple

from . import _handshake
from ._backend import MessageDecoder, encode_frame
from ._close import close_payload
from ._deflate import DeflateParameters, Deflater, NegotiationError, negotiate_deflate
from ._errors import ProtocolError
from ._events import BinaryMessage, Close, Ping, TextMessage
from ._types import DEFAULT_MAX_SIZE, CloseCode, Opcode, Role

__all__ = ["EchoConfig", "serve"]

logger = logging.getLogger("wsframe.echo")

READ_SIZE = 65536
# Messages decoded from a read before they are written back and the writer drained.
ECHO_BATCH = 16
# Connections the kernel may hold before they are accepted (it caps this at
# net.core.somaxconn). asyncio's default, 100, overflowed when 200 clients
# connected at once, and the kernel reset some of them.
BACKLOG = 1024

# Smaller messages are sent uncompressed (RSV1 clear, RFC 7692 section 6):
# deflating them costs more than the bytes it could save.
COMPRESS_MIN_SIZE = 64


class EchoConfig(NamedTuple):
    """Limits and timeouts of the echo server (seconds, bytes)."""

    allowed_origins: Optional[Collection[str]] = None
    max_message_size: int = DEFAULT_MAX_SIZE
    handshake_timeout: float = 10.0
    idle_timeout: float = 60.0
    close_timeout: float = 5.0
    compression: bool = True


def _close_frame(code: int, reason: str = "") -> bytes:
    # A 1005 received close carried no code: reply with none (section 7.1.5).
    payload = b"" if code == CloseCode.NO_STATUS_RCVD else close_payload(code, reason)
    return encode_frame(Opcode.CLOSE, payload)


class _Handshake(NamedTuple):
    response: bytes
    deflate: Optional[DeflateParameters] = None  # permessage-deflate, if agreed


async def _read_handshake(reader: asyncio.StreamReader, config: EchoConfig) -> Optional[_Handshake]:
    """Read the upgrade request; return the 101 response or the error response.

    ``None`` when the peer left or stalled before finishing its request.
    """
    try:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), config.handshake_timeout)
    except asyncio.LimitOverrunError:
        error = _handshake.HandshakeError(431, "Request Header Fields Too Large", "request head too long")
        return _Handshake(error.response)
    except (asyncio.IncompleteReadError, asyncio.TimeoutError, ConnectionError):
        return None
    try:
        request = _handshake.parse_request(head)
        offers = request.header("sec-websocket-extensions")
        agreed = negotiate_deflate(offers) if offers and config.compression else None
        deflate: Optional[DeflateParameters] = None
        extra_headers: Tuple[Tuple[str, str], ...] = ()
        if agreed is not None:
            extension, deflate = agreed
            extra_headers = (("Sec-WebSocket-Extensions", extension),)
        response = _handshake.accept(request, allowed_origins=config.allowed_origins, extra_headers=extra_headers)
        return _Handshake(response, deflate)
    except NegotiationError as error:
        return _Handshake(_handshake.HandshakeError(400, "Bad Request", str(error)).response)
    except _handshake.HandshakeError as error:
        logger.info("refused handshake: %s", error)
        return _Handshake(error.response)


def _data_frame(opcode: Opcode, payload: bytes, deflater: Optional[Deflater]) -> bytes:
    if deflater is None or len(payload) < COMPRESS_MIN_SIZE:
        return encode_frame(opcode, payload)
    return encode_frame(opcode, deflater.compress(payload), rsv1=True)


async def _echo(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, config: EchoConfig, deflate: Optional[DeflateParameters]
) -> None:
    """Echo messages until the close handshake or a failure; RFC 6455 sections 5 and 7."""
    # No frame limit of its own: the message limit bounds an uncompressed
    # message from its header and a compressed one while it inflates, and a
    # compressed frame may be a little longer than the message it carries.
    decoder = MessageDecoder(Role.SERVER, max_frame_size=None, max_message_size=config.max_message_size, deflate=deflate)
    deflater = None if deflate is None else Deflater(deflate, Role.SERVER)
    closing = False  # the server sent a close frame and awaits the client's
    while True:
        try:
            timeout = config.close_timeout if closing else config.idle_timeout
            data = await asyncio.wait_for(reader.read(READ_SIZE), timeout)
        except asyncio.CancelledError:
            # The server is shutting down.
            writer.write(_close_frame(CloseCode.GOING_AWAY, "server shutting down"))
            raise
        except asyncio.TimeoutError:
            if closing:
                return  # the client never answered the close: drop it
            # Start the close handshake (section 7.1.2); the client's close
            # frame, or close_timeout, ends it.
            writer.write(_close_frame(CloseCode.NORMAL_CLOSURE, "idle timeout"))
            closing = True
            continue
        if not data:
            return  # TCP closed without a close frame: 1006, nothing to send.
        while True:
            # A batch at a time, each written back before the next is decoded:
            # a read full of small compressed frames inflates no more than
            # ECHO_BATCH messages before the client has to take them.
            failure: Optional[ProtocolError] = None
            try:
                events = decoder.feed(data, max_events=ECHO_BATCH)
            except ProtocolError as error:
                # The peer sent what the chunk completed before the violation
                # first: answer it, then fail the connection.
                events, failure = error.events, error
            for event in events:
                if closing and not isinstance(event, Close):
                    continue  # nothing may follow our close frame (section 5.5.1)
                if isinstance(event, TextMessage):
                    writer.write(_data_frame(Opcode.TEXT, event.data.encode("utf-8"), deflater))
                elif isinstance(event, BinaryMessage):
                    writer.write(_data_frame(Opcode.BINARY, event.data, deflater))
                elif isinstance(event, Ping):
                    writer.write(encode_frame(Opcode.PONG, event.payload))
                elif isinstance(event, Close):
                    # Echo the status code back (section 5.5.1) unless this is
                    # the answer to our own close; then the server closes TCP
                    # first (section 7.1.1).
                    if not closing:
                        writer.write(_close_frame(event.code))
                    return
            if failure is not None:
                # _Fail the WebSocket Connection_ (section 7.1.7): say why,
                # then close TCP without waiting for the client.
                logger.info("failing connection: %d %s", failure.close_code, failure.reason)
                if not closing:
                    writer.write(_close_frame(failure.close_code, failure.reason))
                return
            # Backpressure: a client that does not read stops being read.
            await writer.drain()
            if not decoder.undecoded:
                break
            data = b""


async def _serve_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, config: EchoConfig) -> None:
    try:
        handshake = await _read_handshake(reader, config)
        if handshake is None:
            return
        writer.write(handshake.response)
        if handshake.response.startswith(b"HTTP/1.1 101 "):
            await _echo(reader, writer, config, handshake.deflate)
        await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()
        try:
            await writer.wait_closed()
        except ConnectionError:
            pass


async def serve(host: str = "127.0.0.1", port: int = 9001, config: EchoConfig = EchoConfig()) -> asyncio.Server:
    """Start the echo server; ``await server.serve_forever()`` runs it."""

    async def on_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _serve_connection(reader, writer, config)

    # The stream's limit bounds what readuntil() buffers of the request head.
    return await asyncio.start_server(on_connection, host, port, limit=_handshake.MAX_REQUEST_SIZE, backlog=BACKLOG)


def run(host: str, port: int, config: EchoConfig) -> None:
    """Serve until interrupted (the command line's entry)."""

    async def main() -> None:
        server = await serve(host, port, config)
        for sock in server.sockets:
            print(f"wsframe echo server on ws://{sock.getsockname()[0]}:{sock.getsockname()[1]}/", flush=True)
        async with server:
            await server.serve_forever()

    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
