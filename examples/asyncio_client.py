"""A WebSocket client on wsframe's public API: asyncio streams do the I/O, ClientConnection the protocol.

Prints the server's greeting, sends each argument as a text message and
prints its answer, then closes. Made for examples/asyncio_server.py:

    python examples/asyncio_client.py ws://127.0.0.1:8765/ hello world
"""

import asyncio
import collections
import ssl
import sys

import wsframe


class Client:
    def __init__(self, uri):
        self.connection = wsframe.ClientConnection(uri)
        self.events = collections.deque()

    async def connect(self):
        address = self.connection.uri
        context = ssl.create_default_context() if address.secure else None
        self.reader, self.writer = await asyncio.open_connection(address.host, address.port, ssl=context)
        await self.flush()  # the upgrade request
        while self.connection.state is wsframe.State.CONNECTING:
            await self.read()
        if self.connection.state is not wsframe.State.OPEN:
            raise ConnectionError(f"handshake failed: {self.connection.failure}")

    async def flush(self):
        for data in self.connection.data_to_send():
            self.writer.write(data)
        await self.writer.drain()

    async def read(self):
        data = await self.reader.read(65536)
        if data:
            self.connection.receive_data(data)
        else:
            self.connection.receive_eof()
        while events := self.connection.events_received():
            self.events.extend(events)
        await self.flush()  # pongs, the answer to the server's close

    async def receive_text(self):
        """The next text message, or None once the connection is over."""
        while True:
            while self.events:
                event = self.events.popleft()
                if isinstance(event, wsframe.TextMessage):
                    return event.data
            if self.connection.state is wsframe.State.CLOSED:
                return None
            await self.read()

    async def close(self):
        if self.connection.can_send:
            self.connection.send_close(1000)
            await self.flush()
        # The server closes TCP after the closing handshake (RFC 6455 section 7.1.1).
        while self.connection.state is not wsframe.State.CLOSED or not self.connection.close_expected():
            await asyncio.wait_for(self.read(), 5)
        self.writer.close()


async def main(uri, messages):
    client = Client(uri)
    await client.connect()
    print(await client.receive_text())
    for message in messages:
        client.connection.send_text(message)
        await client.flush()
        print(await client.receive_text())
    await client.close()
    print(f"closed with {client.connection.close_code}")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2:]))
