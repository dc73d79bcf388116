#!/usr/bin/env bash
# Build the devices' wheelhouse on any Debian machine: this checkout's classroom-stations with
# its device extra and every dependency, as wheels for Raspberry Pi OS Trixie on arm64
# (Python 3.13), built by provisioning/files/build-wheelhouse in an arm64 Debian Trixie
# chroot (qemu-user when this machine is not arm64). Needs root, the Debian archive and PyPI.
#
#   sudo scripts/wheelhouse.sh [--out DIR] [--workdir DIR]
#
# Then, per device: rsync -a DIR/ schoolit@HOST:/tmp/wheelhouse/ and
# ssh schoolit@HOST sudo stations-release update --wheelhouse /tmp/wheelhouse
set -euo pipefail
PROG=wheelhouse
# shellcheck source=scripts/arm64-chroot.sh
. "$(dirname "$0")/arm64-chroot.sh"

out="$REPO/dist/wheelhouse" work="${STATIONS_ARM64_WORKDIR:-/var/cache/stations-arm64}"
while [ $# -gt 0 ]; do
    case "$1" in
        --out) out="$(realpath -m "$2")"; shift 2 ;;
        --workdir) work="$(realpath -m "$2")"; shift 2 ;;
        -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
        *) die "unknown option $1 (see --help)" ;;
    esac
done

trap arm64_umount_all EXIT
arm64_host_tools
mkdir -p "$work"
arm64_base "$work/base"
arm64_builder "$work"
arm64_build_wheelhouse "$work" device "$out"
python3 - "$out/wheelhouse.json" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
print(f"{len(s['wheels'])} wheels for Python {s['python']} on {s['platform_machine']}; "
      f"built from source: {', '.join(s['built_from_source']) or 'none'}; "
      f"left out: {', '.join(s['left_out']) or 'none'}")
EOF
say "wheelhouse in $out"
