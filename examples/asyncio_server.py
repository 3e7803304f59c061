"""A WebSocket server on wsframe's public API: asyncio does the I/O, ServerConnection the protocol.

It greets each client, answers every text message in capitals and echoes
binary ones; it refuses browsers from other sites.

    python examples/asyncio_server.py 8765
"""

import asyncio
import sys

import wsframe

ALLOWED_ORIGINS = {None, "http://localhost:8000"}  # None: clients that send no Origin
CLOSE_TIMEOUT = 5.0


class WebSocketProtocol(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport
        self.connection = wsframe.ServerConnection(origins=ALLOWED_ORIGINS, max_message_size=1 << 20)
        self.closing = None

    def data_received(self, data):
        self.connection.receive_data(data)
        self.process()

    def eof_received(self):
        self.connection.receive_eof()
        self.process()

    def connection_lost(self, exc):
        if self.closing is not None:
            self.closing.cancel()

    def process(self):
        connection = self.connection
        self.write()
        while events := connection.events_received():
            for event in events:
                if isinstance(event, wsframe.Request):
                    if event.path != "/":
                        connection.reject(404, b"nothing here\n")
                        continue
                    connection.accept()
                    connection.send_text("hello")
                elif isinstance(event, wsframe.TextMessage) and connection.can_send:
                    connection.send_text(event.data.upper())
                elif isinstance(event, wsframe.BinaryMessage) and connection.can_send:
                    connection.send_binary(event.data)
            self.write()
        if connection.close_expected():
            self.transport.close()
        elif connection.state is wsframe.State.CLOSING and self.closing is None:
            # The peer has CLOSE_TIMEOUT seconds to finish the closing handshake.
            self.closing = asyncio.get_running_loop().call_later(CLOSE_TIMEOUT, self.transport.abort)
        # Backpressure: the connection keeps input back while its output waits.
        if connection.receiving_paused:
            self.transport.pause_reading()
        else:
            self.transport.resume_reading()

    def write(self):
        for data in self.connection.data_to_send():
            self.transport.write(data)


async def main(port):
    server = await asyncio.get_running_loop().create_server(WebSocketProtocol, "127.0.0.1", port)
    print(f"listening on ws://127.0.0.1:{server.sockets[0].getsockname()[1]}/", flush=True)
    await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 8765))
