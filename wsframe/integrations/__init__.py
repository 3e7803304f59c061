"""Drop-ins that put wsframe under other WebSocket libraries.

Each submodule has ``install()``, ``uninstall()`` and ``installed()``:

- :mod:`wsframe.integrations.wsproto`: wsproto's frame decoder (header
  parsing and unmasking), frame serialisation and masking.
- :mod:`wsframe.integrations.websockets`: websockets' masking and frame
  serialisation.

``install()`` refuses a version of the library it was not tested with, so an
upgrade of that library cannot silently change what runs.
"""

from __future__ import annotations

import importlib.metadata
from typing import Tuple


def _require_tested_version(library: str, tested: Tuple[str, ...]) -> None:
    """Refuse to install a drop-in under a version of ``library`` it was not tested with."""
    version = importlib.metadata.version(library)
    if version not in tested:
        raise RuntimeError(
            f"wsframe's {library} drop-in was tested with {library} {', '.join(tested)}, "
            f"and {library} {version} is installed; install a tested version or leave the drop-in out"
        )
