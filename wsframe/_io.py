"""What wsframe's asyncio I/O layers (``_echo.py``, ``_client.py``,
``integrations/uvicorn.py``) share about writing to a transport."""

from __future__ import annotations

import asyncio
from typing import List


def write_output(transport: asyncio.WriteTransport, output: List[bytes]) -> None:
    """Write what :meth:`~wsframe.Connection.data_to_send` returned, as one buffer.

    Not with ``writelines()``: on CPython 3.12 and 3.13 asyncio's socket
    transport never calls the protocol's ``pause_writing()`` from it, so a
    peer that stops reading would grow the transport's buffer unseen by the
    I/O layer's flow control."""
    transport.write(output[0] if len(output) == 1 else b"".join(output))
