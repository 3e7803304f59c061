"""Shared fixtures: every conformance test runs once per backend."""

from __future__ import annotations

import importlib
import os
import re
import subprocess
import sys
import tempfile
from types import ModuleType
from typing import Callable, Iterator, List

import pytest
from hypothesis import HealthCheck, settings

import wsframe

settings.register_profile("ci", max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=100, deadline=None)
settings.register_profile("thorough", max_examples=5000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))

BACKEND_MODULES = {"c": "wsframe._cframe", "python": "wsframe._pyframe"}


def extension_required() -> bool:
    return os.environ.get("WSFRAME_REQUIRE_EXTENSION", "") not in ("", "0")


def load_backend(name: str) -> ModuleType:
    try:
        return importlib.import_module(BACKEND_MODULES[name])
    except ImportError as exc:
        if extension_required():
            pytest.fail(f"WSFRAME_REQUIRE_EXTENSION is set but the {name} backend did not import: {exc}")
        pytest.skip(f"the {name} backend is not built here: {exc}")


@pytest.fixture(scope="session", params=sorted(BACKEND_MODULES), ids=lambda name: f"backend={name}")
def codec(request: pytest.FixtureRequest) -> ModuleType:
    """The backend module under test: ``wsframe._cframe`` or ``wsframe._pyframe``."""
    return load_backend(request.param)


@pytest.fixture(scope="session")
def c_codec() -> ModuleType:
    return load_backend("c")


@pytest.fixture(scope="session")
def py_codec() -> ModuleType:
    return load_backend("python")


def pytest_report_header(config: pytest.Config) -> str:
    return f"wsframe {wsframe.__version__} from {os.path.dirname(wsframe.__file__)}, default backend: {wsframe.backend}"


class EchoServer:
    """A ``python -m wsframe echo`` subprocess on 127.0.0.1 with a free port."""

    def __init__(self, backend: str, *arguments: str) -> None:
        env = dict(os.environ)
        env.pop("WSFRAME_PURE_PYTHON", None)
        if backend == "python":
            env["WSFRAME_PURE_PYTHON"] = "1"
        self.backend = backend
        # Run outside the checkout: "python -m" would import the source tree.
        self.process = subprocess.Popen(
            [sys.executable, "-m", "wsframe", "echo", "--port", "0", *arguments],
            cwd=tempfile.gettempdir(),
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        #: The start-up line: the address, the backend and the event loop.
        self.banner = line
        match = re.search(r"ws://([\d.]+):(\d+)/", line)
        if match is None:
            self.stop()
            pytest.fail(f"the echo server did not start: {line!r}")
        self.host, self.port = match.group(1), int(match.group(2))
        self.url = f"ws://{self.host}:{self.port}/"

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        assert self.process.stdout is not None
        self.process.stdout.close()


@pytest.fixture(scope="session", params=sorted(BACKEND_MODULES), ids=lambda name: f"backend={name}")
def echo_server(request: pytest.FixtureRequest) -> Iterator[EchoServer]:
    """The reference echo server, framing with each backend in turn."""
    load_backend(request.param)
    server = EchoServer(request.param)
    yield server
    server.stop()


@pytest.fixture
def start_echo_server() -> Iterator[Callable[..., EchoServer]]:
    """Start echo servers with options of the test's choosing; stopped after it."""
    servers: List[EchoServer] = []

    def start(*arguments: str, backend: str = "c") -> EchoServer:
        load_backend(backend)
        servers.append(EchoServer(backend, *arguments))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


# The codec names the connection layer looks up in wsframe._backend when a
# connection is made, and the connection classes: pointed at one backend for
# a test, its connections run on that one (the C backend's connection classes
# are _connection.py compiled, the twin's are _connection.py itself).
CODEC_NAMES = ("FrameDecoder", "MessageDecoder", "encode_frame", "encode_header", "mask", "mask_inplace",
               "parse_header")
CONNECTION_NAMES = ("Connection", "ServerConnection", "ClientConnection")


@pytest.fixture
def on_backend(codec: ModuleType, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> ModuleType:
    """The connections a test makes run on ``codec`` (both backends, in turn):
    its classes replace ``wsframe.ServerConnection`` and the rest, in
    ``wsframe``, in ``wsframe._backend`` and in the test's own module."""
    from wsframe import _backend

    for name in CODEC_NAMES:
        monkeypatch.setattr(_backend, name, getattr(codec, name))
    connections = _backend.connection_classes(codec)
    for name in CONNECTION_NAMES:
        cls = getattr(connections, name)
        for module in (wsframe, _backend, request.module):
            if hasattr(module, name):
                monkeypatch.setattr(module, name, cls)
    return codec
