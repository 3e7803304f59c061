"""The drop-ins' version policy: a supported range, an escape hatch, and no
half-installed drop-in under internals that moved."""

from __future__ import annotations

import importlib
import importlib.metadata
from typing import Any, Callable, Dict, Tuple

import pytest
from helpers import require_peer

from wsframe.integrations import version_in

# Each drop-in, a version outside its range, and an internal its install() relies on.
DROPINS: Dict[str, Tuple[str, Callable[[], Tuple[Any, str]]]] = {
    "wsproto": ("2.0.0", lambda: (importlib.import_module("wsproto.frame_protocol").FrameDecoder, "process_buffer")),
    "websockets": ("18.0", lambda: (importlib.import_module("websockets.protocol").Protocol, "recv_frame")),
    "aiohttp": ("4.0.0a1", lambda: (importlib.import_module("aiohttp._websocket.reader_py").WebSocketReader,
                                    "_handle_frame")),
    "tornado": ("7.0", lambda: (importlib.import_module("tornado.websocket").WebSocketProtocol13, "_handle_message")),
}


@pytest.mark.parametrize(
    "version, supported, expected",
    [
        ("17.4", ">=14.0,<18", True),
        ("14.0", ">=14.0,<18", True),
        ("13.1", ">=14.0,<18", False),
        ("18.0", ">=14.0,<18", False),
        ("18.0rc1", ">=14.0,<18", False),
        ("17.0.1", ">=14.0,<18", True),
        ("1.2.0", ">=1.2,<2", True),
        ("1.1.0", ">=1.2,<2", False),
        ("3.14.5", ">=3.11,<4", True),
        ("3.10.11", ">=3.11,<4", False),
        ("4.0.0a1", ">=3.11,<4", False),
        ("6.6.1", ">=6.5,<7", True),
        ("6.4.2", ">=6.5,<7", False),
    ],
)
def test_version_in(version: str, supported: str, expected: bool) -> None:
    assert version_in(version, supported) is expected


def dropin_module(library: str) -> Any:
    require_peer(library)
    return require_peer(f"wsframe.integrations.{library}")


@pytest.fixture(params=sorted(DROPINS))
def library(request: pytest.FixtureRequest) -> str:
    return request.param  # type: ignore[no-any-return]


def test_the_installed_release_is_supported(library: str) -> None:
    dropin = dropin_module(library)
    assert version_in(importlib.metadata.version(library), dropin.SUPPORTED)
    dropin.install()
    try:
        assert dropin.installed()
    finally:
        dropin.uninstall()
    assert not dropin.installed()


def test_a_release_outside_the_range_is_refused_unless_forced(library: str, monkeypatch: pytest.MonkeyPatch) -> None:
    dropin = dropin_module(library)
    outside, _ = DROPINS[library]
    real_version = importlib.metadata.version
    monkeypatch.setattr(importlib.metadata, "version", lambda name: outside if name == library else real_version(name))
    with pytest.raises(RuntimeError) as refusal:
        dropin.install()
    message = str(refusal.value)
    assert f"supports {library} {dropin.SUPPORTED}, and {library} {outside} is installed" in message
    assert "install(force=True)" in message
    assert not dropin.installed()
    dropin.install(force=True)
    try:
        assert dropin.installed()
    finally:
        dropin.uninstall()


def test_internals_that_moved_are_refused_and_nothing_is_replaced(library: str,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    dropin = dropin_module(library)
    _, internal = DROPINS[library]
    owner, name = internal()
    monkeypatch.delattr(owner, name)
    for force in (False, True):
        with pytest.raises(RuntimeError, match=rf"cannot install under {library} .*{name}.*nothing was replaced"):
            dropin.install(force=force)
        assert not dropin.installed()


def test_uninstall_restores_the_librarys_own_objects(library: str) -> None:
    dropin = dropin_module(library)
    patches = [patch for part in dropin._DROPIN.parts.values() for patch in part]
    own = [vars(patch.owner)[patch.name] for patch in patches]
    dropin.install()
    try:
        assert all(vars(patch.owner)[patch.name] is patch.replacement for patch in patches)
    finally:
        dropin.uninstall()
    assert [vars(patch.owner)[patch.name] for patch in patches] == own


def test_aiohttp_install_leaves_installed_exactly_the_parts_asked_for() -> None:
    # install(reader=False) after install() gives the reader back to aiohttp,
    # instead of silently keeping it.
    dropin = dropin_module("aiohttp")
    from aiohttp._websocket import reader, writer

    own_reader, own_write = reader.WebSocketReader, vars(writer.WebSocketWriter)["_write_websocket_frame"]
    dropin.install()
    try:
        assert reader.WebSocketReader is dropin.WebSocketReader
        dropin.install(reader=False)
        assert reader.WebSocketReader is own_reader
        assert vars(writer.WebSocketWriter)["_write_websocket_frame"] is not own_write
        dropin.install(writer=False)
        assert reader.WebSocketReader is dropin.WebSocketReader
        assert vars(writer.WebSocketWriter)["_write_websocket_frame"] is own_write
    finally:
        dropin.uninstall()
    assert reader.WebSocketReader is own_reader and not dropin.installed()


def test_install_names_its_parts_when_given_an_unknown_one() -> None:
    dropin = dropin_module("wsproto")
    with pytest.raises(TypeError, match="unknown part.*reader.*the wsproto drop-in has frames"):
        dropin._DROPIN.install(reader=True)
    assert not dropin.installed()
