"""Headless Chromium against the echo server: a real browser's WebSocket client.

A page served from 127.0.0.1 sends a text, a binary, a 1 MiB and a
repetitive text message over a connection with permessage-deflate, checks
the echoes, closes, and POSTs what it saw back to the test.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import os
import queue
import shutil
import subprocess
import threading
from pathlib import Path
from typing import Any, Dict, Iterator, Optional

from conftest import EchoServer
from helpers import missing_peer

PAGE = (Path(__file__).parent / "browser" / "echo_page.html").read_bytes()
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_browser() -> str:
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    missing_peer(f"no headless browser ({', '.join(BROWSERS)}): apt-get install chromium")
    raise AssertionError("unreachable")


@contextlib.contextmanager
def page_server() -> Iterator[Any]:
    """Serves the page and collects the single result it POSTs."""
    results: "queue.Queue[Dict[str, Any]]" = queue.Queue()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(PAGE)))
            self.end_headers()
            self.wfile.write(PAGE)

        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"]))
            results.put(json.loads(body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.results = results  # type: ignore[attr-defined]
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def run_echo_page(ws_url: str, tmp_path: Path) -> Dict[str, Any]:
    """Open the page in headless Chromium against the echo endpoint ``ws_url``; what it reported."""
    browser = find_browser()
    with page_server() as pages:
        host, port = pages.server_address
        url = f"http://{host}:{port}/echo.html?ws={ws_url}"
        process = subprocess.Popen(
            [
                browser,
                "--headless",
                "--no-sandbox",  # root in CI containers; the page is our own
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                f"--user-data-dir={tmp_path / 'profile'}",
                url,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            # The browser is the peer, not code under test: keep the sanitizer
            # runtimes tools/sanitize.sh preloads out of it.
            env={name: value for name, value in os.environ.items() if name != "LD_PRELOAD"},
        )
        try:
            result: Optional[Dict[str, Any]] = pages.results.get(timeout=90)
        except queue.Empty:
            result = None
        finally:
            process.kill()
            process.wait()
    assert result is not None, "the page never reported (is Chromium able to start here?)"
    return result


def test_chromium_echoes_text_binary_and_1_mib_compressed(echo_server: EchoServer, tmp_path: Path) -> None:
    result = run_echo_page(echo_server.url, tmp_path)
    assert result["checks"] == [["text", True], ["binary", True], ["1 MiB", True], ["repetitive text", True]]
    # Chromium offers permessage-deflate and the echo server accepts it, so
    # every message above went through wsframe's inflater and deflater.
    assert result["extensions"].startswith("permessage-deflate"), result["extensions"]
    print(f"Chromium negotiated: {result['extensions']}")
    assert result["closeCode"] == 1000
    assert result["wasClean"] is True
