"""A server connection echoing messages, in memory, beside the peers' connection layers.

Each implementation's sans-I/O server connection, its opening handshake
done, is fed a stream of masked client frames in 64 KiB reads and echoes
every message it decodes: bytes in, events out, a reply sent for each, the
bytes to write collected. wsframe's ``ServerConnection`` (on the C backend
and on its twin) runs beside websockets' ``ServerProtocol`` and wsproto's
``WSConnection``; compression is off for all. Read the results as ratios:

    pytest benchmarks/bench_connection.py --benchmark-only --benchmark-json=connection.json
    python benchmarks/report.py connection.json
"""

from __future__ import annotations

import base64
import contextlib
import importlib
import os
from typing import Any, Callable, Dict, Iterator, List

import pytest
from peers import available

# message size -> messages per round
SIZES = {16: 10_000, 1024: 10_000, 65536: 200}
READ_SIZE = 65536
KEY = base64.b64encode(b"0123456789abcdef").decode()
REQUEST = (f"GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           f"Sec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode()
Echo = Callable[[List[bytes]], int]


def client_stream(size: int, count: int) -> List[bytes]:
    """``count`` masked binary frames of ``size`` bytes, cut into 64 KiB reads."""
    from wsframe import _pyframe

    frame = _pyframe.encode_frame(2, os.urandom(size), mask=b"\x37\xfa\x21\x3d")
    stream = frame * count
    return [stream[start:start + READ_SIZE] for start in range(0, len(stream), READ_SIZE)]


@contextlib.contextmanager
def codec(module_name: str) -> Iterator[Any]:
    """Connections made in the block run on one backend (they bind it when made
    and opened); it yields that backend's connection classes (the compiled copy
    of the connection layer with the C codec, the interpreted one with the twin)."""
    from wsframe import _backend

    module = importlib.import_module(module_name)
    names = ("MessageDecoder", "encode_frame")
    saved = {name: getattr(_backend, name) for name in names}
    for name in names:
        setattr(_backend, name, getattr(module, name))
    try:
        yield _backend.connection_classes(module)
    finally:
        for name, value in saved.items():
            setattr(_backend, name, value)


def wsframe_echo(module_name: str) -> Echo:
    from wsframe import BinaryMessage, TextMessage

    # The defaults a server runs with (max_queue, write_limit): so the loop
    # that resumes decoding after each batch is part of what is measured.
    with codec(module_name) as connections:
        connection = connections.ServerConnection(compression=None, max_message_size=None)
        connection.receive_data(REQUEST)
        connection.events_received()
        connection.accept()
    connection.data_to_send()

    def run(reads: List[bytes]) -> int:
        sent = 0
        for data in reads:
            connection.receive_data(data)
            while True:
                events = connection.events_received()
                if not events:
                    break
                for event in events:
                    if type(event) is BinaryMessage:
                        connection.send_binary(event.data)
                    elif type(event) is TextMessage:
                        connection.send_text(event.data)
                for chunk in connection.data_to_send():
                    sent += len(chunk)
        return sent

    return run


def websockets_echo() -> Echo:
    from websockets.frames import Opcode
    from websockets.server import ServerProtocol

    protocol = ServerProtocol(max_size=None)
    protocol.receive_data(REQUEST)
    [request] = protocol.events_received()
    protocol.send_response(protocol.accept(request))
    protocol.data_to_send()

    def run(reads: List[bytes]) -> int:
        sent = 0
        for data in reads:
            protocol.receive_data(data)
            for frame in protocol.events_received():
                if frame.opcode is Opcode.BINARY:
                    protocol.send_binary(frame.data)
                elif frame.opcode is Opcode.TEXT:
                    protocol.send_text(frame.data)
            for chunk in protocol.data_to_send():
                sent += len(chunk)
        return sent

    return run


def wsproto_echo() -> Echo:
    from wsproto import ConnectionType, WSConnection
    from wsproto.events import AcceptConnection, BytesMessage, Message, Request, TextMessage

    connection = WSConnection(ConnectionType.SERVER)
    connection.receive_data(REQUEST)
    for event in connection.events():
        if isinstance(event, Request):
            connection.send(AcceptConnection())

    def run(reads: List[bytes]) -> int:
        sent = 0
        for data in reads:
            connection.receive_data(data)
            for event in connection.events():
                if isinstance(event, (BytesMessage, TextMessage)):
                    sent += len(connection.send(Message(data=event.data)))
        return sent

    return run


def implementations() -> Dict[str, Callable[[], Echo]]:
    return {
        "wsframe-c": lambda: wsframe_echo("wsframe._cframe"),
        "wsframe-python": lambda: wsframe_echo("wsframe._pyframe"),
        "websockets": websockets_echo,
        "wsproto": wsproto_echo,
    }


NAMES = list(implementations())


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("name", NAMES)
def bench_connection_echo(benchmark: Any, name: str, size: int) -> None:
    echo = available({name: implementations()[name]}).get(name)
    if echo is None:
        pytest.skip(f"{name} is not installed")
    reads = client_stream(size, SIZES[size])
    benchmark.group = f"connection echo {size} B"
    benchmark.extra_info.update(implementation=name, size=size, messages=SIZES[size])
    sent = benchmark(echo, reads)
    # Every message came back: a 2- to 10-byte header on each echoed payload.
    assert sent >= SIZES[size] * (size + 2)
