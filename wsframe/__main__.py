"""Command line: ``python -m wsframe info``."""

from __future__ import annotations

import argparse
import platform
import sys
from typing import Optional, Sequence

from . import __version__, _backend


def info() -> str:
    """What wsframe runs on here: version, backend, mask kernel, Python."""
    backend = _backend.backend
    if _backend.extension_error is not None:
        backend += f" ({_backend.extension_error})"
    lines = [
        f"wsframe {__version__}",
        f"backend: {backend}",
        f"mask kernel: {_backend.MASK_KERNEL}",
        f"python: {platform.python_implementation()} {platform.python_version()}"
        f" on {platform.system()} {platform.machine()}",
    ]
    return "\n".join(lines)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m wsframe", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("info", help="show the version, the backend in use and the platform")
    arguments = parser.parse_args(argv)
    if arguments.command == "info":
        print(info())
    return 0


if __name__ == "__main__":
    sys.exit(main())
