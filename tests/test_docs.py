"""The documentation site (docs/) builds with warnings as errors, shows the
API with its signatures, and every Python example on its pages runs, on
both backends.

Building needs the ``docs`` extra (Sphinx, Furo, MyST-Parser): without it
the build tests skip, unless ``WSFRAME_REQUIRE_PEERS=1`` is set, which makes
them fail, as the interop tests do. The examples need no extra, only the
peers a page is about.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Dict, List

import pytest
from conftest import load_backend
from helpers import missing_peer, require_peer

import wsframe

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = sorted(path for path in DOCS.rglob("*.md") if "_build" not in path.parts)
# The pages every build has; docs/howto/ is globbed, so a new how-to is built too.
EXPECTED = ["index", "getting-started", "connection", "codec", "echo", "api", "rfc", "security", "benchmarks",
            "platforms", "development", "changelog", "howto/uvicorn", "howto/aiohttp", "howto/websockets",
            "howto/wsproto"]


def python_blocks(page: Path) -> List[str]:
    return re.findall(r"^```python\n(.*?)^```", page.read_text(encoding="utf-8"), re.S | re.M)


def environment(backend: str) -> Dict[str, str]:
    env = {name: value for name, value in os.environ.items() if name != "WSFRAME_PURE_PYTHON"}
    if backend == "python":
        env["WSFRAME_PURE_PYTHON"] = "1"
    return env


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if sys.version_info < (3, 11):
        pytest.skip("the docs extra pins Sphinx 9.0, which needs Python >= 3.11")
    for module in ("sphinx", "furo", "myst_parser"):
        try:
            importlib.import_module(module)
        except ImportError as exc:
            missing_peer(f"{module} is not installed (pip install '.[docs]'): {exc}")
    out = tmp_path_factory.mktemp("docs")
    # From a neutral directory, so that conf.py imports the installed wsframe.
    result = subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
                             "-d", str(out / "doctrees"), str(DOCS), str(out / "html")],
                            capture_output=True, text=True, timeout=600, cwd=tempfile.gettempdir(),
                            env=environment(wsframe.backend))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    assert "WARNING" not in result.stderr and "ERROR" not in result.stderr, result.stderr
    return out / "html"


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html)).replace("&#8217;", "'").replace("&quot;", '"')


def test_the_site_builds_every_page_and_its_plot(site: Path) -> None:
    for page in EXPECTED + [str(path.relative_to(DOCS).with_suffix("")) for path in PAGES]:
        assert (site / f"{page}.html").is_file(), page
    assert (site / "_images" / "results.png").stat().st_size > 10_000
    index = text_of((site / "index.html").read_text(encoding="utf-8"))
    assert f"its API reference was generated on the {wsframe.backend} backend" in index


def test_the_api_reference_shows_every_signature(site: Path) -> None:
    api = text_of((site / "api.html").read_text(encoding="utf-8"))
    assert (f"This page was generated from the docstrings on the {wsframe.backend} backend") in api
    # The decoders' signatures, which the C backend's classes carry for inspect too.
    assert ("class wsframe.MessageDecoder(role: Role = Role.SERVER, *, max_frame_size: int | None = 1048576, "
            "max_message_size: int | None = 1048576, allowed_rsv: int = 0, deflate: DeflateParameters | None = None)"
            in api)
    assert "class wsframe.FrameDecoder(role: Role = Role.SERVER, *, max_frame_size:" in api
    assert "wsframe.mask(data, key, offset=0)" in api or "wsframe.mask(data: object, key: object" in api
    for name in wsframe.__all__:
        if name in ("__version__", "handshake"):
            continue
        assert f'id="wsframe.{name}"' in (site / "api.html").read_text(encoding="utf-8"), name
    assert "feed(data, max_events=None)" in api or "feed(data: object, max_events" in api


def test_the_connection_page_includes_both_examples(site: Path) -> None:
    page = text_of((site / "connection.html").read_text(encoding="utf-8"))
    assert "class WebSocketProtocol(asyncio.Protocol):" in page
    assert "class Client:" in page
    uvicorn = text_of((site / "howto" / "uvicorn.html").read_text(encoding="utf-8"))
    assert "uvicorn.run(app, host=\"127.0.0.1\", port=port, ws=WSFrameProtocol" in uvicorn
    aiohttp = text_of((site / "howto" / "aiohttp.html").read_text(encoding="utf-8"))
    assert "import wsframe.integrations.aiohttp as wsframe_aiohttp" in aiohttp


RUNNER = """
import json, sys
blocks = json.load(sys.stdin)
namespace = {"__name__": "__docs__"}
for number, block in enumerate(blocks, 1):
    try:
        exec(compile(block, f"python block {number}", "exec"), namespace)
    except ModuleNotFoundError as error:
        if error.name and error.name.split(".")[0] in ("aiohttp", "websockets", "wsproto", "uvicorn", "starlette",
                                                       "fastapi", "tornado"):
            print(json.dumps({"missing": error.name}))
            sys.exit(3)
        raise
print(json.dumps({"ran": len(blocks)}))
"""


@pytest.mark.parametrize("backend", ["c", "python"], ids=lambda name: f"backend={name}")
@pytest.mark.parametrize("page", [path for path in PAGES if python_blocks(path)],
                         ids=lambda path: str(path.relative_to(DOCS)))
def test_every_python_example_on_the_page_runs(page: Path, backend: str) -> None:
    load_backend(backend)
    blocks = python_blocks(page)
    # The page's blocks in order, in one namespace, as a reader pastes them.
    result = subprocess.run([sys.executable, "-c", RUNNER], input=json.dumps(blocks), capture_output=True,
                            text=True, timeout=120, cwd=tempfile.gettempdir(), env=environment(backend))
    if result.returncode == 3:
        module = json.loads(result.stdout.splitlines()[-1])["missing"]
        require_peer(module.split(".")[0])
        pytest.fail(f"{module} imports here but not in the example's process")
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    assert json.loads(result.stdout.splitlines()[-1]) == {"ran": len(blocks)}
