"""Reference implementations and comparison helpers for the tests."""

from __future__ import annotations

import importlib
import importlib.metadata
import json
import os
import random
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import pytest

try:
    import tracemalloc
except ImportError:  # PyPy has no tracemalloc
    tracemalloc = None  # type: ignore[assignment]

import wsframe


def reference_mask(data: bytes, key: bytes, offset: int = 0) -> bytes:
    """RFC 6455 section 5.3, byte by byte: octet i XOR key octet (i mod 4)."""
    return bytes(byte ^ key[(offset + i) % 4] for i, byte in enumerate(data))


def outcome(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Tuple[Any, ...]:
    """What a call did, in a form two backends can be compared on: for a
    protocol error, the events a decoder completed before it too."""
    try:
        return ("returned", function(*args, **kwargs))
    except wsframe.ProtocolError as exc:
        return ("raised", type(exc), exc.close_code, exc.reason, exc.events)
    except (TypeError, ValueError, OverflowError, BufferError) as exc:
        return ("raised", type(exc), str(exc))


def frame(opcode: int, payload: bytes = b"", *, fin: bool = True, mask: bool = True, rsv1: bool = False) -> bytes:
    """A frame built byte by byte from RFC 6455 section 5.2, independent of wsframe's encoder."""
    key = b"\x37\xfa\x21\x3d"
    first = (0x80 if fin else 0) | (0x40 if rsv1 else 0) | opcode
    length = len(payload)
    if length < 126:
        header = bytes([first, (0x80 if mask else 0) | length])
    elif length < 65536:
        header = bytes([first, (0x80 if mask else 0) | 126]) + length.to_bytes(2, "big")
    else:
        header = bytes([first, (0x80 if mask else 0) | 127]) + length.to_bytes(8, "big")
    if not mask:
        return header + payload
    return header + key + reference_mask(payload, key)


def feed_in_pieces(decoder: Any, stream: bytes, cuts: Any) -> list:
    """Feed ``stream`` split at the sorted positions ``cuts``; return all results."""
    results: list = []
    start = 0
    for cut in sorted(set(cuts)) + [len(stream)]:
        results.extend(decoder.feed(stream[start:cut]))
        start = cut
    return results


def feed_until_error(decoder: Any, stream: bytes, cuts: Any) -> Tuple[list, Optional[wsframe.ProtocolError]]:
    """Feed ``stream`` split at ``cuts`` as a server would: every event handed
    over, by ``feed()`` or by the error's ``events``, and the error, if any."""
    results: list = []
    start = 0
    for cut in sorted(set(cuts)) + [len(stream)]:
        try:
            results.extend(decoder.feed(stream[start:cut]))
        except wsframe.ProtocolError as exc:
            return results + exc.events, exc
        start = cut
    return results, None


def splits(stream: bytes, seed: int = 0) -> List[List[int]]:
    """Ways to cut ``stream`` into feeds: whole, one byte at a time, at
    every single position, and random cuts."""
    chooser = random.Random(seed)
    ways: List[List[int]] = [[], list(range(1, len(stream)))]
    ways += [[position] for position in range(1, len(stream))]
    for _ in range(20):
        ways.append(sorted(chooser.sample(range(1, len(stream)), chooser.randint(1, min(8, len(stream) - 1)))))
    return ways


def trickle(decoder: Any, stream: bytes) -> list:
    """Feed ``stream`` one byte per call, allocating nothing per byte beyond the feed itself."""
    results: list = []
    for index in range(len(stream)):
        results += decoder.feed(stream[index : index + 1])
    return results


def viable_utf8_prefix(data: bytes) -> bool:
    """Whether some continuation of ``data`` is valid UTF-8 (RFC 3629)."""
    candidates = [b""] + [bytes([b]) for b in (0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF)]
    for first in candidates:
        for second in ([b""] if not first else candidates):
            for third in ([b""] if not second else candidates):
                try:
                    (data + first + second + third).decode("utf-8")
                    return True
                except UnicodeDecodeError:
                    pass
    return False


def peak_memory(function: Callable[[], Any]) -> Tuple[Any, int]:
    """Run ``function``; return its result and the peak bytes traced meanwhile.

    tracemalloc sees both backends' allocations: Python objects, and the C
    backend's buffers, which come from PyMem_Realloc.
    """
    if tracemalloc is None:
        pytest.skip("tracemalloc is not available on this interpreter (PyPy); memory is checked on CPython")
    tracemalloc.start()
    try:
        result = function()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def peers_required() -> bool:
    """Whether a missing real peer fails its test (``.ci/run`` sets WSFRAME_REQUIRE_PEERS=1)
    instead of skipping it (a wheel's smoke test, a developer's machine)."""
    return os.environ.get("WSFRAME_REQUIRE_PEERS", "") not in ("", "0")


def missing_peer(message: str) -> None:
    """Fail or skip the test for a peer that is not here."""
    if peers_required():
        pytest.fail(f"{message}; WSFRAME_REQUIRE_PEERS is set, so this interop test must run")
    pytest.skip(message)


def require_peer(module: str, minimum_python: Tuple[int, int] = (3, 11)) -> Any:
    """Import a real peer (websockets, aiohttp, wsproto, ...) for an interop test.

    pyproject's ``interop`` extra installs the peers on Python >= 3.11 (their
    pinned versions need it); below that the test skips.
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        if sys.version_info < minimum_python:
            pytest.skip(f"{module} needs Python >= {minimum_python[0]}.{minimum_python[1]} at its pinned version")
        missing_peer(f"{module} is not installed (pip install '.[interop]'): {exc}")
        raise  # unreachable: missing_peer fails or skips


def peer_sdist_tests(request: Any, tmp_path_factory: Any, package: str, version: str, *files: str) -> Path:
    """``<package>-<version>/`` holding the tests/ (or test/) folder, and
    ``files``, of that release's sdist on PyPI, downloaded once into pytest's cache."""
    cache_plugin = getattr(request.config, "cache", None)  # absent under -p no:cacheprovider
    cache = Path(cache_plugin.mkdir(f"{package}-sdist")) if cache_plugin else tmp_path_factory.mktemp("sdist")
    sdist = cache / f"{package}-{version}.tar.gz"
    if not sdist.exists():
        download = subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
             f"{package}=={version}", "--dest", str(cache)],
            capture_output=True, text=True,
        )
        if download.returncode != 0:
            missing_peer(f"could not download {package} {version}'s sdist: {download.stderr[-500:]}")
    root = tmp_path_factory.mktemp(f"{package}-suite")
    prefix = f"{package}-{version}/"
    with tarfile.open(sdist) as archive:
        members = [member for member in archive.getmembers()
                   if member.name.startswith((prefix + "tests/", prefix + "test/"))
                   or member.name[len(prefix):] in files]
        archive.extractall(root, members=members)  # noqa: S202 (PyPI sdist of the installed release)
    return root / f"{package}-{version}"


def run_peer_suite(suite: Path, report: Path, peer: str, mode: str, backend: str, files: List[str]) -> Dict[str, Any]:
    """Run a peer's own tests under tests/plugins/peer_suite.py (``mode``: off,
    on or secrets-keys) on one wsframe backend; each test's outcome and the
    plugin's call counts.

    A peer's suite has timing-bound tests (aiohttp's heartbeat tests wait
    0.1 s) that a loaded machine can fail: each failed test is run once more,
    alone, and what that second run gives is its outcome. The tests that
    passed only then are listed in ``result["passed_on_rerun"]``, so a test
    that prints the counts can say so."""
    plugins = Path(__file__).parent / "plugins"
    env = dict(os.environ, WSFRAME_PEER=peer, WSFRAME_DROPIN=mode, WSFRAME_PEER_REPORT=str(report),
               PYTHONPATH=os.pathsep.join(filter(None, [str(plugins), os.environ.get("PYTHONPATH")])))
    env.pop("WSFRAME_PURE_PYTHON", None)
    if backend == "python":
        env["WSFRAME_PURE_PYTHON"] = "1"

    def run_pytest(*arguments: str) -> Tuple[subprocess.CompletedProcess, Dict[str, Any]]:
        report.unlink(missing_ok=True)
        run = subprocess.run([sys.executable, "-m", "pytest", "-p", "peer_suite", "-p", "no:cacheprovider", "-q",
                              *arguments], cwd=suite, env=env, capture_output=True, text=True, timeout=900)
        assert report.exists(), run.stdout[-3000:] + run.stderr[-2000:]
        outcome: Dict[str, Any] = json.loads(report.read_text())
        assert outcome["backend"] == backend and outcome["mode"] == mode
        return run, outcome

    run, result = run_pytest(*files)
    result["summary"] = run.stdout.strip().splitlines()[-1] if run.stdout.strip() else ""
    failed = sorted(test for test, outcome in result["outcomes"].items() if outcome == "failed")
    result["passed_on_rerun"] = []
    if failed:
        _, rerun = run_pytest(*failed)
        for test in failed:
            if rerun["outcomes"].get(test) == "passed":
                result["outcomes"][test] = "passed"
                result["passed_on_rerun"].append(test)
    return result


def failed_tests(result: Dict[str, Any]) -> set:
    return {test for test, outcome in result["outcomes"].items() if outcome == "failed"}
