"""pytest plugin: run a peer's own test suite with or without wsframe's drop-in.

Loaded with ``-p peer_suite`` by the tests that run websockets' and aiohttp's
suites. ``WSFRAME_PEER`` names the library (``websockets`` or ``aiohttp``);
``WSFRAME_DROPIN`` says what runs under it:

- ``off``: the library's own code (the baseline of the same run);
- ``on``: wsframe's drop-in, installed before any test module imports the
  library;
- ``secrets-keys`` (websockets only): the drop-in, but client frames masked
  with keys from ``secrets.token_bytes`` as websockets' own code draws them,
  so the tests that pin the mask key by patching it can run too.

The plugin writes to the JSON file named by ``WSFRAME_PEER_REPORT`` each
test's outcome (a test with a failing subtest counts as failed), and how
often wsframe's code and the library's own code it replaces ran.
"""

from __future__ import annotations

import json
import os
import secrets
from typing import Any, Dict

import pytest
from call_counts import calls, counted

import wsframe

PEER = os.environ["WSFRAME_PEER"]
MODE = os.environ.get("WSFRAME_DROPIN", "off")
outcomes: Dict[str, str] = {}



def _websockets() -> None:
    from websockets import frames, protocol

    from wsframe.integrations import websockets as dropin

    protocol.Protocol.parse = counted("receive loop: websockets' own", protocol.Protocol.parse)  # type: ignore[method-assign]
    if MODE == "off":
        return
    dropin.install()
    assert dropin.installed()
    calls.clear()  # install() made a Protocol to check websockets' layout: count the tests' calls only

    class CountingDecoder(dropin.FrameDecoder):  # type: ignore[misc,name-defined]
        def feed(self, data: Any) -> Any:
            calls["receive loop: wsframe's"] += 1
            return super().feed(data)

    dropin.FrameDecoder = CountingDecoder  # type: ignore[attr-defined]
    if MODE == "secrets-keys":

        def serialize(self: Any, *, mask: bool, extensions: Any = None) -> bytes:
            # The drop-in's serialize, with websockets' source of mask keys.
            self.check()
            for extension in extensions or ():
                self = extension.encode(self)
            key = secrets.token_bytes(4) if mask else False
            return wsframe.encode_frame(self.opcode, self.data, fin=self.fin, rsv1=self.rsv1, rsv2=self.rsv2,
                                        rsv3=self.rsv3, mask=key)

        frames.Frame.serialize = serialize  # type: ignore[method-assign]
    frames.Frame.serialize = counted("frame encoded by wsframe", frames.Frame.serialize)  # type: ignore[method-assign]


def _aiohttp() -> None:
    from aiohttp._websocket import writer

    from wsframe.integrations import aiohttp as dropin

    if MODE == "off":
        return
    dropin.install()
    assert dropin.installed()
    calls[f"reader from {dropin.WebSocketReader.__module__}"] = 1  # the twin _backend chose
    # The drop-in's readers may be compiled classes, which take no new
    # attributes: where it binds them, bind subclasses that count instead.
    made_by = {dropin.ServerWebSocketReader: "reader made by aiohttp.web",
               dropin.ClientWebSocketReader: "reader made by ws_connect"}
    for patch in dropin._DROPIN.parts["reader"]:
        if patch.name == "WebSocketReader":
            setattr(patch.owner, patch.name, _counting_reader(patch.replacement, made_by.get(patch.replacement)))
    writer.WebSocketWriter._write_websocket_frame = counted(  # type: ignore[method-assign]
        "frame written by wsframe", dropin._write_websocket_frame)


def _counting_reader(base: Any, made_by: Any) -> Any:
    class CountingReader(base):  # type: ignore[misc,valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            if made_by is not None:
                calls[made_by] += 1
            super().__init__(*args, **kwargs)

        def _feed_data(self, data: Any) -> None:
            calls["reader: wsframe's"] += 1
            super()._feed_data(data)

    CountingReader.__name__ = CountingReader.__qualname__ = base.__name__
    return CountingReader


def pytest_configure(config: pytest.Config) -> None:
    {"websockets": _websockets, "aiohttp": _aiohttp}[PEER]()


def pytest_report_header(config: pytest.Config) -> str:
    return f"wsframe {wsframe.__version__}, drop-in under {PEER}: {MODE} (backend: {wsframe.backend})"


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    previous = outcomes.get(report.nodeid)
    if report.failed:
        outcomes[report.nodeid] = "failed"
    elif report.skipped and previous is None:
        outcomes[report.nodeid] = "skipped"
    elif report.when == "call" and previous is None:
        outcomes[report.nodeid] = "passed"


def pytest_sessionfinish(session: pytest.Session) -> None:
    path = os.environ.get("WSFRAME_PEER_REPORT")
    if path:
        with open(path, "w") as file:
            json.dump({"outcomes": outcomes, "calls": dict(calls), "backend": wsframe.backend, "mode": MODE}, file)
