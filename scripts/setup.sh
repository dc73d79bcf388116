#!/usr/bin/env bash
# Set up a fresh Debian or Raspberry Pi OS machine for this project: Mosquitto from Debian's
# packages (if missing), a virtual environment in .venv, and the project with its extras.
# Usage: scripts/setup.sh [EXTRAS]   e.g. scripts/setup.sh test
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-}"

say() { printf '%s\n' "setup: $*" >&2; }
fail() { say "$*"; exit 1; }

python=""
for candidate in python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
        python="$candidate"; break
    fi
done
[ -n "$python" ] || fail "Python 3.11 or newer is needed: sudo apt-get install python3 python3-venv"

# Debian packages the project runs: Mosquitto (the room's broker) and espeak-ng (the
# stations' spoken prompts). Installed when missing, with sudo when not root.
apt_install() {  # what, packages...
    local what="$1"; shift
    local as_root=""
    if [ "$(id -u)" != 0 ]; then
        command -v sudo >/dev/null 2>&1 || fail "$what is missing and I am not root: run 'sudo apt-get install $*', then run me again."
        as_root="sudo"
    fi
    command -v apt-get >/dev/null 2>&1 || fail "$what is missing and this is not a Debian system: install it ($*)."
    say "installing $what from Debian's packages"
    $as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null 2>&1 || {
        $as_root apt-get update -q >/dev/null
        $as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null
    } || fail "could not install $what: run 'sudo apt-get update && sudo apt-get install $*' and look at its error."
}

have_mosquitto() {
    command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || [ -n "${STATIONS_MOSQUITTO:-}" ]
}
# The project starts its own brokers on free ports; the system service is not needed.
have_mosquitto || apt_install Mosquitto mosquitto
command -v espeak-ng >/dev/null 2>&1 || apt_install espeak-ng espeak-ng

# PostgreSQL for the district's tests and benchmarks (extras "test" or "district"). They make
# clusters of their own with initdb on free ports, so Debian's default cluster is not created.
have_postgres() {
    [ -n "${STATIONS_PG_BIN:-}" ] || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1
}
case ",$extras," in
    *,test,*|*,district,*) need_postgres=1 ;;
    *) need_postgres="" ;;
esac
if [ -n "$need_postgres" ] && ! have_postgres; then
    as_root=""
    if [ "$(id -u)" != 0 ]; then
        command -v sudo >/dev/null 2>&1 || fail "PostgreSQL is missing and I am not root: run 'sudo apt-get install postgresql' (or set STATIONS_PG_BIN to its bin folder), then run me again."
        as_root="sudo"
    fi
    command -v apt-get >/dev/null 2>&1 || fail "PostgreSQL is missing and this is not a Debian system: install PostgreSQL 13 or newer and set STATIONS_PG_BIN to its bin folder."
    say "installing PostgreSQL from Debian's packages (without its default cluster)"
    # Not apt_install: that one is used again below, with its own arguments.
    apt_get_quietly() {
        $as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null 2>&1 || {
            $as_root apt-get update -q >/dev/null
            $as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null
        }
    }
    apt_get_quietly postgresql-common || fail "could not install postgresql-common: run 'sudo apt-get update && sudo apt-get install postgresql' and look at its error."
    $as_root sed -i 's/^#\?\s*create_main_cluster.*/create_main_cluster = false/' /etc/postgresql-common/createcluster.conf
    apt_get_quietly postgresql || fail "could not install PostgreSQL: run 'sudo apt-get update && sudo apt-get install postgresql' and look at its error."
fi

# Tools some provisioning tests run (cloud-init's own schema check, netplan's parser). They
# install boot services, so only CI gets them unasked; elsewhere those tests are skipped.
if [ "${CI:-}" = "true" ] || [ "${STATIONS_SYSTEM_TOOLS:-}" = "1" ]; then
    if ! command -v cloud-init >/dev/null 2>&1 || ! command -v netplan >/dev/null 2>&1; then
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
            say "installing cloud-init and netplan.io for the provisioning tests"
            env DEBIAN_FRONTEND=noninteractive apt-get install -y -q cloud-init netplan.io >/dev/null 2>&1 || {
                apt-get update -q >/dev/null
                env DEBIAN_FRONTEND=noninteractive apt-get install -y -q cloud-init netplan.io >/dev/null
            } || say "could not install cloud-init/netplan.io: their tests will be skipped"
        fi
    fi
