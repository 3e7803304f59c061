"""The one module that chooses the backend; nothing else branches on it.

The C extension ``_cframe`` is used when it loads. ``WSFRAME_PURE_PYTHON=1``
forces the pure-Python twin ``_pyframe``; ``WSFRAME_REQUIRE_EXTENSION=1`` turns
a missing or broken extension into an ImportError instead of a quiet fallback.
"""

from __future__ import annotations

import importlib
import os
import sys
import warnings
from typing import Any, Optional, cast

from . import _pyframe

__all__ = [
    "FrameDecoder",
    "MessageDecoder",
    "backend",
    "encode_frame",
    "encode_header",
    "extension_error",
    "mask",
    "mask_inplace",
    "parse_header",
]


def _flag(name: str) -> bool:
    return os.environ.get(name, "") not in ("", "0")


#: Why the C extension is not in use, or None when it is.
extension_error: Optional[str] = None

_impl = _pyframe
if _flag("WSFRAME_PURE_PYTHON"):
    extension_error = "WSFRAME_PURE_PYTHON is set"
else:
    try:
        # import_module names the missing module in its error, where
        # "from . import _cframe" would blame a circular import.
        _impl = cast(Any, importlib.import_module(f"{__package__}._cframe"))
    except ImportError as exc:
        if _flag("WSFRAME_REQUIRE_EXTENSION"):
            raise ImportError(
                f"WSFRAME_REQUIRE_EXTENSION is set but wsframe's C extension did not load: {exc}"
            ) from exc
        extension_error = f"the C extension did not load: {exc}"
        _package_dir = os.path.dirname(os.path.abspath(__file__))
        if os.path.exists(os.path.join(_package_dir, os.pardir, "setup.py")):
            extension_error += (
                f" (wsframe was imported from its source tree, {_package_dir}, which holds no "
                "compiled extension: run from another directory, or install with 'pip install -e .')"
            )
        if sys.implementation.name == "cpython":
            # On CPython the extension is expected; say so once, loudly. On
            # PyPy the twin is the intended backend.
            warnings.warn(
                f"wsframe is using its slower pure-Python backend because {extension_error}. "
                "Reinstall with a C compiler (and Cython, from a git checkout), or set WSFRAME_PURE_PYTHON=1 to choose the "
                "pure-Python backend on purpose.",
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

#: The backend in use: "c" or "python".
backend = "python" if _impl is _pyframe else "c"
MASK_KERNEL: str = _impl.MASK_KERNEL
UTF8_KERNEL: str = _impl.UTF8_KERNEL
parse_header = _impl.parse_header
encode_header = _impl.encode_header
encode_frame = _impl.encode_frame
mask = _impl.mask
mask_inplace = _impl.mask_inplace
FrameDecoder = _impl.FrameDecoder
MessageDecoder = _impl.MessageDecoder
#: The aiohttp drop-in's reader, queue and writer for this backend, by module
#: name: the drop-in imports it (it needs aiohttp, which wsframe does not).
AIOHTTP_TWIN = f"{__package__}._caiohttp" if _impl is not _pyframe else f"{__package__}._pyaiohttp"
