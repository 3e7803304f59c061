"""Command line: ``python -m wsframe info`` and ``python -m wsframe echo``."""

from __future__ import annotations

import argparse
import platform
import sys
from typing import Optional, Sequence

from . import __version__, _backend
from ._types import DEFAULT_MAX_SIZE


def info() -> str:
    """What wsframe runs on here: version, backend, mask and UTF-8 kernels, Python."""
    backend = _backend.backend
    if _backend.extension_error is not None:
        backend += f" ({_backend.extension_error})"
    lines = [
        f"wsframe {__version__}",
        f"backend: {backend}",
        f"mask kernel: {_backend.MASK_KERNEL}",
        f"utf-8 kernel: {_backend.UTF8_KERNEL}",
        f"python: {platform.python_implementation()} {platform.python_version()}"
        f" on {platform.system()} {platform.machine()}",
    ]
    return "\n".join(lines)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m wsframe", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("info", help="show the version, the backend in use and the platform")
    echo = commands.add_parser("echo", help="run the reference echo server (wsframe does all its framing)")
    echo.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    echo.add_argument("--port", type=int, default=9001, help="port to listen on (default: %(default)s)")
    echo.add_argument(
        "--allowed-origin",
        action="append",
        dest="allowed_origins",
        metavar="ORIGIN",
        help="accept only handshakes with this Origin header (repeatable; default: any)",
    )
    echo.add_argument(
        "--max-message-size",
        type=int,
        default=DEFAULT_MAX_SIZE,
        help="largest message accepted, in bytes; larger ones close the connection with 1009 (default: %(default)s)",
    )
    echo.add_argument("--idle-timeout", type=float, default=60.0, help="seconds without data before closing (default: %(default)s)")
    echo.add_argument(
        "--no-compression", action="store_true", help="decline permessage-deflate (RFC 7692), which is otherwise accepted"
    )
    echo.add_argument(
        "--handshake-timeout", type=float, default=10.0, help="seconds a client has to send its upgrade request (default: %(default)s)"
    )
    arguments = parser.parse_args(argv)
    if arguments.command == "info":
        print(info())
    elif arguments.command == "echo":
        from . import _echo

        config = _echo.EchoConfig(
            allowed_origins=arguments.allowed_origins,
            max_message_size=arguments.max_message_size,
            idle_timeout=arguments.idle_timeout,
            handshake_timeout=arguments.handshake_timeout,
            compression=not arguments.no_compression,
        )
        _echo.run(arguments.host, arguments.port, config)
    return 0


if __name__ == "__main__":
    sys.exit(main())
