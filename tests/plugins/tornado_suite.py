"""Run tornado's own test runner with or without wsframe's drop-in under it.

    python tornado_suite.py tornado.test.websocket_test

tornado ships its tests inside the package and runs them with its own
runner (``python -m tornado.test.runtests``, unittest with warnings as
errors and any logged warning counted as a failure); this script is that
runner, with the drop-in installed first when ``WSFRAME_DROPIN=on``
(``off``: tornado's own code, the baseline of the same run). It writes to
the JSON file named by ``WSFRAME_PEER_REPORT`` each test's outcome
(``abstract``: a test of an abstract base class, which tornado's runner
skips without reporting it), how often wsframe's code and the tornado code
it replaces ran, the backend, and the runner's exit status; then exits
with that status.
"""

from __future__ import annotations

import json
import os
import sys
import unittest
from typing import Any, Callable, Dict

from call_counts import calls, counted
from tornado import websocket
from tornado.test import runtests

import wsframe
from wsframe.integrations import tornado as dropin

MODE = os.environ.get("WSFRAME_DROPIN", "off")
outcomes: Dict[str, str] = {}



def record(outcome: str) -> Callable[..., Any]:
    def add(self: unittest.TestResult, test: unittest.TestCase, *args: Any) -> None:
        if outcome == "failed" or outcomes.get(test.id()) != "failed":
            outcomes[test.id()] = outcome
        getattr(unittest.TestResult, f"_own_{add.__name__}")(self, test, *args)

    return add


def record_results() -> None:
    """Every result tornado's runner gets passes through unittest.TestResult's methods."""
    for method, outcome in (("startTest", "started"), ("addSuccess", "passed"), ("addFailure", "failed"),
                            ("addError", "failed"), ("addSkip", "skipped"),
                            ("addUnexpectedSuccess", "failed"), ("addExpectedFailure", "passed")):
        adder = record(outcome)
        adder.__name__ = method
        setattr(unittest.TestResult, f"_own_{method}", getattr(unittest.TestResult, method))
        setattr(unittest.TestResult, method, adder)
    own_sub_test = unittest.TestResult.addSubTest

    def add_sub_test(self: unittest.TestResult, test: Any, subtest: Any, error: Any) -> None:
        if error is not None:
            outcomes[test.id()] = "failed"
        own_sub_test(self, test, subtest, error)

    unittest.TestResult.addSubTest = add_sub_test  # type: ignore[method-assign]


def count_calls() -> None:
    protocol = websocket.WebSocketProtocol13
    # tornado's frame reader: its own receive loop calls it once per frame.
    protocol._receive_frame = counted("frame read by tornado's own code", protocol._receive_frame)  # type: ignore[method-assign]
    if MODE == "off":
        return
    dropin.install()
    assert dropin.installed()

    class CountingDecoder(dropin.MessageDecoder):  # type: ignore[misc,name-defined]
        def feed(self, data: Any, max_events: Any = None) -> Any:
            calls["bytes fed to wsframe's decoder"] += 1
            return super().feed(data, max_events)

    dropin.MessageDecoder = CountingDecoder  # type: ignore[attr-defined]
    dropin._handle_event = counted("message handed on by wsframe's loop", dropin._handle_event)  # type: ignore[attr-defined]
    # The module's function, which the class attribute is: installed() compares with the loop's.
    protocol._write_frame = counted("frame written by wsframe", protocol._write_frame)  # type: ignore[method-assign]


def main() -> None:
    count_calls()
    record_results()
    sys.argv = ["tornado.test.runtests", *sys.argv[1:]]
    status: Any = 0
    try:
        runtests.main()
    except SystemExit as exc:
        status = exc.code
    finally:
        for test, outcome in outcomes.items():
            if outcome == "started":
                # Started and never reported: tornado's runner drops the skips
                # of abstract base classes (tornado.test.util.abstract_base_test).
                outcomes[test] = "abstract"
        path = os.environ.get("WSFRAME_PEER_REPORT")
        if path:
            with open(path, "w") as file:
                json.dump({"outcomes": outcomes, "calls": dict(calls), "backend": wsframe.backend, "mode": MODE,
                           "installed_at_end": dropin.installed(), "status": status}, file)
    sys.exit(status)


if __name__ == "__main__":
    main()
