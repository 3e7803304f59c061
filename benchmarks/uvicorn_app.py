"""The ASGI echo application bench_uvicorn.py serves (tests/peers/asgi_echo.py),
with wsframe's wsproto drop-in installed first when WSFRAME_BENCH_DROPIN=wsproto."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "tests", "peers"))

if os.environ.get("WSFRAME_BENCH_DROPIN") == "wsproto":
    from wsframe.integrations import wsproto

    wsproto.install()

from asgi_echo import app  # noqa: E402

__all__ = ["app"]
