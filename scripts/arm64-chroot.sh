# shellcheck shell=bash
# An arm64 Debian Trixie root on any Debian machine: debootstrap, and qemu-user when this
# machine is not arm64. Sourced by scripts/wheelhouse.sh and scripts/arm64-check.sh; set PROG
# first. Everything lives under one work folder (default /var/cache/stations-arm64), kept
# between runs so that a second run is fast:
#
#   base/       debootstrap's minimal Trixie, never changed after it is made
#   builder/    base plus python3 and the build tools (provisioning/files/build-packages.txt),
#               with pip's cache: where the wheelhouse is built
#   device/     a fresh copy of base for each check: a device as IT installs it
#
# Plain Debian Trixie stands in for Raspberry Pi OS Trixie (same Debian release, Python 3.13
# and glibc; Raspberry Pi's own archive adds firmware, kernels and tools, not Python).

SUITE="${STATIONS_ARM64_SUITE:-trixie}"
# qemu-user's default CPU ("max") emulates pointer authentication, which Trixie's arm64
# binaries use in every function: that alone makes everything about twenty times slower. The
# Cortex-A53 (Zero 2 W; ARMv8.0, no PAuth) is the oldest core we support, so what runs on it
# runs on the Pi 4's A72 and the Pi 5's A76 too.
QEMU_CPU_MODEL="${STATIONS_QEMU_CPU:-cortex-a53}"
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FILES="$REPO/provisioning/files"

say() { printf '%s\n' "${PROG:-arm64}: $*" >&2; }
die() { say "$*"; exit 1; }

# debootstrap, and qemu-user with a binfmt_misc entry that works inside a chroot.
arm64_host_tools() {
    [ "$(id -u)" = 0 ] || die "run me as root: debootstrap and chroot need it (sudo $0 ...)"
    command -v apt-get >/dev/null || die "this needs a Debian machine (apt-get, debootstrap)"
    local need="" native=0
    [ "$(uname -m)" = aarch64 ] && native=1
    command -v debootstrap >/dev/null || need="$need debootstrap"
    if [ "$native" = 0 ]; then
        [ -x /usr/bin/qemu-aarch64-static ] || need="$need qemu-user-static"
        command -v update-binfmts >/dev/null || need="$need binfmt-support"
    fi
    if [ -n "$need" ]; then
        say "installing$need from Debian's packages"
        # shellcheck disable=SC2086
        { DEBIAN_FRONTEND=noninteractive apt-get install -y -q $need >/dev/null 2>&1 ||
          { apt-get update -q >/dev/null &&
            DEBIAN_FRONTEND=noninteractive apt-get install -y -q $need >/dev/null; }; } ||
            die "could not install$need: run 'apt-get install$need' and look at its error"
    fi
    [ "$native" = 1 ] && return 0
    if [ ! -e /proc/sys/fs/binfmt_misc/register ]; then
        mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc ||
            die "cannot mount binfmt_misc (in a container, the host must allow it)"
    fi
    [ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] || update-binfmts --enable qemu-aarch64 ||
        die "cannot register qemu-aarch64 with binfmt_misc"
    grep -q '^flags:.*F' /proc/sys/fs/binfmt_misc/qemu-aarch64 ||
        die "qemu-aarch64 is registered without the F flag, so it cannot run in a chroot:" \
            "install qemu-user-static (not qemu-user-binfmt)"
}

