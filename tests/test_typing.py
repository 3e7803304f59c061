"""The typed public API: the extension's stub, wsframe/_cframe.pyi, declares
exactly the twin's parameters with precise types; mypy holds callers to
them; both backends' classes have a signature ``inspect`` can read."""

from __future__ import annotations

import ast
import inspect
import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest
from conftest import load_backend
from helpers import missing_peer

import wsframe
from wsframe import _backend, _pyframe

STUB = os.path.join(os.path.dirname(wsframe.__file__), "_cframe.pyi")


def stub_module() -> ast.Module:
    if not os.path.exists(STUB):
        pytest.fail(f"the stub is not installed with the package: {STUB}")
    with open(STUB, encoding="utf-8") as file:
        return ast.parse(file.read())


def stub_parameters(function: ast.FunctionDef) -> list:
    """(name, kind, annotation, default) for each parameter; a default of ``...`` is kept as Ellipsis."""
    arguments = function.args
    positional = arguments.args
    defaults = [None] * (len(positional) - len(arguments.defaults)) + list(arguments.defaults)
    rows = []
    for argument, default in zip(positional, defaults):
        rows.append((argument.arg, "POSITIONAL_OR_KEYWORD", ast.unparse(argument.annotation) if argument.annotation else None,
                     None if default is None else ast.literal_eval(default) if not (
                         isinstance(default, ast.Constant) and default.value is Ellipsis) else ...))
    for argument, default in zip(arguments.kwonlyargs, arguments.kw_defaults):
        rows.append((argument.arg, "KEYWORD_ONLY", ast.unparse(argument.annotation) if argument.annotation else None,
                     None if default is None else ... if (
                         isinstance(default, ast.Constant) and default.value is Ellipsis) else ast.literal_eval(default)))
    return rows


def twin_parameters(function: object) -> list:
    rows = []
    for parameter in inspect.signature(function).parameters.values():  # type: ignore[arg-type]
        default = None if parameter.default is inspect.Parameter.empty else parameter.default
        rows.append((parameter.name, parameter.kind.name, parameter.annotation, default))
    return rows


def same(stub_rows: list, twin_rows: list) -> bool:
    """Same names, kinds and defaults; every stub parameter annotated.

    The annotations may differ: the twin takes ``object`` where it checks
    the argument at run time, and the stub says what callers must pass."""
    if len(stub_rows) != len(twin_rows):
        return False
    for stub_row, twin_row in zip(stub_rows, twin_rows):
        name, kind, annotation, default = stub_row
        # "..." in a stub stands for a default that is not a literal, e.g. Role.SERVER.
        if (name, kind) != twin_row[:2] or annotation is None or (default is not ... and default != twin_row[3]):
            return False
        if default is ... and twin_row[3] is None:
            return False
        if twin_row[2] != "object" and annotation != twin_row[2]:
            return False  # only the twin's run-time-checked "object" may be narrowed
    return True


def test_stub_exports_what_the_twin_exports():
    assigned = [node for node in stub_module().body if isinstance(node, ast.Assign)
                and any(isinstance(target, ast.Name) and target.id == "__all__" for target in node.targets)]
    assert ast.literal_eval(assigned[0].value) == _pyframe.__all__


def test_stub_functions_match_the_twin():
    functions = {node.name: node for node in stub_module().body if isinstance(node, ast.FunctionDef)}
    expected = [name for name in _pyframe.__all__ if inspect.isfunction(getattr(_pyframe, name))]
    assert sorted(functions) == sorted(expected)
    for name, node in functions.items():
        twin = getattr(_pyframe, name)
        assert same(stub_parameters(node), twin_parameters(twin)), name
        assert ast.unparse(node.returns) == twin.__annotations__["return"], name


def test_stub_classes_match_the_twin():
    classes = {node.name: node for node in stub_module().body if isinstance(node, ast.ClassDef)}
    expected = [name for name in _pyframe.__all__ if inspect.isclass(getattr(_pyframe, name))]
    assert sorted(classes) == sorted(expected)
    for name, node in classes.items():
        twin = getattr(_pyframe, name)
        methods = {item.name: item for item in node.body if isinstance(item, ast.FunctionDef)}
        assert set(methods) == {"__init__", "feed", "closed", "bytes_after_close", "undecoded"}, name
        for method_name, method in methods.items():
            twin_member = inspect.getattr_static(twin, method_name)
            if isinstance(twin_member, property):
                assert [ast.unparse(d) for d in method.decorator_list] == ["property"], f"{name}.{method_name}"
                twin_method = twin_member.fget
            else:
                twin_method = twin_member
            assert same(stub_parameters(method)[1:], twin_parameters(twin_method)[1:]), f"{name}.{method_name}"
            assert ast.unparse(method.returns) == twin_method.__annotations__["return"], f"{name}.{method_name}"


def test_package_is_typed():
    assert os.path.exists(os.path.join(os.path.dirname(wsframe.__file__), "py.typed"))


# --- mypy holds callers to the stub ----------------------------------------------


