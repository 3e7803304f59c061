"""Drop-in: wsframe under aiohttp's WebSocket reader and writer.

``install()`` puts wsframe under the two ends of aiohttp's WebSocket
framing, for its server (``aiohttp.web``) and its client
(``ClientSession.ws_connect``) alike:

- **Reading.** :class:`WebSocketReader` and its queue,
  :class:`WebSocketDataQueue`, take the place of aiohttp's wherever aiohttp
  binds those names (``web_ws``, ``client``, ``client_ws``,
  ``http_websocket``, ``http``). With wsframe's C backend both are compiled
  (``wsframe._caiohttp``): frames are split, unmasked and checked in C, and a
  frame that is a whole message goes on the queue without a Python call;
  with the pure-Python backend they are ``wsframe._pyaiohttp``'s, on
  aiohttp's pure-Python queue. ``wsframe._backend`` alone chooses. What the
  reader keeps of aiohttp's is all its users see: the ``WebSocketError``
  codes and words of its rules, ``max_msg_size`` (checked from the header,
  the message so far included), message assembly, permessage-deflate by
  aiohttp's zlib backend, ``decode_text``, the ``WSMessage`` tuples, and the
  flow control that stops parsing while the application lags.
- **Writing.** ``WebSocketWriter._write_websocket_frame`` encodes each frame
  with wsframe (compiled too, with the C backend): one call builds the
  header and masks the payload in the same copy. A large unmasked payload
  is still written after its header, without a copy. A client writer masks
  with keys from wsframe's CSPRNG pool (RFC 6455 section 5.3), unless it was
  given its own ``random``, which it then keeps using.

wsframe adds its strictness, each rule as soon as the bytes that prove it
arrive. A frame's mask bit must be the one RFC 6455 section 5.1 requires of
the sender: a server's reader refuses unmasked frames and a client's refuses
masked ones (a reader made directly, with no role, takes the role its first
frame shows). A length not in its shortest form is refused (1002, section
5.2). A close code no peer may send is refused (1002, section 7.4.1: aiohttp
alone accepts 1006; codes from 5000 up stay accepted, as aiohttp's own
``test_close_frame_info`` requires). Text must be UTF-8 as it arrives: an
uncompressed text message fails (1007) in the read that brings its first
bad byte, not at its end, and with ``decode_text=False`` too (section 8.1).
A control frame over 125 bytes cannot be sent (``ValueError``).
``uninstall()`` restores aiohttp's own classes; connections made meanwhile
keep what they started with.
"""

from __future__ import annotations

import importlib
from typing import Any, List

from aiohttp import client, client_ws, http, http_websocket, web_ws
from aiohttp._websocket import helpers, models, reader, reader_py
from aiohttp._websocket import writer as _writer_module

from .. import _pyaiohttp
from .._backend import AIOHTTP_TWIN
from ._dropin import DropIn, Patch

__all__ = [
    "SUPPORTED",
    "ClientWebSocketReader",
    "ServerWebSocketReader",
    "WebSocketDataQueue",
    "WebSocketReader",
    "install",
    "installed",
    "uninstall",
]

#: The aiohttp releases the drop-in supports; CI tests the oldest and the newest.
SUPPORTED = ">=3.14.4,<4"

# The twin _backend names; _pyaiohttp holds what both share (their rules' words, aiohttp's defaults).
_twin: Any = importlib.import_module(AIOHTTP_TWIN)
#: The reader a connection's role does not decide: it takes its first frame's.
WebSocketReader = _twin.WebSocketReader
#: The reader of ``aiohttp.web`` (clients must mask) and of ``ws_connect`` (servers must not).
ServerWebSocketReader = _twin.ServerWebSocketReader
ClientWebSocketReader = _twin.ClientWebSocketReader
#: The queue the reader feeds, and stops parsing for while the application lags.
WebSocketDataQueue = _twin.WebSocketDataQueue
_write_websocket_frame = _twin.write_websocket_frame

