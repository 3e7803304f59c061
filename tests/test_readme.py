"""The README's examples run as pasted and print what it says they print."""

from __future__ import annotations

import pathlib
import re

import pytest
from helpers import require_peer

README = pathlib.Path(__file__).resolve().parent.parent / "README.md"


def python_blocks() -> list:
    if not README.exists():
        pytest.fail(f"README.md not found at {README}")
    return re.findall(r"^```python\n(.*?)^```", README.read_text(encoding="utf-8"), re.S | re.M)


def test_the_readme_has_its_two_examples() -> None:
    blocks = python_blocks()
    assert len(blocks) == 2
    assert "wsframe.ServerConnection()" in blocks[0]
    assert "import wsframe.integrations.aiohttp as wsframe_aiohttp" in blocks[1]


def test_the_connection_example_prints_what_its_comments_say(capsys: pytest.CaptureFixture) -> None:
    block = python_blocks()[0]
    # Run as pasted: a fresh namespace, nothing defined for it.
    exec(compile(block, "README.md", "exec"), {"__name__": "__readme__"})
    printed = capsys.readouterr().out.splitlines()
    assert printed == ["101 TextMessage(data='HELLO')", "[Close(code=1000, reason='')]", "True 1000"]
    # ... which are the values the comments give.
    comments = [line.split("# ")[1].split(":")[0] for line in block.splitlines() if line.startswith("print(")]
    assert [comment.rstrip(".") for comment in comments] == ["101 TextMessage(data='HELLO')",
                                                             "[Close(code=1000, reason='')]", "True 1000"]


def test_the_drop_in_example_leaves_each_library_importable_and_as_it_was() -> None:
    aiohttp = require_peer("aiohttp")
    websockets = require_peer("websockets")
    wsproto = require_peer("wsproto")
    from wsproto import frame_protocol

    decoder_class = frame_protocol.FrameDecoder
    namespace: dict = {"__name__": "__readme__"}
    exec(compile(python_blocks()[1], "README.md", "exec"), namespace)
    # The drop-ins did not take the libraries' names.
    import sys

    assert sys.modules["aiohttp"] is aiohttp and hasattr(aiohttp, "ClientSession")
    assert sys.modules["websockets"] is websockets and sys.modules["wsproto"] is wsproto
    assert "aiohttp" not in namespace and "websockets" not in namespace
    # Installed, then uninstalled: each library runs its own code again.
    assert not namespace["wsframe_aiohttp"].installed()
    assert frame_protocol.FrameDecoder is decoder_class