# The Debian mirror this machine's apt uses (STATIONS_DEBIAN_MIRROR overrides it).
arm64_mirror() {
    if [ -n "${STATIONS_DEBIAN_MIRROR:-}" ]; then echo "$STATIONS_DEBIAN_MIRROR"; return; fi
    local uri
    uri="$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
               /etc/apt/sources.list.d/*.sources 2>/dev/null |
           grep -v '^[[:space:]]*#' | grep -oE '(https?|file):/[^ ]+' |
           grep -E '/debian/?$' | grep -v -e security -e raspberrypi | head -n 1)"
    echo "${uri:-http://deb.debian.org/debian}"
}

# Refuse to delete a root that still has something mounted inside (that would be the host's
# /dev or /proc).
arm64_unmounted() {
    local dir
    dir="$(realpath -m "$1")"
    if findmnt -rn -o TARGET | grep -q "^$dir/"; then
        die "$dir still has file systems mounted inside; unmount them (umount -R) first"
    fi
}

arm64_base() {
    local dir="$1" mirror
    [ -f "$dir/.stations-base" ] && return 0
    arm64_unmounted "$dir.partial"
    arm64_unmounted "$dir"
    rm -rf "$dir.partial" "$dir"
    mirror="$(arm64_mirror)"
    say "debootstrap: Debian $SUITE arm64 from $mirror into $dir (a few minutes, once)"
    QEMU_CPU="$QEMU_CPU_MODEL" debootstrap --arch=arm64 --variant=minbase \
        --include=ca-certificates "$SUITE" "$dir.partial" "$mirror" >"$dir.log" 2>&1 ||
        die "debootstrap failed (Debian $SUITE arm64 from $mirror): see $dir.log"
    echo "$SUITE arm64 $mirror" >"$dir.partial/.stations-base"
    mv "$dir.partial" "$dir"
}

arm64_clone() {
    arm64_unmounted "$2"
    rm -rf "$2"
    cp -a "$1" "$2"
}

ARM64_MOUNTED=()
arm64_mount() {
    local root="$1"
    mountpoint -q "$root/proc" || mount -t proc proc "$root/proc"
    mountpoint -q "$root/sys" || { mount --rbind /sys "$root/sys"; mount --make-rslave "$root/sys"; }
    mountpoint -q "$root/dev" || { mount --rbind /dev "$root/dev"; mount --make-rslave "$root/dev"; }
    cp -L /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
    # The machine's own trust store: a school's TLS-inspecting proxy signs PyPI with its CA.
    if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
        cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/host-ca-certificates.crt"
    fi
    ARM64_MOUNTED+=("$root")
}

arm64_umount_all() {
    local root
    for root in "${ARM64_MOUNTED[@]}"; do
        for m in dev sys proc; do
            if mountpoint -q "$root/$m"; then umount -R "$root/$m" || umount -R -l "$root/$m"; fi
        done
    done
    ARM64_MOUNTED=()
}

# Run a command in a root with a clean environment (nothing from this machine's pip or
# Python set-up leaks in), the CPU model qemu emulates, and the proxy settings if any.
arm64_run() {
    local root="$1"; shift
    local -a pass=()
    local var
    for var in http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY \
               PIP_INDEX_URL PIP_TRUSTED_HOST; do
        [ -n "${!var:-}" ] && pass+=("$var=${!var}")
    done
    [ -f "$root/etc/ssl/certs/host-ca-certificates.crt" ] &&
        pass+=("PIP_CERT=/etc/ssl/certs/host-ca-certificates.crt")
    env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
        LANG=C.UTF-8 TERM=dumb DEBIAN_FRONTEND=noninteractive QEMU_CPU="$QEMU_CPU_MODEL" \
        "${pass[@]}" chroot "$root" "$@"
}

arm64_packages() { sed -e 's/#.*//' "$@" | xargs; }

# base plus python3 and the build tools; rebuilt when build-packages.txt changes.
arm64_builder() {
    local work="$1" want
    want="python3 python3-venv $(arm64_packages "$FILES/build-packages.txt")"
    if [ -f "$work/builder/.stations-builder" ] &&
       [ "$(cat "$work/builder/.stations-builder")" = "$want" ]; then
        arm64_mount "$work/builder"
        return 0
    fi
    say "builder: installing $want (once)"
    arm64_clone "$work/base" "$work/builder"
    arm64_mount "$work/builder"
    # shellcheck disable=SC2086
    arm64_run "$work/builder" sh -c "apt-get update -q && apt-get install -y -q \
        --no-install-recommends $want" >"$work/builder.log" 2>&1 ||
        die "could not install the build tools in the builder: see $work/builder.log"
    echo "$want" >"$work/builder/.stations-builder"
}

# This checkout's sources, without what is never shipped.
arm64_copy_source() {
    local dest="$1"
    rm -rf "$dest"
    mkdir -p "$dest"
    tar -C "$REPO" --exclude=./.venv --exclude=./.git --exclude=./dist --exclude=./build --exclude=./demo-out \
        --exclude='*/__pycache__' --exclude=./.pytest_cache --exclude=./.ruff_cache \
        --exclude=./.hypothesis -cf - . | tar -C "$dest" -xf -
}

# Build a wheelhouse for this checkout with the given extras in the builder; copy it to OUT.
arm64_build_wheelhouse() {
    local work="$1" extras="$2" out="$3" root="$1/builder"
    arm64_copy_source "$root/tmp/src"
    rm -rf "$root/tmp/wheelhouse"
    say "building the wheelhouse for classroom-stations[$extras] in the arm64 builder"
    arm64_run "$root" python3 /tmp/src/provisioning/files/build-wheelhouse build \
        --out /tmp/wheelhouse "/tmp/src[$extras]" >"$work/wheelhouse-$extras.log" 2>&1 || {
        tail -n 30 "$work/wheelhouse-$extras.log" >&2
        die "the wheelhouse did not build: see $work/wheelhouse-$extras.log"
    }
    rm -rf "$out"
    mkdir -p "$(dirname "$out")"
    cp -a "$root/tmp/wheelhouse" "$out"
}