# Where aiohttp binds the reader and the queue by name: module -> names.
_BINDINGS = {
    reader: ("WebSocketReader", "WebSocketDataQueue"),
    http_websocket: ("WebSocketReader",),
    http: ("WebSocketReader",),
    web_ws: ("WebSocketReader", "WebSocketDataQueue"),
    client: ("WebSocketReader", "WebSocketDataQueue"),
    client_ws: ("WebSocketReader", "WebSocketDataQueue"),
}


def _layout_problems() -> List[str]:
    """What the drop-in needs of aiohttp's internals and does not find."""
    problems = []
    for module, names in _BINDINGS.items():
        problems += [f"{module.__name__}.{name}" for name in names if not hasattr(module, name)]
    needs = (
        # The reader and queue the drop-in's stand in for: the methods
        # aiohttp's code and tests call on them.
        (reader_py.WebSocketReader, ("feed_data", "feed_eof", "_handle_frame", "_feed_data")),
        (reader_py.WebSocketDataQueue, ("feed_data", "feed_eof", "read", "set_exception", "_read_from_buffer")),
        (_writer_module.WebSocketWriter, ("_write_websocket_frame", "send_frame")),
        (helpers, ("PACK_RANDBITS", "MASK_LEN", "MSG_SIZE")),
        (models, ("WSMessage", "WSMessageTextBytes")),
    )
    for owner, names in needs:
        problems += [f"{getattr(owner, '__qualname__', getattr(owner, '__name__', owner))}.{name}"
                     for name in names if not hasattr(owner, name)]
    if getattr(_pyaiohttp.DEFAULT_RANDOM, "getrandbits", None) is None:
        problems.append("WebSocketWriter(random=...)'s default")
    if not problems:
        # The attributes of aiohttp's pure-Python queue the pure twin's reader reads and writes.
        queue = reader_py.WebSocketDataQueue(_pyaiohttp._NoProtocol(), 2**16, loop=None)  # type: ignore[arg-type]
        problems += [f"WebSocketDataQueue().{name}" for name in ("_size", "_limit", "_stalled_reader", "_protocol")
                     if not hasattr(queue, name)]
    return problems


def _reader_patches() -> List[Patch]:
    """Where aiohttp binds its reader and queue; the server's reader and the
    client's know their role."""
    replacements = {"WebSocketDataQueue": WebSocketDataQueue, "WebSocketReader": WebSocketReader}
    patches = [Patch(module, name, replacements[name]) for module, names in _BINDINGS.items() for name in names]
    roles = {web_ws: ServerWebSocketReader, client: ClientWebSocketReader}
    return [Patch(patch.owner, patch.name, roles[patch.owner]) if patch.owner in roles and
            patch.name == "WebSocketReader" else patch for patch in patches]


_DROPIN = DropIn(
    "aiohttp",
    SUPPORTED,
    {"reader": _reader_patches(),
     "writer": [Patch(_writer_module.WebSocketWriter, "_write_websocket_frame", _write_websocket_frame)]},
    _layout_problems,
)


def install(*, reader: bool = True, writer: bool = True, force: bool = False) -> None:
    """Put wsframe under aiohttp's WebSocket reader (``reader``) and writer (``writer``).

    What is left out runs on aiohttp's own code: ``install(reader=False)``
    after ``install()`` gives the reader back to aiohttp. Raises
    ``RuntimeError`` for an aiohttp outside :data:`SUPPORTED` (``force=True``
    installs anyway) and, whatever ``force`` says, for one whose internals
    are not where the drop-in expects them; either way nothing is replaced."""
    _DROPIN.install(force=force, reader=reader, writer=writer)


def uninstall() -> None:
    """Restore aiohttp's own reader, queue and writer."""
    _DROPIN.uninstall()


def installed() -> bool:
    """Whether aiohttp currently runs on wsframe, reader or writer."""
    return _DROPIN.installed()
