"""Atheris harness: both sides of the opening handshake on arbitrary bytes.

A ``ServerConnection`` fed arbitrary bytes (cut in two at a chosen place)
must either deliver a ``Request`` that ``accept()`` answers with a 101, or
refuse with an ``InvalidRequest`` whose response is a well-formed HTTP
error, or wait for more; a ``ClientConnection`` fed an arbitrary answer must
open or fail with an ``InvalidResponse``. Any other exception is a crash.
Run with ``bash fuzz/run.sh`` or
``python fuzz/fuzz_handshake.py -max_total_time=60 fuzz/corpus/handshake``.
"""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports():
    from wsframe import ClientConnection, InvalidRequest, InvalidResponse, Request, ServerConnection, State


def server_side(data: bytes, cut: int, origins: object) -> None:
    server = ServerConnection(origins=origins)  # type: ignore[arg-type]
    server.receive_data(data[:cut])
    server.receive_data(data[cut:])
    events = server.events_received()
    if events:
        assert isinstance(events[0], Request), events
        server.accept()
        response = b"".join(server.data_to_send())
        assert response.startswith(b"HTTP/1.1 101 Switching Protocols\r\n"), response[:200]
        assert server.state is State.OPEN
    elif server.state is State.CLOSED:
        assert isinstance(server.failure, InvalidRequest), server.failure
        status_line = server.failure.response.split(b"\r\n", 1)[0]
        assert status_line.startswith(b"HTTP/1.1 ") and status_line[9:12].isdigit(), status_line
        assert 400 <= server.failure.status < 600
    else:
        assert server.state is State.CONNECTING and not data.count(b"\r\n\r\n")


def client_side(data: bytes) -> None:
    client = ClientConnection("ws://example.com/")
    client.data_to_send()
    client.receive_data(data)
    if client.state is State.CLOSED:
        assert isinstance(client.failure, InvalidResponse), client.failure
    else:
        assert client.state in (State.CONNECTING, State.OPEN, State.CLOSING), client.state


def test_one_input(data: bytes) -> None:
    provider = atheris.FuzzedDataProvider(data)
    cut = provider.ConsumeIntInRange(0, 64)
    origins = None if provider.ConsumeBool() else ["http://a.example", None]
    body = provider.ConsumeBytes(provider.remaining_bytes())
    head = body if body.endswith(b"\r\n\r\n") else body + b"\r\n\r\n"
    server_side(head, min(cut, len(head)), origins)
    client_side(head)


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
