"""pytest plugin: run wsproto's own test suite with wsframe's drop-in installed.

Loaded with ``-p wsproto_dropin`` by tests/test_integrations_wsproto.py. It
installs the drop-in before any test module imports wsproto, counts the calls
that reach wsframe's replacements, and writes the counts to the JSON file
named by WSFRAME_DROPIN_COUNTS, so the outer test can prove wsframe ran.
"""

from __future__ import annotations

import json
import os

import pytest
from call_counts import calls, counted
from wsproto import frame_protocol

import wsframe
from wsframe.integrations import wsproto as dropin




def pytest_configure(config: pytest.Config) -> None:
    # The drop-in's decoder inherits this method and must never call it.
    own_decoder = frame_protocol.FrameDecoder
    own_decoder.parse_header = counted("header parsed by wsproto's own code", own_decoder.parse_header)  # type: ignore[method-assign]
    dropin.install()
    assert dropin.installed()
    dropin.FrameDecoder._start_frame = counted("header parsed by wsframe", dropin.FrameDecoder._start_frame)  # type: ignore[method-assign]
    frame_protocol.FrameProtocol._serialize_frame = counted(  # type: ignore[method-assign]
        "frame encoded by wsframe", frame_protocol.FrameProtocol._serialize_frame
    )
    dropin.XorMaskerSimple.process = counted("masked by wsframe", dropin.XorMaskerSimple.process)  # type: ignore[method-assign]


def pytest_report_header(config: pytest.Config) -> str:
    return f"wsframe {wsframe.__version__} drop-in installed under wsproto (backend: {wsframe.backend})"


def pytest_sessionfinish(session: pytest.Session) -> None:
    still_installed = dropin.installed()
    path = os.environ.get("WSFRAME_DROPIN_COUNTS")
    if path:
        with open(path, "w") as file:
            json.dump({"calls": dict(calls), "installed_at_end": still_installed, "backend": wsframe.backend}, file)
