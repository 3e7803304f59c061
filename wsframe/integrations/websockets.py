"""Drop-in: wsframe under websockets' frame layer.

``install()`` replaces, in ``websockets.frames``:

- ``apply_mask``, which ``Frame.parse`` uses to unmask every frame a server
  receives: wsframe's SIMD masking;
- ``Frame.serialize``: the header and the (masked) payload encoded by wsframe
  in one call, after websockets' own checks and extensions, so exceptions
  and messages stay websockets'.

websockets' header parsing stays its own: its reader hands ``Frame.parse``
the header a field at a time, which wsframe's parser cannot speed up. The
legacy API (``websockets.legacy``) is left alone. ``uninstall()`` restores
websockets' own code.
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Sequence, Union

from websockets import frames

from . import _require_tested_version
from .._backend import encode_frame
from .._backend import mask as _mask

__all__ = ["TESTED_VERSIONS", "install", "installed", "uninstall"]

#: websockets versions the drop-in was tested with (tests/test_integrations_websockets.py).
TESTED_VERSIONS = ("17.4",)

_originals: Dict[str, Any] = {}


def apply_mask(data: Union[bytes, bytearray, memoryview], mask: Union[bytes, bytearray]) -> bytes:
    """websockets' ``apply_mask``, masking with wsframe (same signature and errors)."""
    if len(mask) != 4:
        raise ValueError("mask must contain 4 bytes")  # websockets' own message
    return _mask(data, mask)


def serialize(self: frames.Frame, *, mask: bool, extensions: Optional[Sequence[Any]] = None) -> bytes:
    """websockets' ``Frame.serialize``, encoding with wsframe."""
    self.check()
    for extension in extensions or ():
        self = extension.encode(self)
    # Clients mask with a fresh key from the OS CSPRNG (RFC 6455 section 5.3).
    return encode_frame(self.opcode, self.data, fin=self.fin, rsv1=self.rsv1, rsv2=self.rsv2, rsv3=self.rsv3, mask=mask)


def install() -> None:
    """Put wsframe under websockets; raises ``RuntimeError`` for an untested websockets."""
    _require_tested_version("websockets", TESTED_VERSIONS)
    if installed():
        return
    # websockets.frames imports apply_mask from its speedups or utils module.
    _originals.update(apply_mask=getattr(frames, "apply_mask"), serialize=frames.Frame.serialize)
    setattr(frames, "apply_mask", apply_mask)
    frames.Frame.serialize = serialize  # type: ignore[method-assign]


def uninstall() -> None:
    """Restore websockets' own code."""
    if not installed():
        return
    setattr(frames, "apply_mask", _originals.pop("apply_mask"))
    frames.Frame.serialize = _originals.pop("serialize")  # type: ignore[method-assign]


def installed() -> bool:
    """Whether websockets currently runs on wsframe."""
    return getattr(frames, "apply_mask") is apply_mask
