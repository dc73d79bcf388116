#!/bin/bash
# Build the Classroom Stations image with pi-gen (see README.md beside this file).
#   build.sh --pi-gen DIR [--out DIR] [--prepare-only]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
pigen="" out="$repo/dist/image" prepare_only=0
while [ $# -gt 0 ]; do
    case "$1" in
        --pi-gen) pigen="$2"; shift 2 ;;
        --out) out="$2"; shift 2 ;;
        --prepare-only) prepare_only=1; shift ;;
        *) echo "build.sh: unknown option $1" >&2; exit 2 ;;
    esac
done
# pi-gen is pinned: the same commit builds the same Raspberry Pi OS Lite base.
PI_GEN_REF="${PI_GEN_REF:-2026-06-18-raspios-trixie-arm64}"
version="$(sed -n 's/^version = "\(.*\)"/\1/p' "$repo/pyproject.toml")"
# Timestamps in the wheel and the image come from the last commit, not from the clock.
SOURCE_DATE_EPOCH="$(git -C "$repo" log -1 --format=%ct 2>/dev/null || date +%s)"
export SOURCE_DATE_EPOCH

stage="$out/stage-stations"
rm -rf "$stage"
mkdir -p "$out"
cp -a "$here/stage-stations" "$stage"
files="$stage/00-stations/files"
mkdir -p "$files"
cp -a "$repo/provisioning/files/." "$files/"
# pi-gen installs the stage's packages from 00-packages: what the devices need, and the build
# tools for the wheelhouse (01-run.sh removes those again before installing the project).
sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$files/packages.txt" "$files/build-packages.txt" |
    sort -u > "$stage/00-stations/00-packages"
python3 -m pip wheel --quiet --no-deps -w "$files" "$repo"
echo "build.sh: stage ready in $stage (classroom-stations $version)"
[ "$prepare_only" = 1 ] && exit 0

[ -n "$pigen" ] || { echo "build.sh: --pi-gen DIR (a pi-gen checkout) is required" >&2; exit 2; }
git -C "$pigen" fetch --tags --quiet || true
git -C "$pigen" checkout --quiet "$PI_GEN_REF"
cat > "$pigen/config" <<CONF
IMG_NAME=classroom-stations-$version
RELEASE=trixie
TARGET_HOSTNAME=classroom-station
ENABLE_CLOUD_INIT=1
ENABLE_SSH=0
DISABLE_FIRST_BOOT_USER_RENAME=1
DEPLOY_COMPRESSION=xz
COMPRESSION_LEVEL=6
LOCALE_DEFAULT=en_US.UTF-8
STAGE_LIST="stage0 stage1 stage2 $stage"
DEPLOY_DIR=$out
CONF
touch "$pigen/stage2/SKIP_IMAGES"
(cd "$pigen" && sudo ./build.sh -c config)
ls "$out"/*.img.xz
