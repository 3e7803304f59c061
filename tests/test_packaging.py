"""What pip builds from this checkout, as a user gets it: the pure wheel and a
build without a compiler (tags, the warning or its absence, ``wsframe info``),
the compiled wheel's size, and the metadata ``pip show`` reads.

Each wheel is built once per run, from a copy of the checkout (no stale
``build/`` folder), with pip and its isolated build environment, and
installed into a folder of its own that a fresh interpreter imports without
``site`` (so no other wsframe, an editable install's included, can answer).
"""

from __future__ import annotations

import email
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Dict, Iterator

import pytest

ROOT = Path(__file__).resolve().parent.parent
NEUTRAL_DIRECTORY = tempfile.gettempdir()


class Wheel:
    def __init__(self, path: Path, target: Path) -> None:
        self.path = path
        self.target = target
        with zipfile.ZipFile(path) as archive:
            self.names = archive.namelist()
            info = next(name for name in self.names if name.endswith(".dist-info/METADATA"))
            self.metadata = email.message_from_bytes(archive.read(info))
            self.wheel = archive.read(info.replace("METADATA", "WHEEL")).decode()
            record = [name for name in self.names if name.endswith("wsframe/_build.json")]
            self.build_record = json.loads(archive.read(record[0])) if record else None
            self.extensions = {name: archive.getinfo(name).file_size for name in self.names
                               if re.search(r"_cframe\.[^/]*(\.so|\.pyd)$", name)}

    def python(self, *arguments: str) -> subprocess.CompletedProcess:
        """A fresh interpreter that sees only this wheel's wsframe (-S: no site-packages)."""
        env = {key: value for key, value in os.environ.items() if not key.startswith("WSFRAME_")}
        env["PYTHONPATH"] = str(self.target)
        return subprocess.run([sys.executable, "-S", *arguments], capture_output=True, text=True, env=env,
                              timeout=60, cwd=NEUTRAL_DIRECTORY)


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    copy = tmp_path_factory.mktemp("checkout") / "wsframe"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(
        ".git", "build", "dist", "*.egg-info", "__pycache__", "*.so", "*.pyd", "_cframe.c", "_caiohttp.c", "_connection.c", "_build.json",
        ".mypy_cache", ".pytest_cache", ".hypothesis", ".benchmarks", "_build", "fuzz-out"))
    return copy


@pytest.fixture(scope="module")
def build(source: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    built: Dict[str, Wheel] = {}

    def build_wheel(kind: str, **environment: str) -> Wheel:
        if kind not in built:
            out = tmp_path_factory.mktemp(f"wheel-{kind}")
            env = {key: value for key, value in os.environ.items() if not key.startswith("WSFRAME_")}
            env.update(environment)
            result = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-cache-dir", "-w",
                                     str(out), str(source)], capture_output=True, text=True, env=env, timeout=900)
            assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
            (path,) = out.glob("*.whl")
            target = out / "installed"
            with zipfile.ZipFile(path) as archive:
                archive.extractall(target)  # a wheel is a zip laid out as site-packages
            built[kind] = Wheel(path, target)
        return built[kind]

    yield build_wheel


def test_the_pure_wheel_is_py3_none_any_and_imports_without_a_warning(build) -> None:
    wheel = build("pure", WSFRAME_NO_EXTENSION="1")
    assert wheel.path.name.endswith("-py3-none-any.whl")
    assert "Root-Is-Purelib: true" in wheel.wheel
    assert wheel.extensions == {}
    assert wheel.build_record == {"extension": "skipped", "why": "WSFRAME_NO_EXTENSION=1"}
    # The intended wheel for PyPy and every platform without a compiled one: silent.
    result = wheel.python("-W", "error", "-c", "import wsframe; print(wsframe.backend)")
    assert (result.returncode, result.stdout, result.stderr) == (0, "python\n", "")
    info = wheel.python("-m", "wsframe", "info")
    assert "backend: python (the pure-Python build: installed without the C extension on purpose" in info.stdout


@pytest.mark.skipif(sys.implementation.name != "cpython",
                    reason="on PyPy the pure-Python backend is the intended one, and never warns")
