"""Shared fixtures: every conformance test runs once per backend."""

from __future__ import annotations

import importlib
import os
from types import ModuleType

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
