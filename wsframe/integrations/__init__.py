"""Drop-ins that put wsframe under other WebSocket libraries.

Each submodule has ``install()``, ``uninstall()`` and ``installed()``, and
``SUPPORTED``, the range of the library's releases it supports:

- :mod:`wsframe.integrations.wsproto`: wsproto's frame decoder (header
  parsing and unmasking), frame serialisation and masking.
- :mod:`wsframe.integrations.websockets`: websockets' receive loop, masking
  and frame serialisation.
- :mod:`wsframe.integrations.aiohttp`: aiohttp's WebSocket reader, and its
  writer's frame encoding and masking.
- :mod:`wsframe.integrations.tornado`: tornado's WebSocket receive loop and
  frame writing (Jupyter Server, Streamlit, Bokeh).

and one server: :mod:`wsframe.integrations.uvicorn`, an ASGI WebSocket
protocol for uvicorn built on :class:`wsframe.ServerConnection`.

``install()`` refuses a release outside the supported range (CI tests the
oldest and the newest release of each range), unless called with
``force=True``; and it refuses, whatever ``force`` says, a release whose
internals are not where the drop-in expects them, before replacing anything.
All of them install and uninstall through one mechanism,
``wsframe.integrations._dropin``.
"""

from __future__ import annotations

from ._dropin import version_in

__all__ = ["version_in"]
