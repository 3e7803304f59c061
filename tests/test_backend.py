"""Backend selection, `python -m wsframe info`, and parity of the two backends."""

from __future__ import annotations

import inspect
import os
import subprocess
import sys
import tempfile

import pytest
from conftest import extension_required

import wsframe
from wsframe import _backend, _pyframe


# Subprocesses start in an empty directory: "python -c" and "python -m" put the
# current directory first on sys.path, and the repository root holds the
# uncompiled source tree rather than the installed package.
NEUTRAL_DIRECTORY = tempfile.gettempdir()


def run_python(*arguments: str, **environment: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WSFRAME_")}
    env.update(environment)
    return subprocess.run(
        [sys.executable, *arguments], capture_output=True, text=True, env=env, timeout=60, cwd=NEUTRAL_DIRECTORY
    )


def test_extension_is_in_use_whenever_it_was_required():
    # CI builds with WSFRAME_REQUIRE_EXTENSION=1 and keeps it set for the tests,
    # so a silent fallback to the pure-Python backend fails here.
    if not extension_required():
        pytest.skip("WSFRAME_REQUIRE_EXTENSION is not set")
    assert wsframe.backend == "c"
    assert _backend.extension_error is None
    assert wsframe.parse_header is _backend._impl.parse_header
    assert type(wsframe.mask).__name__ == "cython_function_or_method"


def test_pure_python_is_forced_by_the_environment():
    result = run_python("-c", "import wsframe; print(wsframe.backend, wsframe.mask.__module__)", WSFRAME_PURE_PYTHON="1")
    assert result.stdout.split() == ["python", "wsframe._pyframe"], result.stderr


@pytest.mark.parametrize("value", ["", "0"])
def test_pure_python_flag_off_values_keep_the_default(value):
    result = run_python("-c", "import wsframe; print(wsframe.backend)", WSFRAME_PURE_PYTHON=value)
    assert result.stdout.strip() == wsframe.backend


BLOCK_EXTENSION = "import sys; sys.modules['wsframe._cframe'] = None\n"


def test_missing_extension_falls_back_to_python_with_the_reason():
    result = run_python("-c", BLOCK_EXTENSION + "import wsframe, wsframe._backend as b; print(wsframe.backend); print(b.extension_error)")
    backend, reason = result.stdout.splitlines()
    assert backend == "python"
    assert "C extension did not load" in reason
    assert "wsframe._cframe" in reason
    if sys.implementation.name == "cpython":
        assert "RuntimeWarning: wsframe is using its slower pure-Python backend" in result.stderr
    else:  # on PyPy the twin is the intended backend: no warning
        assert result.stderr == ""


def test_a_missing_compiled_connection_layer_falls_back_to_python_as_a_whole():
    # "c" means the codec and the connection layer are both compiled: never
    # one of them alone.
    if _backend.C_CONNECTION_MODULE.endswith("._connection"):
        pytest.skip("a free-threaded build: its C backend keeps the interpreted connection layer")
    block = f"import sys; sys.modules[{_backend.C_CONNECTION_MODULE!r}] = None\n"
    result = run_python("-c", block + "import wsframe, wsframe._backend as b; print(wsframe.backend); "
                        "print(wsframe.ServerConnection.__module__); print(b.extension_error)")
    backend, module, reason = result.stdout.splitlines()
    assert (backend, module) == ("python", "wsframe._connection")
    assert "wsframe._cconnection" in reason


def test_forced_pure_python_does_not_warn():
    result = run_python("-c", "import wsframe", WSFRAME_PURE_PYTHON="1")
    assert result.returncode == 0 and result.stderr == ""


def test_missing_extension_is_an_error_when_required():
    result = run_python("-c", BLOCK_EXTENSION + "import wsframe", WSFRAME_REQUIRE_EXTENSION="1")
    assert result.returncode != 0
    assert "WSFRAME_REQUIRE_EXTENSION is set but wsframe's C extension did not load" in result.stderr


def test_info_command():
    result = run_python("-m", "wsframe", "info", **{k: v for k, v in os.environ.items() if k.startswith("WSFRAME_")})
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"wsframe {wsframe.__version__}"
    assert lines[1].startswith(f"backend: {wsframe.backend}")
    assert lines[2] == f"mask kernel: {_backend.MASK_KERNEL}"
    assert lines[3] == f"utf-8 kernel: {_backend.UTF8_KERNEL}"
    assert lines[4].startswith("connection layer: ")
    assert lines[4].endswith(f"({_backend.ServerConnection.__module__})")
    assert lines[5].startswith("python: ")


def test_info_command_shows_forced_twin():
    result = run_python("-m", "wsframe", "info", WSFRAME_PURE_PYTHON="1")
    assert "backend: python (WSFRAME_PURE_PYTHON is set)" in result.stdout


def test_backends_export_the_same_functions_and_signatures(c_codec, py_codec):
    assert c_codec.__all__ == py_codec.__all__
    for name in py_codec.__all__:
        c_object, py_object = getattr(c_codec, name), getattr(py_codec, name)
        if isinstance(py_object, type):
            # Extension types have no introspectable signature: check that the
            # C class takes every parameter of the twin's, by keyword, with
            # the twin's defaults, and refuses what the twin refuses.
            # Python 3.13 dedents docstrings at compile time and Cython does not.
            assert inspect.cleandoc(c_object.__doc__) == inspect.cleandoc(py_object.__doc__), name
            py_parameters = list(inspect.signature(py_object).parameters.values())
            c_object(**{p.name: p.default for p in py_parameters})
            for bad_keyword in ({"no_such_option": 1}, {"max_size": 1}):
                with pytest.raises(TypeError):
                    c_object(**bad_keyword)
                with pytest.raises(TypeError):
                    py_object(**bad_keyword)
        elif callable(py_object):
            c_parameters = inspect.signature(c_object).parameters
            py_parameters = inspect.signature(py_object).parameters
            assert [(p.name, p.kind, p.default) for p in c_parameters.values()] == [
                (p.name, p.kind, p.default) for p in py_parameters.values()
            ], name


def test_public_functions_are_documented():
    for name in ("parse_header", "encode_header", "encode_frame", "mask", "mask_inplace"):
        function = getattr(wsframe, name)
        assert function.__doc__ == getattr(_pyframe, name).__doc__
        assert "RFC 6455" in function.__doc__


def test_public_api_is_complete():
    for name in wsframe.__all__:
        assert getattr(wsframe, name) is not None


class TestProtocolError:
    def test_carries_close_code_and_reason(self):
        error = wsframe.ProtocolError("bad frame")
        assert error.close_code is wsframe.CloseCode.PROTOCOL_ERROR
        assert error.reason == "bad frame"
        assert str(error) == "bad frame (close code 1002, PROTOCOL_ERROR)"

    def test_payload_too_big_is_a_protocol_error_with_1009(self):
        error = wsframe.PayloadTooBig("too big")
        assert isinstance(error, wsframe.ProtocolError)
        assert error.close_code == 1009

    def test_survives_pickling(self):
        import pickle

        for error in (wsframe.ProtocolError("x", 1007), wsframe.PayloadTooBig("y")):
            copy = pickle.loads(pickle.dumps(error))
            assert (type(copy), copy.reason, copy.close_code) == (type(error), error.reason, error.close_code)
