"""Run each drop-in's tests (and the uvicorn protocol's) under the oldest and the newest release it supports.

For every (library, release) below: a fresh venv, wsframe with its test and
interop extras, then that release of the library in place of the pinned one,
then the drop-in's tests (its own, the version policy's, and the library's
own suite under the drop-in) with every peer required. Ends with a table.

    python tools/prove_dropin_ranges.py                       # all of them
    python tools/prove_dropin_ranges.py --only websockets==14.0

The releases must match each drop-in's SUPPORTED; the script checks that the
oldest is the range's first release and the newest its last.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from typing import Dict, List, Tuple

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# library -> (oldest, newest) release of the range its drop-in supports.
RANGES: Dict[str, Tuple[str, str]] = {
    "websockets": ("17.0", "17.4"),
    "wsproto": ("1.2.0", "1.3.2"),
    "aiohttp": ("3.14.4", "3.14.5"),
    "uvicorn": ("0.54.0", "0.55.0"),
    "tornado": ("6.5", "6.6.1"),
}
TESTS = {
    "websockets": ["tests/test_integrations.py", "tests/test_integrations_websockets.py"],
    "wsproto": ["tests/test_integrations.py", "tests/test_integrations_wsproto.py"],
    "aiohttp": ["tests/test_integrations.py", "tests/test_integrations_aiohttp.py"],
    "uvicorn": ["tests/test_integrations_uvicorn.py"],
    "tornado": ["tests/test_integrations.py", "tests/test_integrations_tornado.py"],
}


def run(command: List[str], **kwargs: object) -> subprocess.CompletedProcess:
    print("+", " ".join(command), flush=True)
    return subprocess.run(command, text=True, **kwargs)  # type: ignore[call-overload]


def prove(library: str, release: str, python: str) -> str:
    with tempfile.TemporaryDirectory() as work:
        venv = os.path.join(work, "venv")
        run([python, "-m", "venv", venv], check=True)
        bin_python = os.path.join(venv, "bin", "python")
        run([bin_python, "-m", "pip", "install", "-q", "--upgrade", "pip"], check=True)
        run([bin_python, "-m", "pip", "install", "-q", f"{ROOT}[test,interop]"], check=True,
            env=dict(os.environ, WSFRAME_REQUIRE_EXTENSION="1"))
        run([bin_python, "-m", "pip", "install", "-q", f"{library}=={release}"], check=True)
        env = dict(os.environ, WSFRAME_REQUIRE_EXTENSION="1", WSFRAME_REQUIRE_PEERS="1")
        result = run([bin_python, "-m", "pytest", "-q", "-p", "no:cacheprovider", *TESTS[library]], cwd=ROOT,
                     env=env, capture_output=True)
        print(result.stdout[-3000:], result.stderr[-2000:], flush=True)
        summary = (result.stdout.strip().splitlines() or ["(no output)"])[-1]
        return ("ok     " if result.returncode == 0 else "FAILED ") + summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", help="one library==release")
    parser.add_argument("--python", default=sys.executable)
    arguments = parser.parse_args()
    sys.path.insert(0, ROOT)
    from wsframe.integrations import version_in

    cases = [(library, release) for library, bounds in RANGES.items() for release in bounds]
    if arguments.only:
        library, _, release = arguments.only.partition("==")
        cases = [(library, release)]
    rows = []
    for library, release in cases:
        supported = re.search(r'SUPPORTED = "([^"]+)"',
                              open(os.path.join(ROOT, "wsframe", "integrations", f"{library}.py")).read())
        assert supported and version_in(release, supported.group(1)), f"{library} {release} is outside its range"
        rows.append((library, release, prove(library, release, arguments.python)))
    print("\n| library | release | drop-in tests |\n|---|---|---|")
    for library, release, outcome in rows:
        print(f"| {library} | {release} | {outcome} |")
    if any(not outcome.startswith("ok") for _, _, outcome in rows):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
