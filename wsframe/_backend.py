"""The one module that chooses the backend; nothing else branches on it.

The C extension ``_cframe`` is used when it loads. ``WSFRAME_PURE_PYTHON=1``
forces the pure-Python twin ``_pyframe``; ``WSFRAME_REQUIRE_EXTENSION=1`` turns
a missing or broken extension into an ImportError instead of a fallback.

Whether a missing extension is worth a warning depends on how this copy of
wsframe was built, which ``setup.py`` records in ``_build.json`` beside this
file when it leaves the extension out:

- ``{"extension": "skipped"}``: the pure-Python build on purpose
  (``WSFRAME_NO_EXTENSION=1``, the ``py3-none-any`` wheel): the twin is the
  intended backend, and importing it is silent;
- ``{"extension": "failed", "why": ...}``: the build tried and could not (no
  compiler, no Cython): a one-time ``RuntimeWarning`` says why, and
  ``wsframe info`` shows it;
- no record: the extension was built (or this is a source checkout), so a
  missing one is a broken install or an import from the source tree, and
  warns.

On PyPy the twin is always the intended backend and nothing warns.

For static type checkers the public functions and classes are the ones
``_cframe.pyi`` declares, which both backends implement.
"""

from __future__ import annotations

import importlib
import inspect
import json
import os
import sys
import sysconfig
import warnings
from typing import TYPE_CHECKING, Any, Dict, Literal, Optional, cast

from . import _pyframe

__all__ = [
    "ClientConnection",
    "Connection",
    "FrameDecoder",
    "MessageDecoder",
    "backend",
    "build_record",
    "connection_classes",
    "encode_frame",
    "encode_header",
    "extension_error",
    "mask",
    "mask_inplace",
    "parse_header",
    "ServerConnection",
]

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
#: The file setup.py writes beside this one when it builds wsframe without its extension.
BUILD_RECORD = os.path.join(_PACKAGE_DIR, "_build.json")


def _flag(name: str) -> bool:
    return os.environ.get(name, "") not in ("", "0")


def _read_build_record() -> Optional[Dict[str, str]]:
    try:
        with open(BUILD_RECORD, encoding="utf-8") as file:
            record = json.load(file)
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or record.get("extension") not in ("skipped", "failed"):
        return None
    return {str(key): str(value) for key, value in record.items()}


#: How this copy was built without its extension, as setup.py recorded it
#: (``{"extension": "skipped" | "failed", "why": ...}``), or None.
build_record: Optional[Dict[str, str]] = _read_build_record()

#: Why the C extension is not in use, or None when it is.
extension_error: Optional[str] = None

#: The module of the C backend's connection layer: ``_connection.py``
#: compiled as ``_cconnection`` (setup.py), except on free-threaded builds,
#: where the interpreted copy serves both backends (a compiled class's
#: fields are not guarded like an object's attributes are without the GIL).
C_CONNECTION_MODULE = (f"{__package__}._connection" if sysconfig.get_config_var("Py_GIL_DISABLED")
                       else f"{__package__}._cconnection")

_impl: Any = _pyframe
_connection_impl: Any = None
if _flag("WSFRAME_PURE_PYTHON"):
    extension_error = "WSFRAME_PURE_PYTHON is set"
else:
    try:
        # import_module names the missing module in its error, where
        # "from . import _cframe" would blame a circular import.
        _impl = cast(Any, importlib.import_module(f"{__package__}._cframe"))
        # The compiled connection layer is part of the extension: without
        # it, the twin serves (so "c" always means both are compiled).
        _connection_impl = importlib.import_module(C_CONNECTION_MODULE)
    except ImportError as exc:
        _impl, _connection_impl = _pyframe, None
        if _flag("WSFRAME_REQUIRE_EXTENSION"):
            raise ImportError(
                f"WSFRAME_REQUIRE_EXTENSION is set but wsframe's C extension did not load: {exc}"
            ) from exc
        warn = sys.implementation.name == "cpython"  # on PyPy the twin is the intended backend
        reinstall = "Reinstall with a C compiler (and Cython, from a git checkout)"
        if build_record is not None and build_record["extension"] == "skipped":
            extension_error = "the pure-Python build: installed without the C extension on purpose ({})".format(
                build_record.get("why", "WSFRAME_NO_EXTENSION=1"))
            warn = False
        elif build_record is not None:
            extension_error = "this wsframe was installed without its C extension: {}".format(
                build_record.get("why", "the build could not make it"))
            # pip keeps the wheel it built in its cache: without --no-cache-dir
            # a reinstall would take the same extension-less wheel again.
            reinstall += " without pip's cache (pip install --force-reinstall --no-cache-dir ...)"
        else:
            extension_error = f"the C extension did not load: {exc}"
            if os.path.exists(os.path.join(_PACKAGE_DIR, os.pardir, "setup.py")):
                extension_error += (
                    f" (wsframe was imported from its source tree, {_PACKAGE_DIR}, which holds no "
                    "compiled extension: run from another directory, or install with 'pip install -e .')"
                )
        if warn:
            # Said once, at import; `wsframe info` says it again on demand.
            warnings.warn(
                f"wsframe is using its slower pure-Python backend because {extension_error}. "
                f"{reinstall}, or set WSFRAME_PURE_PYTHON=1 to choose the pure-Python backend on purpose.",
                RuntimeWarning,
                stacklevel=2,
            )
    else:
        # The twin is the reference: its docstrings document both backends.
        # (Extension types carry their own copy; a test keeps them equal.)
        for _name in _pyframe.__all__:
            _function = getattr(_impl, _name)
            if callable(_function) and not isinstance(_function, type):
                _function.__doc__ = getattr(_pyframe, _name).__doc__


