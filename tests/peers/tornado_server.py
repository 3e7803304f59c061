"""A tornado echo server, optionally with wsframe's drop-in under it.

Usage: python tornado_server.py [--dropin] [--no-compression] [--max-size N] [PORT]

Echoes text as text and binary as binary on any path, with permessage-deflate
accepted (tornado's ``get_compression_options``) unless ``--no-compression``,
and a message limit of ``--max-size`` bytes (16 MiB by default: what the
Autobahn harness asks of a server). Listens on 127.0.0.1, on PORT or a free
port, prints ``PORT <n> <receive loop>`` (the module of the receive loop
tornado runs: ``tornado.websocket`` or ``wsframe.integrations.tornado``), then
one JSON line per finished connection: its path, the messages it echoed, the
close code and reason the server saw, and whether it was compressed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any, Dict, Optional, Union

from tornado.web import Application
from tornado.websocket import WebSocketHandler, WebSocketProtocol13


class EchoHandler(WebSocketHandler):
    def initialize(self, compression: bool) -> None:
        self.compression = compression
        self.echoed = 0
        self.compressed = False

    def open(self) -> None:
        protocol = self.ws_connection
        self.compressed = isinstance(protocol, WebSocketProtocol13) and protocol._compressor is not None

    def check_origin(self, origin: str) -> bool:
        # The browser test's page comes from another port on 127.0.0.1.
        return True

    def get_compression_options(self) -> Optional[Dict[str, Any]]:
        return {} if self.compression else None

    async def on_message(self, message: Union[str, bytes]) -> None:
        self.echoed += 1
        await self.write_message(message, binary=isinstance(message, bytes))

    def on_close(self) -> None:
        print(json.dumps({"path": self.request.path, "echoed": self.echoed, "close_code": self.close_code,
                          "close_reason": self.close_reason, "compressed": self.compressed}), flush=True)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("port", nargs="?", type=int, default=0)
    parser.add_argument("--dropin", action="store_true", help="install wsframe's tornado drop-in first")
    parser.add_argument("--no-compression", action="store_true", help="refuse permessage-deflate")
    parser.add_argument("--max-size", type=int, default=16 << 20, help="websocket_max_message_size")
    arguments = parser.parse_args()
    if arguments.dropin:
        from wsframe.integrations import tornado as dropin

        dropin.install()
    application = Application([(r"/.*", EchoHandler, {"compression": not arguments.no_compression})],
                              websocket_max_message_size=arguments.max_size)
    server = application.listen(arguments.port, "127.0.0.1")
    [port] = {sock.getsockname()[1] for sock in server._sockets.values()}
    print(f"PORT {port} {WebSocketProtocol13._receive_frame_loop.__module__}", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
