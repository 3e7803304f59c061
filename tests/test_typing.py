"""The extension's stub, wsframe/_cframe.pyi, says exactly what the twin does."""

from __future__ import annotations

import ast
import inspect
import os

import pytest

import wsframe
from wsframe import _pyframe

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
    if len(stub_rows) != len(twin_rows):
        return False
    for stub_row, twin_row in zip(stub_rows, twin_rows):
        name, kind, annotation, default = stub_row
        # "..." in a stub stands for a default that is not a literal, e.g. Role.SERVER.
        if (name, kind, annotation) != twin_row[:3] or (default is not ... and default != twin_row[3]):
            return False
        if default is ... and twin_row[3] is None:
            return False
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
