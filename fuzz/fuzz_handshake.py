"""Atheris harness: the echo server's handshake parser on arbitrary bytes.

``parse_request`` and ``accept`` may refuse with ``HandshakeError`` (whose
response must be a well-formed HTTP error) or return a 101 response; any
other exception is a crash. Run with ``bash fuzz/run.sh`` or
``python fuzz/fuzz_handshake.py -max_total_time=60 fuzz/corpus/handshake``.
"""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports():
    from wsframe._handshake import HandshakeError, accept, parse_request


def test_one_input(data: bytes) -> None:
    head = data if data.endswith(b"\r\n\r\n") else data + b"\r\n\r\n"
    try:
        response = accept(parse_request(head), allowed_origins=None if len(data) % 2 else ["http://a.example"])
    except HandshakeError as error:
        status_line = error.response.split(b"\r\n", 1)[0]
        assert status_line.startswith(b"HTTP/1.1 ") and status_line[9:12].isdigit(), error.response
        assert 400 <= error.status < 600
        return
    assert response.startswith(b"HTTP/1.1 101 Switching Protocols\r\n") and response.endswith(b"\r\n\r\n")


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
