"""Drop-ins that put wsframe under other WebSocket libraries.

Each submodule has ``install()``, ``uninstall()`` and ``installed()``, and
``SUPPORTED``, the range of the library's releases it supports:

- :mod:`wsframe.integrations.wsproto`: wsproto's frame decoder (header
  parsing and unmasking), frame serialisation and masking.
- :mod:`wsframe.integrations.websockets`: websockets' receive loop, masking
  and frame serialisation.
- :mod:`wsframe.integrations.aiohttp`: aiohttp's WebSocket reader, and its
  writer's frame encoding and masking.

``install()`` refuses a release outside the supported range (CI tests the
oldest and the newest release of each range), unless called with
``force=True``; and it refuses, whatever ``force`` says, a release whose
internals are not where the drop-in expects them, before replacing anything.
"""

from __future__ import annotations

import importlib.metadata
import re
from typing import Sequence, Tuple

_CLAUSE = re.compile(r"\s*(>=|<=|==|<|>)\s*(\d+(?:\.\d+)*)\s*")
_COMPARE = {
    ">=": lambda a, b: a >= b,
    "<=": lambda a, b: a <= b,
    "==": lambda a, b: a == b,
    "<": lambda a, b: a < b,
    ">": lambda a, b: a > b,
}


def _release(version: str) -> Tuple[int, ...]:
    """The numeric release of a version ("17.0.1rc2" -> (17, 0, 1)), zero-padded for comparison."""
    match = re.match(r"\d+(?:\.\d+)*", version)
    if match is None:
        raise ValueError(f"not a release version: {version!r}")
    parts = tuple(int(part) for part in match.group().split("."))
    return parts + (0,) * (4 - len(parts))


def version_in(version: str, supported: str) -> bool:
    """Whether ``version`` falls in ``supported``, clauses like ``>=14.0,<18``
    (a pre-release counts as its release)."""
    for clause in supported.split(","):
        match = _CLAUSE.fullmatch(clause)
        if match is None:
            raise ValueError(f"not a version clause: {clause!r}")
        operator, bound = match.groups()
        if not _COMPARE[operator](_release(version), _release(bound)):
            return False
    return True


def _require_supported_version(library: str, supported: str, force: bool) -> None:
    """Refuse to install a drop-in under a release of ``library`` outside ``supported``."""
    version = importlib.metadata.version(library)
    if not force and not version_in(version, supported):
        raise RuntimeError(
            f"wsframe's {library} drop-in supports {library} {supported}, and {library} {version} is "
            f"installed; install a supported release, leave the drop-in out, or call install(force=True) "
            "to try it anyway (it still refuses internals it does not recognise)"
        )


def _check_layout(library: str, problems: Sequence[str]) -> None:
    """Refuse, before anything is replaced, a release whose internals moved."""
    if problems:
        version = importlib.metadata.version(library)
        raise RuntimeError(
            f"wsframe's {library} drop-in cannot install under {library} {version}: it does not find "
            f"{', '.join(problems)}; nothing was replaced"
        )