def run_mypy(tmp_path: Path, source: str) -> subprocess.CompletedProcess:
    """mypy --strict on ``source``, against the wsframe that the tests import."""
    try:
        import mypy  # noqa: F401
    except ImportError:
        missing_peer("mypy is not installed (pip install '.[typing]')")
    (tmp_path / "user_code.py").write_text(textwrap.dedent(source), encoding="utf-8")
    env = dict(os.environ)
    package_parent = os.path.dirname(os.path.dirname(wsframe.__file__))
    if os.path.basename(package_parent) not in ("site-packages", "dist-packages"):
        # An editable install or a checkout: mypy does not follow the import
        # hook of an editable install, so point it at the package.
        env["MYPYPATH"] = package_parent
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-error-summary", "--cache-dir", str(tmp_path / "cache"),
         "user_code.py"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )


def test_mypy_holds_callers_to_the_buffer_types(tmp_path: Path) -> None:
    result = run_mypy(tmp_path, """
        import array
        import mmap

        import wsframe

        # Accepted: any buffer where a buffer is wanted.
        wsframe.mask(b"abc", b"\\x00\\x01\\x02\\x03")
        wsframe.mask(bytearray(b"abc"), memoryview(b"\\x00\\x01\\x02\\x03"), 2)
        wsframe.mask_inplace(array.array("B", b"abc"), b"abcd")
        wsframe.parse_header(mmap.mmap(-1, 16))
        wsframe.encode_frame(wsframe.Opcode.TEXT, b"hi", mask=True)
        wsframe.encode_frame(wsframe.Opcode.TEXT, b"hi", mask=b"abcd")
        wsframe.MessageDecoder().feed(memoryview(b""))
        backend: "str" = wsframe.backend

        # Refused, each on its own line:
        wsframe.mask(b"x", 1234)
        wsframe.parse_header("text is not bytes")
        wsframe.FrameDecoder().feed(None)
        wsframe.encode_header(wsframe.Opcode.PING, 0, mask_key=7)
        """)
    errors = [line for line in result.stdout.splitlines() if ": error:" in line]
    lines = sorted({int(line.split(":")[1]) for line in errors})
    assert lines == [18, 19, 20, 21], result.stdout + result.stderr
    assert 'Argument 2 to "mask" has incompatible type "int"' in result.stdout


def test_mypy_knows_the_backend_names(tmp_path: Path) -> None:
    result = run_mypy(tmp_path, """
        import wsframe

        reveal_type(wsframe.backend)
        if wsframe.backend == "cython":
            pass
        """)
    assert "Revealed type is \"Literal['c'] | Literal['python']\"" in result.stdout or \
        "Revealed type is \"Literal['c', 'python']\"" in result.stdout, result.stdout + result.stderr
    # --strict's strict equality: comparing with a name the backend never has is an error.
    assert "Non-overlapping equality check" in result.stdout, result.stdout


# --- signatures at run time, on both backends ---------------------------------------


@pytest.mark.parametrize("backend", ["c", "python"], ids=lambda name: f"backend={name}")
def test_every_public_callable_has_the_twins_signature(backend: str) -> None:
    """``inspect.signature`` (so ``help()``, IDEs and the API reference) reads each
    function's and class's parameters on either backend, the twin's exactly."""
    load_backend(backend)
    code = textwrap.dedent("""
        import inspect, json, wsframe
        from wsframe import _pyframe
        print(json.dumps([wsframe.backend] + [[name, str(inspect.signature(getattr(wsframe, name))),
                          str(inspect.signature(getattr(_pyframe, name)))] for name in _pyframe.__all__
                          if callable(getattr(_pyframe, name))]))
        """)
    env = {key: value for key, value in os.environ.items() if key != "WSFRAME_PURE_PYTHON"}
    if backend == "python":
        env["WSFRAME_PURE_PYTHON"] = "1"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60,
                            cwd=tempfile.gettempdir())
    assert result.returncode == 0, result.stderr
    chosen, *rows = __import__("json").loads(result.stdout)
    assert chosen == backend
    assert {name for name, _, _ in rows} == {"parse_header", "encode_header", "encode_frame", "mask",
                                            "mask_inplace", "FrameDecoder", "MessageDecoder"}
    signatures = {name: signature for name, signature, _ in rows}
    assert signatures["MessageDecoder"].startswith("(role: 'Role' = <Role.SERVER: 'server'>, *, max_frame_size:")
    for name, signature, twin in rows:
        if backend == "python" or name in ("FrameDecoder", "MessageDecoder"):
            assert signature == twin, name
        else:
            # A compiled function carries no annotations (Cython keeps none):
            # its parameters and defaults are the twin's.
            twin_signature = inspect.signature(getattr(_pyframe, name))
            bare = twin_signature.replace(
                parameters=[parameter.replace(annotation=inspect.Parameter.empty)
                            for parameter in twin_signature.parameters.values()],
                return_annotation=inspect.Signature.empty)
            assert signature == str(bare), name


def test_c_decoder_classes_are_the_extensions_own() -> None:
    """What wsframe exports on the C backend is the extension type, subclassed
    with nothing but the twin's signature: its instances are the extension's."""
    load_backend("c")
    if wsframe.backend != "c":
        pytest.skip(f"wsframe chose the {wsframe.backend} backend in this process ({_backend.extension_error})")
    for name in ("FrameDecoder", "MessageDecoder"):
        cls = getattr(wsframe, name)
        extension_type = getattr(_backend._impl, name)
        assert issubclass(cls, extension_type) and cls.__slots__ == ()
        assert isinstance(cls(), extension_type)
        assert (cls.__name__, cls.__qualname__, cls.__module__) == (name, name, "wsframe._cframe")
        assert cls.__doc__ == getattr(_pyframe, name).__doc__
        assert not hasattr(cls(), "__dict__")
