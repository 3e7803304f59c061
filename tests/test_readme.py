"""The README's examples run as written and print what it says they print."""

from __future__ import annotations

import pathlib
import re

import pytest

import wsframe
from wsframe import _pyframe

README = pathlib.Path(__file__).resolve().parent.parent / "README.md"


def python_blocks() -> list:
    if not README.exists():
        pytest.fail(f"README.md not found at {README}")
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def test_api_example(capsys):
    exec(compile(python_blocks()[0], "README.md", "exec"), {})
    assert capsys.readouterr().out == "1002 client frame is not masked; clients must mask every frame\n"


def test_streaming_example():
    sent: list = []
    namespace = {
        "data_from_socket": _pyframe.encode_frame(wsframe.Opcode.TEXT, b"hi", mask=True) + b"\x81\x05Hello",
        "send": sent.append,
    }
    exec(compile(python_blocks()[1], "README.md", "exec"), namespace)
    # The message before the violation reaches the loop; then the failure is sent.
    assert namespace["events"] == [wsframe.TextMessage("hi")]
    assert sent == [b"\x88\x3b\x03\xea" + b"client frame is not masked; clients must mask every frame"]


def test_compression_example():
    namespace: dict = {}
    exec(compile(python_blocks()[2], "README.md", "exec"), namespace)
    parameters = namespace["parameters"]
    assert namespace["response_header"] == "permessage-deflate"
    # The frame it builds is what a client decoder with the same parameters reads.
    client = wsframe.MessageDecoder(wsframe.Role.CLIENT, deflate=parameters)
    assert client.feed(namespace["frame"]) == [wsframe.TextMessage("hello")]
