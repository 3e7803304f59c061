#!/usr/bin/env bash
# Run the test suite against a sanitized build of the C extension.
#
#   bash tools/sanitize.sh            # AddressSanitizer + UndefinedBehaviorSanitizer, whole suite
#   bash tools/sanitize.sh valgrind   # valgrind memcheck on the codec and decoder tests
#
# The extension is built from the working tree into a scratch copy, so the
# checkout is left as it was. PYTHONMALLOC=malloc makes every Python buffer a
# separate allocation, so reads past the end of one are caught too.
set -euo pipefail
mode=${1:-asan}
cd "$(dirname "$0")/.."
checkout=$(pwd)
PYTHON=${PYTHON:-python3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

git ls-files | tar -cf - -T - | tar -xf - -C "$work"
"$PYTHON" -m venv "$work/venv"
"$work/venv/bin/python" -m pip install --quiet --upgrade pip "setuptools>=77" "Cython>=3.1" "pytest>=8" "hypothesis>=6.100"
# The real peers too (pyproject's interop extra), so the drop-in and interop
# tests also run on the sanitized extension.
"$work/venv/bin/python" - <<'PY' | xargs -r -d '\n' "$work/venv/bin/python" -m pip install --quiet
try:
    import tomllib  # Python >= 3.11, which the pinned peers need anyway
except ImportError:
    raise SystemExit(0)
with open("pyproject.toml", "rb") as file:
    print("\n".join(tomllib.load(file)["project"]["optional-dependencies"]["interop"]))
PY
cd "$work"
export WSFRAME_REQUIRE_EXTENSION=1 PYTHONPATH="$work" PYTHONMALLOC=malloc

case "$mode" in
asan)
    CFLAGS="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -O1 -g" \
    LDFLAGS="-fsanitize=address,undefined" \
        venv/bin/python setup.py -q build_ext --inplace
    # Python itself is not instrumented: preload the runtimes, and leave leak
    # checking off (the interpreter keeps objects alive at exit by design).
    # --capture=sys: pytest then captures Python's streams but not file
    # descriptor 2, where a sanitizer writes the report of a run it aborts.
    LD_PRELOAD="$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libubsan.so)" \
    ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=print_stacktrace=1 \
        venv/bin/python -m pytest -q -p no:cacheprovider --capture=sys tests
    ;;
valgrind)
    CFLAGS="-O1 -g" venv/bin/python setup.py -q build_ext --inplace
    # valgrind slows everything some 30 times: the codec, decoder and UTF-8
    # tests, with hypothesis held to its small profile and without the two
    # exhaustive byte-pair sweeps. Undefined-value checks are
    # off: an interpreter not built for valgrind reports hundreds of them for
    # "import json" alone. Every invalid read and write is still reported.
    HYPOTHESIS_PROFILE=dev valgrind --tool=memcheck --error-exitcode=99 --leak-check=no --undef-value-errors=no \
        --suppressions="$checkout/tools/valgrind.supp" \
        venv/bin/python -m pytest -q -p no:cacheprovider -x \
        tests/test_parse_header.py tests/test_encode.py tests/test_frame_decoder.py tests/test_message_decoder.py \
        tests/test_deflate.py tests/test_threads.py tests/test_utf8.py \
        -k "not memory and not Memory and not leave and not trickled and not gigabyte and not websockets \
            and not every_two_byte and not every_lead"
    ;;
*)
    echo "usage: $0 [asan|valgrind]" >&2
    exit 2
    ;;
esac
