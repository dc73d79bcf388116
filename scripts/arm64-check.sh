#!/usr/bin/env bash
# Install and smoke-test Classroom Stations the way a device gets it, on arm64 Debian Trixie
# (standing in for Raspberry Pi OS Trixie 64-bit), on any Debian machine: under qemu-user when
# this machine is not arm64. For IT before a roll-out and for every release; not part of
# scripts/test.sh (it takes tens of minutes under emulation and needs root and the archives).
#
#   sudo scripts/arm64-check.sh [--json] [--workdir DIR] [--seconds N] [--tests "PYTEST ARGS"]
#
# 1. an arm64 Trixie root with debootstrap (kept in the work folder, default
#    /var/cache/stations-arm64), and a builder copy of it with the build tools;
# 2. the wheelhouse, built there by provisioning/files/build-wheelhouse, as the image does;
# 3. a fresh device root (no compiler in it), where provisioning/files/install.sh installs the
#    Debian packages and the release from the wheelhouse, as the image does;
# 4. in the device root: `stations --help` as the service user, one RPi.GPIO (rpi-lgpio's) and
#    no file owned by two distributions, `stations group` on the sample class, the headless
#    demo (every tap stored), and the tests that need no screen, hardware or network.
#
# It prints a summary; with --json the last line is one JSON object (installed,
# install_seconds, demo_taps, demo_stored, tests_passed, tests_failed, seconds, ...).
# Exit status 0 only when everything passed.
set -euo pipefail
PROG=arm64-check
# shellcheck source=scripts/arm64-chroot.sh
. "$(dirname "$0")/arm64-chroot.sh"

# The tests run on the device: the pure core, the readers through the real mfrc522 and evdev
# packages and the emulated chip, HiGHS grouping, ingest into SQLite, the room's broker config
# and a real Mosquitto over TLS, the units and releases, the display check with the real Mesa
# libraries, translations, every screen drawn under SDL's dummy driver, and the lights, buzzer
# and buttons through the real gpiozero on its mock pins.
DEFAULT_TESTS="tests/test_imports.py tests/test_contract.py tests/test_config.py
  tests/test_machine.py tests/test_rotation.py tests/test_outbox.py tests/test_grouping_csv.py
  tests/test_ingest.py tests/test_mfrc522_legacy.py tests/test_mfrc522_spi.py
  tests/test_emulated_mfrc522.py tests/test_rdm6300.py tests/test_keyboard_reader.py
  tests/test_reader_factory.py tests/test_pinmap.py tests/test_broker_config.py
  tests/test_client.py tests/test_tls_errors.py tests/test_provision_device.py
  tests/test_kmsdrm.py tests/test_i18n.py tests/test_screens.py tests/test_feedback.py"

json=0 work="${STATIONS_ARM64_WORKDIR:-/var/cache/stations-arm64}" seconds=40
tests="$DEFAULT_TESTS"
while [ $# -gt 0 ]; do
    case "$1" in
        --json) json=1; shift ;;
        --workdir) work="$(realpath -m "$2")"; shift 2 ;;
        --seconds) seconds="$2"; shift 2 ;;
        --tests) tests="$2"; shift 2 ;;
        -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
        *) die "unknown option $1 (see --help)" ;;
    esac
done

tests="$(echo $tests)"  # one line: it goes into a shell command in the root
started=$(date +%s)
results="$work/results"
trap arm64_umount_all EXIT
arm64_host_tools
mkdir -p "$work"
rm -rf "$results"
mkdir -p "$results"
arm64_base "$work/base"
arm64_builder "$work"
t=$(date +%s)
arm64_build_wheelhouse "$work" device "$work/wheelhouse"
arm64_build_wheelhouse "$work" device,test "$work/wheelhouse-tests"
echo $(($(date +%s) - t)) >"$results/wheelhouse_seconds"
arm64_umount_all

# A device as IT installs it: a fresh root, the wheelhouse, install.sh (with apt).
device="$work/device"
say "device: a fresh Trixie root, then install.sh --wheelhouse (as the image does)"
arm64_clone "$work/base" "$device"
arm64_mount "$device"
mkdir -p "$device/tmp/stations-install"
cp -a "$FILES/." "$device/tmp/stations-install/"
cp -a "$work/wheelhouse" "$device/tmp/wheelhouse"
arm64_copy_source "$device/tmp/src"
if arm64_run "$device" sh -c 'command -v cc gcc' >/dev/null; then
    die "the device root has a compiler; the check must prove the install needs none"
fi
t=$(date +%s)
installed=false
if arm64_run "$device" /tmp/stations-install/install.sh --wheelhouse /tmp/wheelhouse \
        >"$results/install.log" 2>&1; then
    installed=true
fi
echo $(($(date +%s) - t)) >"$results/install_seconds"
echo "$installed" >"$results/installed"
$installed || tail -n 30 "$results/install.log" >&2

step() {  # step NAME COMMAND...: run in the device root, output in results/NAME.log
    local name="$1"; shift
    if arm64_run "$device" "$@" >"$results/$name.log" 2>&1; then
        echo ok >"$results/$name"
    else
        echo failed >"$results/$name"
        say "$name failed:"; tail -n 20 "$results/$name.log" >&2
    fi
}

