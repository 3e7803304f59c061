"""Sphinx configuration for wsframe's documentation.

Build it as CI does, warnings as errors, with no network:

    pip install ".[docs]"
    sphinx-build -W -b html docs docs/_build/html

The API reference documents the installed wsframe, on the backend it loads
(the C extension where it was built): install wsframe before building, and
build from anywhere but with the installed package first on sys.path.
"""

from __future__ import annotations

import re

import wsframe
import wsframe._connection

# The connection classes are documented from _connection.py, the source of
# both copies: the compiled copy (the C backend's) keeps its attributes in C
# fields, which autodoc cannot read the "#:" comments of.
for _name in ("Connection", "ServerConnection", "ClientConnection"):
    setattr(wsframe, _name, getattr(wsframe._connection, _name))

project = "wsframe"
author = "wsframe developers"
copyright = "wsframe developers"  # noqa: A001 (Sphinx's name)
release = wsframe.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "myst_parser",  # the pages are Markdown (MyST)
    "sphinx.ext.autodoc",  # the API reference, from the docstrings
]
# No intersphinx: the build runs without a network, and every link out is written as one.

source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "README.md"]

myst_enable_extensions = ["colon_fence", "deflist", "substitution"]
myst_heading_anchors = 3

autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_preserve_defaults = True  # DeflateParameters(), not its tuple
# The twin's docstrings are the reference for both backends (wsframe/_backend.py).
autodoc_docstring_signature = True

html_theme = "furo"
html_title = f"wsframe {release}"
html_static_path: list = []
pygments_style = "sphinx"

# {{ release }} and {{ backend }} in the pages: which wsframe, and which
# backend the API reference was generated on.
myst_substitutions = {"release": release, "backend": f"`{wsframe.backend}`"}


_RFC_TERM = re.compile(r"(?<![\w`*])_([A-Z][A-Za-z ]*?)_(?![\w`])")


def _docstring(app, what, name, obj, options, lines):  # noqa: ANN001 (Sphinx's event signature)
    """Two touches to the docstrings as autodoc reads them.

    They write RFC 6455's defined terms as the RFC does, _Fail the WebSocket
    Connection_, which reStructuredText would read as a link: shown as
    emphasis. And a NamedTuple field with no comment of its own says only
    "Alias for field number N": dropped, since its class describes it."""
    lines[:] = [_RFC_TERM.sub(r"*\1*", line) for line in lines]
    text = [line for line in lines if line.strip()]
    if what in ("attribute", "property") and len(text) == 1 and text[0].startswith("Alias for field number "):
        lines.clear()


def setup(app):  # noqa: ANN001, ANN201
    app.connect("autodoc-process-docstring", _docstring)
