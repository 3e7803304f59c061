#!/usr/bin/env bash
# The extension on a free-threaded CPython: imported, the GIL stays off; many
# threads share decoders, mask and encode at once; the whole suite passes.
#
#   bash tools/prove_freethreading.sh            # builds 3.13.5t first if pyenv lacks it (about 5 minutes)
#   bash tools/prove_freethreading.sh tsan       # also a ThreadSanitizer build of CPython (about 10 more minutes)
#                                                # and of the extension
#
# The interpreter comes from tools/build_freethreaded_python.sh (offline, from
# Debian trixie's copy of python.org's tarball). The ThreadSanitizer run builds
# a second 3.13.5t configured --with-thread-sanitizer, compiles the extension
# with -fsanitize=thread, and runs the thread tests under it with many threads.
set -euo pipefail
mode=${1:-plain}
cd "$(dirname "$0")/.."
checkout=$(pwd)
PYENV_ROOT=${PYENV_ROOT:-$(pyenv root)}
bash tools/build_freethreaded_python.sh
python="$PYENV_ROOT/versions/3.13.5t/bin/python3.13t"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/src"
git ls-files -z | tar --null -T - -cf - | tar -xf - -C "$work/src"

"$python" -m venv "$work/venv"
"$work/venv/bin/python" -m pip install -q --upgrade pip
# hypothesis: a wheel, never a newer sdist that needs a Rust toolchain.
"$work/venv/bin/python" -m pip install -q "Cython>=3.1" "pytest>=8" && \
    "$work/venv/bin/python" -m pip install -q --only-binary=hypothesis "hypothesis>=6.100"
(cd "$work/src" && WSFRAME_REQUIRE_EXTENSION=1 "$work/venv/bin/python" -m pip install -q .)

echo "== import: the GIL stays off"
(cd / && env -u PYTHON_GIL "$work/venv/bin/python" -W error::RuntimeWarning -c '
import sys, sysconfig
assert sysconfig.get_config_var("Py_GIL_DISABLED") == 1, "not a free-threaded build"
import wsframe, wsframe._cframe
assert wsframe.backend == "c", wsframe.backend
assert not sys._is_gil_enabled(), "importing wsframe turned the GIL on"
print(sys.version.split()[0], "free-threaded; wsframe", wsframe.__version__, "backend c; GIL enabled:", sys._is_gil_enabled())')

echo "== stress: 16 threads, 10 rounds"
(cd "$work/src" && env -u PYTHON_GIL WSFRAME_REQUIRE_EXTENSION=1 WSFRAME_STRESS_THREADS=16 WSFRAME_STRESS_ROUNDS=10 \
    "$work/venv/bin/pytest" -q -p no:cacheprovider -W error::RuntimeWarning tests/test_threads.py)

echo "== the whole suite"
(cd "$work/src" && env -u PYTHON_GIL WSFRAME_REQUIRE_EXTENSION=1 \
    "$work/venv/bin/pytest" -q -p no:cacheprovider -W error::RuntimeWarning)

if [ "$mode" = tsan ]; then
    tsan_python="$PYENV_ROOT/versions/3.13.5t-tsan/bin/python3.13t"
    if [ ! -x "$tsan_python" ]; then
        echo "== building a ThreadSanitizer CPython 3.13.5t"
        # The tarball tools/build_freethreaded_python.sh keeps in pyenv's cache.
        PYTHON_BUILD_CACHE_PATH="$PYENV_ROOT/cache" PYTHON_BUILD_SKIP_MIRROR=1 MAKE_OPTS="-j$(nproc)" \
            PYTHON_CONFIGURE_OPTS="--with-thread-sanitizer" \
            "$PYENV_ROOT/plugins/python-build/bin/python-build" 3.13.5t "$PYENV_ROOT/versions/3.13.5t-tsan"
    fi
    "$tsan_python" -m venv "$work/tsan"
    "$work/tsan/bin/python" -m pip install -q "Cython>=3.1" "pytest>=8" "setuptools>=77"
    "$work/tsan/bin/python" -m pip install -q --only-binary=hypothesis "hypothesis>=6.100"
    (cd "$work/src" && CFLAGS="-fsanitize=thread -g -O1" LDFLAGS="-fsanitize=thread" \
        WSFRAME_REQUIRE_EXTENSION=1 "$work/tsan/bin/python" -m pip install -q --no-build-isolation .)
    echo "== ThreadSanitizer: the thread tests, 8 threads"
    (cd "$work/src" && env -u PYTHON_GIL TSAN_OPTIONS="halt_on_error=1 exitcode=66" WSFRAME_REQUIRE_EXTENSION=1 \
        WSFRAME_STRESS_THREADS=8 WSFRAME_STRESS_ROUNDS=2 \
        "$work/tsan/bin/pytest" -q -p no:cacheprovider tests/test_threads.py)
fi
