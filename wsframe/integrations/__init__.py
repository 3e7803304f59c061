"""Drop-ins that put wsframe under other WebSocket libraries.

Each submodule has ``install()``, ``uninstall()`` and ``installed()``:

- :mod:`wsframe.integrations.wsproto`: wsproto's frame decoder (header
  parsing and unmasking), frame serialisation and masking.
- :mod:`wsframe.integrations.websockets`: websockets' masking and frame
  serialisation.

``install()`` refuses a version of the library it was not tested with, so an
upgrade of that library cannot silently change what runs.
"""
