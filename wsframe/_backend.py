"""The one module that chooses the backend; nothing else branches on it.

The C extension ``_cframe`` is used when it loads. ``WSFRAME_PURE_PYTHON=1``
forces the pure-Python twin ``_pyframe``; ``WSFRAME_REQUIRE_EXTENSION=1`` turns
a missing or broken extension into an ImportError instead of a quiet fallback.
"""

from __future__ import annotations

import os
from typing import Optional

from . import _pyframe

__all__ = ["backend", "encode_frame", "encode_header", "extension_error", "mask", "mask_inplace", "parse_header"]


def _flag(name: str) -> bool:
    return os.environ.get(name, "") not in ("", "0")


#: Why the C extension is not in use, or None when it is.
extension_error: Optional[str] = None

if _flag("WSFRAME_PURE_PYTHON"):
    _impl = _pyframe
    extension_error = "WSFRAME_PURE_PYTHON is set"
else:
    try:
        from . import _cframe as _impl  # type: ignore[no-redef]
    except ImportError as exc:
        if _flag("WSFRAME_REQUIRE_EXTENSION"):
            raise ImportError(
                f"WSFRAME_REQUIRE_EXTENSION is set but wsframe's C extension did not load: {exc}"
            ) from exc
        _impl = _pyframe
        extension_error = f"the C extension did not load: {exc}"
    else:
        # The twin is the reference: its docstrings document both backends.
        for _name in _pyframe.__all__:
            _function = getattr(_impl, _name)
            if callable(_function):
                _function.__doc__ = getattr(_pyframe, _name).__doc__

#: The backend in use: "c" or "python".
backend = "python" if _impl is _pyframe else "c"
MASK_KERNEL: str = _impl.MASK_KERNEL
parse_header = _impl.parse_header
encode_header = _impl.encode_header
encode_frame = _impl.encode_frame
mask = _impl.mask
mask_inplace = _impl.mask_inplace