fi

# A virtual X server for the test that opens the demo's real windows (their places and sizes).
if [ "${CI:-}" = "true" ] || [ "${STATIONS_SYSTEM_TOOLS:-}" = "1" ]; then
    if ! command -v Xvfb >/dev/null 2>&1; then
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
            say "installing Xvfb for the windowed demo's test"
            env DEBIAN_FRONTEND=noninteractive apt-get install -y -q xvfb >/dev/null 2>&1 || {
                apt-get update -q >/dev/null
                env DEBIAN_FRONTEND=noninteractive apt-get install -y -q xvfb >/dev/null
            } || fail "could not install Xvfb: run 'apt-get update && apt-get install xvfb' and look at its error."
        fi
    fi
fi

# The teacher console's browser tests: Debian's Chromium (Playwright drives it; nothing is
# downloaded at test time) and axe-core from the npm registry, kept outside the repository.
axe_version=4.14.1
axe_dir="${STATIONS_AXE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/stations-axe}"
if [ "${CI:-}" = "true" ] || [ "${STATIONS_SYSTEM_TOOLS:-}" = "1" ]; then
    [ -x /usr/bin/chromium ] || [ -n "${STATIONS_CHROMIUM:-}" ] ||
        apt_install "Chromium (the console's browser tests)" chromium
    if ! grep -qs "\"version\": \"$axe_version\"" "$axe_dir/node_modules/axe-core/package.json"; then
        command -v npm >/dev/null 2>&1 || apt_install "npm (for axe-core)" npm
        say "installing axe-core $axe_version into $axe_dir (the console's accessibility test)"
        mkdir -p "$axe_dir"
        npm install --prefix "$axe_dir" --no-audit --no-fund --silent "axe-core@$axe_version" >/dev/null ||
            fail "npm could not install axe-core: run 'npm install --prefix $axe_dir axe-core@$axe_version' and look at its error."
    fi
fi

if [ ! -x .venv/bin/python ]; then
    say "creating .venv with $python"
    "$python" -m venv .venv 2>/dev/null || fail "could not create a virtual environment: sudo apt-get install python3-venv"
fi

# The tests' learning record store: ralph (ralph-malph) in a virtual environment of its own
# (its FastAPI and pydantic pins are not the project's business), made once and kept.
if [[ ",${extras}," == *",test,"* ]] && [ ! -x .venv/tools/ralph/bin/ralph ]; then
    say "installing ralph (the learning record store the xAPI tests send to) into .venv/tools/ralph"
    mkdir -p .venv/tools
    { "$python" -m venv .venv/tools/ralph &&
      .venv/tools/ralph/bin/python -m pip install -q --disable-pip-version-check \
          "ralph-malph[backend-fs,lrs,cli]==5.1.0" "requests>=2.31"; } >.venv/tools/ralph.log 2>&1 || {
        cat .venv/tools/ralph.log >&2
        rm -rf .venv/tools/ralph
        fail "could not install ralph-malph into .venv/tools/ralph: see the error above."
    }
fi

# Installed again only when what pip would install changes: the project's metadata, the
# Python, or an extra not installed yet. Code edits need nothing (the install is editable).
stamp=.venv/.stations-installed
want="$( { cat pyproject.toml; .venv/bin/python -VV; } | sha256sum | cut -d' ' -f1)"
have_extras=""
if [ -f "$stamp" ] && [ "$(head -n1 "$stamp")" = "$want" ]; then
    have_extras="$(sed -n 2p "$stamp")"
    missing=""
    for extra in ${extras//,/ }; do
        case ",$have_extras," in *",$extra,"*) ;; *) missing=1 ;; esac
    done
    [ -z "$missing" ] && exit 0
fi
all_extras="$(printf '%s\n' ${have_extras//,/ } ${extras//,/ } | sort -u | paste -sd, -)"
spec="."
[ -n "$all_extras" ] && spec=".[${all_extras}]"
rm -f "$stamp"
say "installing the project ($spec) into .venv"
log=.venv/setup.log
if ! { .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip &&
       .venv/bin/python -m pip install -q --disable-pip-version-check -e "$spec"; } >"$log" 2>&1; then
    cat "$log" >&2
    fail "pip could not install the project: see the error above (a network problem, or a missing compiler: sudo apt-get install build-essential python3-dev)."
fi
printf '%s\n%s\n' "$want" "$all_extras" >"$stamp"
