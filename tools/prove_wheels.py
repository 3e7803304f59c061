"""Prove the wheels locally, as cibuildwheel would, without a container engine.

For every CPython 3.9+ that pyenv has here: build the wheel with the extension
required, repair it to a manylinux tag with auditwheel (printing
``auditwheel show``), install it into a fresh venv and run the test suite
against the installed wheel. Then build the pure-Python wheel and run the suite
on it under PyPy. Also checks that cibuildwheel accepts the configuration.
Ends with a table: interpreter, wheel tag, tests passed.

    python tools/prove_wheels.py [--only 3.11] [--skip-pypy]
"""

from __future__ import annotations

import argparse
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile
from typing import Dict, List, Optional

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TEST_DEPENDENCIES = ["pytest>=8", "hypothesis>=6.100"]


def run(command: List[str], *, env: Optional[Dict[str, str]] = None, cwd: Optional[str] = None,
        capture: bool = False) -> subprocess.CompletedProcess:
    print("+", " ".join(command), flush=True)
    result = subprocess.run(command, env=env, cwd=cwd, text=True,
                            stdout=subprocess.PIPE if capture else None, stderr=subprocess.STDOUT if capture else None)
    if result.returncode != 0:
        if capture:
            print(result.stdout)
        raise SystemExit(f"failed ({result.returncode}): {' '.join(command)}")
    return result


def clean_environment(**extra: str) -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WSFRAME_") and k != "PYTHONPATH"}
    env.update(extra)
    return env


def pyenv_cpythons(only: Optional[str]) -> List[str]:
    """pyenv's CPython 3.9+ releases (X.Y.Z): free-threaded and other variant
    builds (3.13.5t, 3.13.5t-tsan) are left to tools/prove_freethreading.sh."""
    root = subprocess.run(["pyenv", "root"], capture_output=True, text=True).stdout.strip()
    found = []
    for path in glob.glob(os.path.join(root, "versions", "3.*", "bin", "python3")):
        version = path.split(os.sep)[-3]
        if not re.fullmatch(r"3\.\d+\.\d+", version):
            continue
        if tuple(int(part) for part in version.split(".")[:2]) >= (3, 9) and (only is None or version.startswith(only)):
            found.append(path)
    return sorted(found, key=lambda p: [int(x) for x in p.split(os.sep)[-3].split(".")])


def test_installed(python: str, wheel: str, work: str, env: Dict[str, str], expected_backend: str) -> str:
    """Install ``wheel`` into a fresh venv made by ``python``; run the suite; return pytest's summary."""
    venv = os.path.join(work, "venv")
    run([python, "-m", "venv", venv])
    venv_python = os.path.join(venv, "bin", "python")
    run([venv_python, "-m", "pip", "install", "--quiet", "--upgrade", "pip"])
    run([venv_python, "-m", "pip", "install", "--quiet", wheel, *TEST_DEPENDENCIES])
    # From a directory outside the checkout, so nothing but the installed wheel is importable.
    check = run([venv_python, "-c", "import wsframe, sys; print(wsframe.backend, wsframe.__file__)"],
                env=env, cwd=work, capture=True).stdout.split()
    if check[0] != expected_backend or not check[1].startswith(venv):
        raise SystemExit(f"expected the {expected_backend} backend from {venv}, got {check}")
    result = run([venv_python, "-m", "pytest", "-q", "-p", "no:cacheprovider", os.path.join(ROOT, "tests")],
                 env=env, cwd=work, capture=True)
    summary = result.stdout.strip().splitlines()[-1]
    print(summary)
    return summary.strip("= ").rsplit(" in ", 1)[0]


def prove_cpython(python: str, out: str) -> Dict[str, str]:
    version = subprocess.run([python, "-c", "import platform; print(platform.python_version())"],
                             capture_output=True, text=True).stdout.strip()
    work = tempfile.mkdtemp(prefix=f"wsframe-{version}-", dir=out)
    env = clean_environment(WSFRAME_REQUIRE_EXTENSION="1")
    build_venv = os.path.join(work, "build-venv")
    run([python, "-m", "venv", build_venv])
    build_python = os.path.join(build_venv, "bin", "python")
    run([build_python, "-m", "pip", "install", "--quiet", "--upgrade", "pip", "build"])
    run([build_python, "-m", "build", "--wheel", "--outdir", os.path.join(work, "raw"), ROOT], env=env, capture=True)
    raw = glob.glob(os.path.join(work, "raw", "*.whl"))[0]
    run(["auditwheel", "repair", "--wheel-dir", os.path.join(work, "repaired"), raw], capture=True)
    wheel = glob.glob(os.path.join(work, "repaired", "*.whl"))[0]
    print(run(["auditwheel", "show", wheel], capture=True).stdout)
    tests = test_installed(python, wheel, work, env, "c")
    return {"interpreter": f"CPython {version}", "wheel": os.path.basename(wheel), "tests": tests}


def prove_pypy(out: str) -> Dict[str, str]:
    pypy = shutil.which("pypy3")
    if pypy is None:
        raise SystemExit("pypy3 is not installed (apt-get install pypy3 pypy3-venv)")
    version = subprocess.run([pypy, "-c", "import sys, platform; print(platform.python_version(), "
                              "'.'.join(map(str, sys.pypy_version_info[:3])))"],
                             capture_output=True, text=True).stdout.split()
    work = tempfile.mkdtemp(prefix="wsframe-pypy-", dir=out)
    env = clean_environment(WSFRAME_NO_EXTENSION="1")
    run([sys.executable, "-m", "build", "--wheel", "--outdir", os.path.join(work, "pure"), ROOT], env=env, capture=True)
    wheel = glob.glob(os.path.join(work, "pure", "*.whl"))[0]
    if not wheel.endswith("-py3-none-any.whl"):
        raise SystemExit(f"the pure wheel has a platform tag: {wheel}")
    tests = test_installed(pypy, wheel, work, clean_environment(), "python")
    return {"interpreter": f"PyPy {version[1]} (Python {version[0]})", "wheel": os.path.basename(wheel), "tests": tests}


def check_cibuildwheel_config() -> None:
    for platform in ("linux", "macos", "windows"):
        identifiers = run(["cibuildwheel", "--print-build-identifiers", "--platform", platform, ROOT],
                          capture=True).stdout.split()
        print(f"cibuildwheel {platform}: {len(identifiers)} builds: {' '.join(identifiers)}")
        if not identifiers:
            raise SystemExit(f"cibuildwheel selects no builds for {platform}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", help="only the pyenv CPython versions starting with this, e.g. 3.11")
    parser.add_argument("--skip-pypy", action="store_true")
    arguments = parser.parse_args()
    for tool in ("auditwheel", "cibuildwheel", "pyenv"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is not on PATH: pip install '.[wheels]' (pyenv: see the README)")
    check_cibuildwheel_config()
    out = tempfile.mkdtemp(prefix="wsframe-wheels-")
    rows = [prove_cpython(python, out) for python in pyenv_cpythons(arguments.only)]
    if not arguments.skip_pypy:
        rows.append(prove_pypy(out))
    print("\n| interpreter | wheel | tests |\n|---|---|---|")
    for row in rows:
        print(f"| {row['interpreter']} | {row['wheel']} | {row['tests']} |")
    failed = [row for row in rows if re.search(r"\b(failed|error)", row["tests"])]
    shutil.rmtree(out, ignore_errors=True)
    if failed:
        raise SystemExit(f"{len(failed)} interpreter(s) failed")


if __name__ == "__main__":
    main()
