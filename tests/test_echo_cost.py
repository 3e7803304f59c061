"""tools/echo_cost.py, the in-process cost of an echoed message: it runs and
every message it feeds is echoed (it asserts one write per message)."""

from __future__ import annotations

import asyncio
import importlib.util
import re
import sys
from pathlib import Path

import pytest


def test_echo_cost_reports_the_three_costs(capsys: pytest.CaptureFixture[str]) -> None:
    path = Path(__file__).resolve().parent.parent / "tools" / "echo_cost.py"
    spec = importlib.util.spec_from_file_location("wsframe_echo_cost_tool", path)
    assert spec is not None and spec.loader is not None
    tool = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = tool
    spec.loader.exec_module(tool)
    asyncio.run(tool.measure(1024, 500))
    output = capsys.readouterr().out
    costs = dict(re.findall(r"^  (.+?):\s+(-?[\d.]+) us per message$", output, re.M))
    assert set(costs) == {"EchoProtocol, read to write", "codec alone (decode, encode)", "the Python layers between"}
    assert float(costs["EchoProtocol, read to write"]) > 0
    assert float(costs["codec alone (decode, encode)"]) > 0
