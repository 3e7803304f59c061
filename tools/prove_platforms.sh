#!/usr/bin/env bash
# Run the suite on a real aarch64 and a real s390x (big-endian) CPython, under
# qemu-user emulation, with the C extension required.
#
#   bash tools/prove_platforms.sh                 # both, the whole suite
#   bash tools/prove_platforms.sh arm64           # one of: arm64 s390x
#   WSFRAME_PLATFORM_TESTS="tests/test_mask.py" bash tools/prove_platforms.sh s390x
#
# For each architecture: debootstrap a Debian bookworm root of that
# architecture (python3, python3-dev, gcc) under ~/.cache/wsframe-platforms/ (once;
# later runs reuse it), which binfmt_misc and qemu-user-static run
# transparently; copy the working tree's tracked files in; build and install
# wsframe there with WSFRAME_REQUIRE_EXTENSION=1 (the target's own gcc, under
# emulation); check that `wsframe info` names the kernel the architecture must
# choose (neon on aarch64, the scalar one on s390x); then run pytest there.
# Needs root (debootstrap, chroot, mounts) and Debian's qemu-user-static,
# binfmt-support and debootstrap, which it installs when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
checkout=$(pwd)
base=${WSFRAME_PLATFORMS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/wsframe-platforms}
tests=${WSFRAME_PLATFORM_TESTS:-tests}
architectures=("$@")
[ ${#architectures[@]} -gt 0 ] || architectures=(arm64 s390x)

if [ "$(id -u)" -ne 0 ]; then
    echo "tools/prove_platforms.sh needs root (debootstrap, chroot, mount)" >&2
    exit 2
fi
if ! command -v qemu-aarch64-static >/dev/null || ! command -v debootstrap >/dev/null \
    || ! command -v update-binfmts >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qemu-user-static binfmt-support debootstrap >/dev/null
fi
if [ ! -e /proc/sys/fs/binfmt_misc/register ]; then
    mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
fi

expected_kernel() {
    case $1 in
        arm64) echo "mask kernel: C, neon" ;;
        s390x) echo "mask kernel: C, scalar" ;;
    esac
}

mounted=()
cleanup() {
    for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
        umount -l "${mounted[$i]}" 2>/dev/null || true
    done
}
trap cleanup EXIT

summary=()
for arch in "${architectures[@]}"; do
    case $arch in
        arm64) qemu=aarch64 ;;
        s390x) qemu=s390x ;;
        *) echo "unknown architecture $arch (arm64 or s390x)" >&2; exit 2 ;;
    esac
    update-binfmts --enable "qemu-$qemu" >/dev/null 2>&1 || true
    root="$base/$arch"
    if [ ! -x "$root/usr/bin/python3" ]; then
        echo "== debootstrap $arch into $root (a few minutes)"
        rm -rf "$root"
        mkdir -p "$root"
        debootstrap --arch="$arch" --variant=minbase \
            --include=python3,python3-dev,python3-venv,gcc,libc6-dev,ca-certificates \
            bookworm "$root" http://deb.debian.org/debian >"$base/debootstrap-$arch.log" 2>&1 \
            || { tail -20 "$base/debootstrap-$arch.log"; exit 1; }
    fi
    for target in proc dev; do
        if ! mountpoint -q "$root/$target"; then
            if [ "$target" = proc ]; then mount -t proc proc "$root/proc"; else mount --bind /dev "$root/dev"; fi
            mounted+=("$root/$target")
        fi
    done
    # The network as this machine sees it: its resolver and its CA bundle.
    cp /etc/resolv.conf "$root/etc/resolv.conf"
    cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/host-ca-certificates.crt"

    rm -rf "$root/src"
    mkdir -p "$root/src"
    git ls-files -z | tar --null -T - -cf - | tar -xf - -C "$root/src"

    echo "== $arch: $(chroot "$root" /usr/bin/python3 -c 'import platform, sys; print(platform.machine(), sys.version.split()[0], sys.byteorder + "-endian")')"
    log="$base/tests-$arch.log"
    # One architecture's failure is reported in the summary, not fatal to the next.
    set +e
    chroot "$root" /usr/bin/env -i PATH=/usr/bin:/bin HOME=/root LANG=C.UTF-8 \
        PIP_CERT=/etc/ssl/certs/host-ca-certificates.crt PIP_DISABLE_PIP_VERSION_CHECK=1 \
        WSFRAME_REQUIRE_EXTENSION=1 WSFRAME_EMULATED="qemu-$qemu" EXPECTED_KERNEL="$(expected_kernel "$arch")" \
        TESTS="$tests" \
        /bin/sh -euc '
            [ -x /venv/bin/python ] || python3 -m venv /venv
            # hypothesis: a wheel, never a newer sdist that needs a Rust toolchain.
            /venv/bin/python -m pip install -q --upgrade pip "setuptools>=77" "Cython>=3.1" "pytest>=8"
            /venv/bin/python -m pip install -q --only-binary=hypothesis "hypothesis>=6.100"
            cd /src
            /venv/bin/python -m pip install -q --no-build-isolation .
            cd /
            /venv/bin/wsframe info
            /venv/bin/wsframe info | grep -q "^$EXPECTED_KERNEL" \
                || { echo "expected \"$EXPECTED_KERNEL\" in wsframe info" >&2; exit 1; }
            cd /src
            # The pytest script, not "python -m pytest", which would put /src (the
            # source tree, no compiled extension) first on sys.path.
            /venv/bin/pytest -q -p no:cacheprovider $TESTS
        ' 2>&1 | tee "$log"
    status=${PIPESTATUS[0]}
    set -e
    summary+=("$arch: $(grep -E '[0-9]+ passed' "$log" | tail -1) (exit $status, log $log)")
    [ "$status" -eq 0 ] || failed=1
done
echo
echo "== summary"
printf '%s\n' "${summary[@]}"
exit "${failed:-0}"