if $installed; then
    bin=/var/lib/stations/current/bin
    step help runuser -u stations -- "$bin/stations" --help
    # One RPi.GPIO, rpi-lgpio's, and no file written by two distributions. rpi-lgpio reads
    # the board from the device tree; RPI_LGPIO_REVISION names a Pi 5 (4 GB) instead.
    step one_gpio sh -c "python3 /tmp/stations-install/build-wheelhouse check \
        /var/lib/stations/current/lib/python3*/site-packages && RPI_LGPIO_REVISION=0xc04170 \
        $bin/python -c '
import importlib.metadata as m, RPi.GPIO as g
owners = [d.metadata[\"Name\"] for d in m.distributions()
          if any(str(f).endswith(\"RPi/GPIO/__init__.py\") for f in d.files or ())]
assert owners == [\"rpi-lgpio\"], owners
print(\"RPi.GPIO\", g.VERSION, \"from\", owners[0], \"on\", g.RPI_INFO[\"TYPE\"])'"
    step group "$bin/stations" group /tmp/src/hub/grouping/samples/class-7b.csv \
        --mode skill --groups 4
    step demo sh -c "mkdir -p /tmp/demo && cd /tmp/demo && SDL_VIDEODRIVER=dummy \
        SDL_AUDIODRIVER=dummy $bin/stations demo --headless --seconds $seconds --json \
        --out /tmp/demo/out"
    # The tests, against the same wheels plus pytest and the other test tools.
    rm -rf "$device/tmp/wheelhouse-tests"
    cp -a "$work/wheelhouse-tests" "$device/tmp/wheelhouse-tests"
    step test_env sh -c "python3 -m venv /opt/stations-tests && /opt/stations-tests/bin/pip \
        install --quiet --no-index --find-links /tmp/wheelhouse-tests --only-binary=:all: \
        --no-deps --require-hashes --requirement /tmp/wheelhouse-tests/requirements.txt"
    # shellcheck disable=SC2086
    step tests sh -c "cd /tmp/src && SDL_VIDEODRIVER=dummy SDL_AUDIODRIVER=dummy \
        PYGAME_HIDE_SUPPORT_PROMPT=1 /opt/stations-tests/bin/python -m pytest -q \
        -p no:cacheprovider --junitxml=/tmp/junit.xml $tests"
    cp "$device/tmp/junit.xml" "$results/junit.xml" 2>/dev/null || true
fi
echo $(($(date +%s) - started)) >"$results/seconds"

python3 - "$results" "$work/wheelhouse/wheelhouse.json" "$json" <<'EOF'
import json, sys, xml.etree.ElementTree as ET
from pathlib import Path
results, house, as_json = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3] == "1"

def read(name, default=""):
    path = results / name
    return path.read_text().strip() if path.exists() else default

summary = json.loads(house.read_text()) if house.exists() else {}
demo = {}
for line in reversed(read("demo.log").splitlines()):
    if line.startswith("{"):
        demo = json.loads(line)
        break
tests = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
if (results / "junit.xml").exists():
    suite = ET.parse(results / "junit.xml").getroot()
    suite = suite if suite.tag == "testsuite" else suite.find("testsuite")
    tests = {k: int(suite.get(k, 0)) for k in tests}
failed = tests["failures"] + tests["errors"]
out = {
    "installed": read("installed") == "true",
    "install_seconds": int(read("install_seconds", "0")),
    "wheelhouse_seconds": int(read("wheelhouse_seconds", "0")),
    "python": summary.get("python"),
    "platform_machine": summary.get("platform_machine"),
    "wheels": len(summary.get("wheels", [])),
    "built_from_source": summary.get("built_from_source", []),
    "left_out": summary.get("left_out", []),
    "help": read("help") == "ok",
    "one_gpio": read("one_gpio") == "ok",
    "group": read("group") == "ok",
    "tests_ran": read("tests") == "ok",
    "demo_taps": demo.get("taps"),
    "demo_stored": demo.get("stored"),
    "tests_passed": tests["tests"] - failed - tests["skipped"],
    "tests_failed": failed,
    "tests_skipped": tests["skipped"],
    "seconds": int(read("seconds", "0")),
}
out["ok"] = bool(out["installed"] and out["help"] and out["one_gpio"] and out["group"]
                 and out["demo_taps"] and out["demo_taps"] == out["demo_stored"]
                 and out["tests_ran"] and out["tests_passed"] and not out["tests_failed"])
print(f"installed: {out['installed']} in {out['install_seconds']} s "
      f"(wheelhouse {out['wheelhouse_seconds']} s; {out['wheels']} wheels for Python "
      f"{out['python']} on {out['platform_machine']})")
print(f"built from source: {', '.join(out['built_from_source']) or 'none'}; "
      f"left out: {', '.join(out['left_out']) or 'none'}")
print(f"stations --help: {out['help']}  one RPi.GPIO: {out['one_gpio']}  "
      f"stations group: {out['group']}")
print(f"demo: taps {out['demo_taps']}, stored {out['demo_stored']}")
print(f"tests: {out['tests_passed']} passed, {out['tests_failed']} failed, "
      f"{out['tests_skipped']} skipped")
print(f"{'OK' if out['ok'] else 'FAILED'} in {out['seconds']} s (logs in {results})")
if as_json:
    print(json.dumps(out))
sys.exit(0 if out["ok"] else 1)
EOF