def _with_signature(extension_type: Any, twin: type) -> Any:
    """``extension_type`` as a subclass that adds nothing but its twin's signature.

    An extension type's constructor has no signature ``inspect`` can read
    (its ``__init__`` is a C slot, and a text signature cannot spell a
    default such as ``Role.SERVER``), and the type itself cannot be given a
    ``__signature__``. This subclass can: same slots, same methods, same
    speed (its instances are instances of the extension type), so
    ``inspect.signature``, ``help()`` and the API reference show the same
    parameters on both backends.
    """
    namespace = {
        "__slots__": (),
        "__signature__": inspect.signature(twin),
        "__doc__": twin.__doc__,
        "__module__": extension_type.__module__,
        "__qualname__": extension_type.__qualname__,
    }
    return type(extension_type)(extension_type.__name__, (extension_type,), namespace)


if TYPE_CHECKING:
    # Type checkers read the public API from the extension's stub, which
    # both backends implement (the twin's own annotations are looser: it
    # checks its arguments at run time).
    from ._cframe import (
        MASK_KERNEL as MASK_KERNEL,
        UTF8_KERNEL as UTF8_KERNEL,
        FrameDecoder as FrameDecoder,
        MessageDecoder as MessageDecoder,
        encode_frame as encode_frame,
        encode_header as encode_header,
        mask as mask,
        mask_inplace as mask_inplace,
        parse_header as parse_header,
    )

    from ._connection import ClientConnection as ClientConnection, Connection as Connection, \
        ServerConnection as ServerConnection

    #: The backend in use: "c" or "python".
    backend: Literal["c", "python"]
else:
    backend = "python" if _impl is _pyframe else "c"
    MASK_KERNEL = _impl.MASK_KERNEL
    UTF8_KERNEL = _impl.UTF8_KERNEL
    parse_header = _impl.parse_header
    encode_header = _impl.encode_header
    encode_frame = _impl.encode_frame
    mask = _impl.mask
    mask_inplace = _impl.mask_inplace
    if _impl is _pyframe:
        FrameDecoder = _impl.FrameDecoder
        MessageDecoder = _impl.MessageDecoder
    else:
        FrameDecoder = _with_signature(_impl.FrameDecoder, _pyframe.FrameDecoder)
        MessageDecoder = _with_signature(_impl.MessageDecoder, _pyframe.MessageDecoder)
    # The connection layer: the same source on both backends, compiled on the C one.
    _twin_connection: Any = importlib.import_module(f"{__package__}._connection")
    if _connection_impl is None:
        _connection_impl = _twin_connection
    # Connection is not made directly: left as it is, so that both sides are
    # instances of it.
    Connection = _connection_impl.Connection
    if _connection_impl is _twin_connection:
        ServerConnection = _twin_connection.ServerConnection
        ClientConnection = _twin_connection.ClientConnection
    else:
        ServerConnection = _with_signature(_connection_impl.ServerConnection, _twin_connection.ServerConnection)
        ClientConnection = _with_signature(_connection_impl.ClientConnection, _twin_connection.ClientConnection)


def connection_classes(codec: Any) -> Any:
    """The connection classes that run with ``codec`` (the module ``_cframe``
    or ``_pyframe``), as attributes ``Connection``, ``ServerConnection`` and
    ``ClientConnection`` of what it returns: the C backend's compiled copy of
    the connection layer, or the twin's interpreted one. For the tests,
    benchmarks and fuzzers that run connections on each backend in one
    process."""
    if codec is _pyframe:
        return importlib.import_module(f"{__package__}._connection")
    if codec is _impl:
        return sys.modules[__name__]  # the classes in use, with their signatures
    return importlib.import_module(C_CONNECTION_MODULE)


#: The aiohttp drop-in's reader, queue and writer for this backend, by module
#: name: the drop-in imports it (it needs aiohttp, which wsframe does not).
AIOHTTP_TWIN = f"{__package__}._caiohttp" if _impl is not _pyframe else f"{__package__}._pyaiohttp"
