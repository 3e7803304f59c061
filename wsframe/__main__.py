"""Command line: ``wsframe info``, ``wsframe echo`` and ``wsframe client``."""

from __future__ import annotations

import argparse
import asyncio
import errno
import logging
import os
import platform
import sys
from typing import Callable, Optional, Sequence, Tuple

from . import __version__, _backend
from ._types import DEFAULT_MAX_SIZE

DESCRIPTION = "wsframe, a strict and fast WebSocket codec: its details, its reference echo server and client."


def info() -> str:
    """What wsframe runs on here: version, backend, mask and UTF-8 kernels, Python."""
    backend: str = _backend.backend
    if _backend.extension_error is not None:
        backend += f" ({_backend.extension_error})"
    lines = [
        f"wsframe {__version__}",
        f"backend: {backend}",
        f"mask kernel: {_backend.MASK_KERNEL}",
        f"utf-8 kernel: {_backend.UTF8_KERNEL}",
        "connection layer: " + ("compiled" if _backend.ServerConnection.__module__.endswith("_cconnection")
                                else "interpreted") + f" ({_backend.ServerConnection.__module__})",
        f"python: {platform.python_implementation()} {platform.python_version()}"
        f" on {platform.system()} {platform.machine()}",
    ]
    return "\n".join(lines)


def _program_name() -> str:
    # "python -m wsframe" runs this file as __main__; the console script is "wsframe".
    argv0 = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else "wsframe"
    return "python -m wsframe" if argv0 == "__main__.py" else argv0


def _event_loop_policy(loop: str) -> Tuple[Optional[Callable[[], asyncio.AbstractEventLoop]], str]:
    """The loop factory for ``--loop`` and the name the banner shows: uvloop
    if asked (or, for auto, installed); aiofastnet's compiled transports on
    asyncio's loop if asked; else asyncio's own."""
    if loop == "aiofastnet":
        try:
            import aiofastnet
        except ImportError:
            raise SystemExit("error: --loop aiofastnet, but aiofastnet is not installed "
                             "(pip install aiofastnet)") from None
        return aiofastnet.loop_factory(), "asyncio with aiofastnet transports"
    if loop == "asyncio":
        return None, "asyncio"
    try:
        import uvloop
    except ImportError:
        if loop == "uvloop":
            raise SystemExit("error: --loop uvloop, but uvloop is not installed (pip install uvloop)") from None
        return None, "asyncio"
    return uvloop.new_event_loop, "uvloop"


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog=_program_name(), description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"wsframe {__version__} (backend: {_backend.backend})")
    commands = parser.add_subparsers(dest="command", required=True, metavar="{info,echo,client}")
    commands.add_parser("info", help="show the version, the backend in use and the platform")

    echo = commands.add_parser("echo", help="run the reference echo server (wsframe does all its framing)")
    echo.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    echo.add_argument("--port", type=int, default=9001, help="port to listen on; 0 picks a free one (default: %(default)s)")
    echo.add_argument("--allowed-origin", action="append", dest="allowed_origins", metavar="ORIGIN",
                      help="accept only handshakes with this Origin header (repeatable; default: any)")
    echo.add_argument("--max-message-size", type=int, default=DEFAULT_MAX_SIZE,
                      help="largest message accepted, in bytes; larger ones close the connection with 1009 "
                           "(default: %(default)s)")
    echo.add_argument("--no-compression", action="store_true",
                      help="decline permessage-deflate (RFC 7692), which is otherwise accepted")
    echo.add_argument("--handshake-timeout", type=float, default=10.0,
                      help="seconds a client has to send its upgrade request (default: %(default)s)")
    echo.add_argument("--idle-timeout", type=float, default=60.0,
                      help="seconds without data before the server closes (default: %(default)s)")
    echo.add_argument("--close-timeout", type=float, default=5.0,
                      help="seconds a peer has to finish the closing handshake (default: %(default)s)")
    echo.add_argument("--loop", choices=("auto", "asyncio", "uvloop", "aiofastnet"), default="auto",
                      help="event loop: uvloop if installed (auto), or the one named; aiofastnet is "
                           "asyncio's loop with aiofastnet's compiled transports (default: %(default)s)")
    echo.add_argument("--log-level", choices=("debug", "info", "warning", "error"), default="info",
                      help="what the server logs to stderr: refused handshakes and failed connections at info, "
                           "every connection at debug (default: %(default)s)")

    client = commands.add_parser("client", help="connect to a WebSocket server: send stdin's lines, print replies")
    client.add_argument("uri", help="ws:// or wss:// URI of the server")
    client.add_argument("--origin", help="Origin header to send")
    client.add_argument("--subprotocol", action="append", dest="subprotocols", default=[], metavar="NAME",
                        help="offer this subprotocol (repeatable)")
    client.add_argument("--no-compression", action="store_true", help="do not offer permessage-deflate")
    client.add_argument("--close-timeout", type=float, default=5.0,
                        help="seconds the server has to close TCP after the closing handshake (default: %(default)s)")
    client.add_argument("--linger", type=float, default=1.0,
                        help="once stdin ends, close after this many seconds without a message (default: %(default)s)")

    arguments = parser.parse_args(argv)
    if arguments.command == "info":
        print(info())
    elif arguments.command == "echo":
        return _echo(arguments)
    elif arguments.command == "client":
        from . import _client

        return _client.run(arguments.uri, origin=arguments.origin, subprotocols=arguments.subprotocols,
                           compression=not arguments.no_compression, close_timeout=arguments.close_timeout,
                           linger=arguments.linger)
    return 0


def _echo(arguments: argparse.Namespace) -> int:
    from . import _echo

    logging.basicConfig(level=arguments.log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s")
    config = _echo.EchoConfig(
        allowed_origins=arguments.allowed_origins,
        max_message_size=arguments.max_message_size,
        idle_timeout=arguments.idle_timeout,
        handshake_timeout=arguments.handshake_timeout,
        close_timeout=arguments.close_timeout,
        compression=not arguments.no_compression,
    )
    loop_factory, loop_name = _event_loop_policy(arguments.loop)
    try:
        _echo.run(arguments.host, arguments.port, config, banner=f" (backend {_backend.backend}, {loop_name})",
                  loop_factory=loop_factory)
    except OSError as error:
        if error.errno in (errno.EADDRINUSE, errno.EACCES, errno.EADDRNOTAVAIL):
            print(f"wsframe echo: cannot listen on {arguments.host}:{arguments.port}: {error.strerror}",
                  file=sys.stderr)
            return 1
        raise
    return 0


if __name__ == "__main__":
    sys.exit(main())
