#!/usr/bin/env bash
# Build a free-threaded CPython 3.13.5 ("3.13.5t") with pyenv, offline from python.org.
#
# No free-threaded interpreter is packaged for Debian 12, and python.org is not
# reachable from our machines, but Debian trixie's source package of
# python3.13 ships the release tarball byte for byte as its orig tarball.
# This script fetches that tarball through a private apt configuration under a
# temporary directory (the system's sources are not touched), puts it into
# pyenv's cache folder under python.org's name, where python-build checks it
# against the SHA-256 its 3.13.5 definition carries, and builds 3.13.5t (about
# six minutes on two cores).
#
#   bash tools/build_freethreaded_python.sh          # installs into $(pyenv root)/versions/3.13.5t
#   $(pyenv root)/versions/3.13.5t/bin/python3.13t -c 'import sys; print(sys._is_gil_enabled())'
set -euo pipefail

VERSION=3.13.5
PYENV_ROOT=${PYENV_ROOT:-$(pyenv root)}
PYTHON_BUILD="$PYENV_ROOT/plugins/python-build/bin/python-build"
PREFIX="$PYENV_ROOT/versions/${VERSION}t"

CACHE="$PYENV_ROOT/cache"  # the tarball stays here for later builds (tools/prove_freethreading.sh tsan)

verify() {
    "$PREFIX/bin/python${VERSION%.*}t" -c 'import sys, sysconfig
assert sysconfig.get_config_var("Py_GIL_DISABLED") == 1, "not a free-threaded build"
print(sys.version, "GIL enabled:", sys._is_gil_enabled())'
}

fetch_tarball() {
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/download"
    echo "deb-src http://deb.debian.org/debian trixie main" >"$work/sources.list"
    apt_options=(
        -o "Dir::Etc::SourceList=$work/sources.list"
        -o "Dir::Etc::SourceParts=$work/no-parts"
        -o "Dir::State::Lists=$work/lists"
        -o "Dir::Cache=$work/cache"
        -o "APT::Get::List-Cleanup=false"
        -o "APT::Sandbox::User=root"  # the temporary directory is not _apt's to write
    )
    mkdir -p "$work/no-parts"
    apt-get "${apt_options[@]}" update -qq
    (cd "$work/download" && apt-get "${apt_options[@]}" source --download-only -qq python3.13)
    orig="$work/download/python3.13_${VERSION}.orig.tar.xz"
    if [ ! -f "$orig" ]; then
        echo "trixie's python3.13 source package does not carry ${VERSION}: $(ls "$work/download")" >&2
        exit 1
    fi
    mkdir -p "$CACHE"
    cp "$orig" "$CACHE/Python-${VERSION}.tar.xz"
    rm -rf "$work"
    trap - EXIT
}

[ -f "$CACHE/Python-${VERSION}.tar.xz" ] || fetch_tarball
if [ -x "$PREFIX/bin/python${VERSION%.*}t" ]; then
    echo "already built: $PREFIX/bin/python${VERSION%.*}t"
    verify
    exit 0
fi

# python-build verifies the cached tarball against its definition's checksum.
# The build needs the usual headers (Debian: build-essential libssl-dev
# zlib1g-dev libbz2-dev libreadline-dev libsqlite3-dev libffi-dev liblzma-dev).
PYTHON_BUILD_CACHE_PATH="$CACHE" PYTHON_BUILD_SKIP_MIRROR=1 \
    MAKE_OPTS="-j$(nproc)" "$PYTHON_BUILD" "${VERSION}t" "$PREFIX"
verify