def test_a_build_without_a_compiler_is_pure_and_says_so_at_import(build) -> None:
    wheel = build("no-compiler", CC="/nonexistent/cc")
    assert wheel.path.name.endswith("-py3-none-any.whl"), wheel.path.name
    assert wheel.extensions == {}
    assert wheel.build_record is not None and wheel.build_record["extension"] == "failed"
    assert "/nonexistent/cc" in wheel.build_record["why"]
    # pip hid the build's warning; the import says it, once, with the reason.
    result = wheel.python("-c", "import wsframe, importlib; importlib.reload(wsframe); print(wsframe.backend)")
    assert result.returncode == 0 and result.stdout == "python\n", result.stderr
    assert result.stderr.count("RuntimeWarning: wsframe is using its slower pure-Python backend because this "
                               "wsframe was installed without its C extension") == 1, result.stderr
    assert "/nonexistent/cc" in result.stderr and "--no-cache-dir" in result.stderr
    assert wheel.python("-W", "error", "-c", "import wsframe").returncode == 1
    info = wheel.python("-m", "wsframe", "info")
    assert "backend: python (this wsframe was installed without its C extension" in info.stdout
    assert "/nonexistent/cc" in info.stdout


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the ELF sections are checked on Linux")
@pytest.mark.skipif(sys.implementation.name != "cpython", reason="the extension is built for CPython; PyPy gets the pure wheel")
def test_the_compiled_wheel_carries_no_debug_info_unless_asked(build) -> None:
    release = build("release")
    assert not release.path.name.endswith("-none-any.whl") and release.build_record is None
    (name, size), = release.extensions.items()
    result = release.python("-W", "error", "-c", "import wsframe; print(wsframe.backend)")
    assert result.stdout == "c\n", result.stderr
    # The connection layer is compiled too (_connection.py as _cconnection), and only the modules ship.
    assert [n for n in release.names if re.search(r"wsframe/_cconnection\.[^/]*(\.so|\.pyd)$", n)]
    assert not [n for n in release.names if n.endswith((".c", ".pyx"))]
    result = release.python("-c", "import wsframe; print(wsframe.ServerConnection.__module__)")
    assert result.stdout == "wsframe._cconnection\n", result.stderr
    so = (release.target / name).read_bytes()
    assert b".debug_info" not in so and b".symtab" not in so
    assert size < 1_000_000, size  # 2.3 MB with debug information, 373 KB without (CPython 3.11, x86_64)
    # A sanitizer or valgrind build passes its own -g: it keeps the debug information.
    debug = build("debug", CFLAGS="-O1 -g")
    (debug_name, debug_size), = debug.extensions.items()
    assert b".debug_info" in (debug.target / debug_name).read_bytes()
    assert debug_size > 2 * size


def test_metadata_that_pip_show_reads(build) -> None:
    metadata = build("pure", WSFRAME_NO_EXTENSION="1").metadata
    # pip 23 reads these two fields only (not License-Expression, not Project-URL).
    assert metadata["License"] == "MIT"
    assert metadata["Home-page"] == "https://github.com/wsframe/wsframe"
    assert "Documentation, https://wsframe.readthedocs.io/" in metadata.get_all("Project-URL")
    assert metadata["License-Expression"] is None  # the two are exclusive (core metadata 2.4)


@pytest.mark.parametrize("extra, module", [("uvicorn", "uvicorn"), ("aiohttp", "aiohttp"),
                                           ("websockets", "websockets"), ("wsproto", "wsproto")])
def test_each_hosts_extra_is_the_range_its_integration_supports(build, extra: str, module: str) -> None:
    metadata = build("pure", WSFRAME_NO_EXTENSION="1").metadata
    assert extra in metadata.get_all("Provides-Extra")
    requirements = [requirement for requirement in metadata.get_all("Requires-Dist")
                    if requirement.endswith(f'extra == "{extra}"')]
    source = (ROOT / "wsframe" / "integrations" / f"{module}.py").read_text(encoding="utf-8")
    supported = re.search(r'^SUPPORTED = "([^"]+)"', source, re.M)
    assert supported is not None
    specifiers = sorted(supported.group(1).split(","))
    assert requirements == [f"{module}{','.join(specifiers)}; extra == \"{extra}\""], requirements
