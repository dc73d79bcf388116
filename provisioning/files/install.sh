#!/bin/bash
# Install Classroom Stations on a Raspberry Pi OS (Trixie, arm64) root file system: the
# Debian packages the devices need (packages.txt, the display's libraries included), the
# service user and its groups, the systemd units and drop-ins, the first-boot and release
# tools, and the first release (a versioned virtual environment) from a wheelhouse. Run as
# root, on the device or in a chroot (the pi-gen stage runs it there). Enables nothing:
# stations-firstboot does that once cloud-init has told the device its role.
#
#   install.sh --wheelhouse DIR [--version V] [--no-apt]
#
# DIR is a wheelhouse made by build-wheelhouse for this device's Python and CPU (the image
# build makes one; scripts/wheelhouse.sh makes one on any machine): wheels only, so nothing is
# downloaded or compiled here. A wheelhouse that would need a compiler is refused.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
wheelhouse="" version="" apt=1
while [ $# -gt 0 ]; do
    case "$1" in
        --wheelhouse) wheelhouse="$2"; shift 2 ;;
        --version) version="$2"; shift 2 ;;
        --no-apt) apt=0; shift ;;
        *) echo "install.sh: unknown option $1" >&2; exit 2 ;;
    esac
done
[ "$(id -u)" = 0 ] || { echo "install.sh: run me as root" >&2; exit 1; }
[ -n "$wheelhouse" ] || { echo "install.sh: --wheelhouse DIR is required" >&2; exit 2; }

SERVICE_USER=stations
HOME_DIR=/var/lib/stations
GROUPS_WANTED="video render input gpio spi i2c dialout audio"
# What the devices need from Debian / Raspberry Pi OS, one package a line (comments allowed).
PACKAGES="$(sed -e 's/#.*//' "$here/packages.txt" | xargs)"

if [ "$apt" = 1 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    # shellcheck disable=SC2086
    apt-get install -y -q --no-install-recommends $PACKAGES
fi

for group in $GROUPS_WANTED; do
    getent group "$group" >/dev/null || groupadd --system "$group"
done
getent group "$SERVICE_USER" >/dev/null || groupadd --system "$SERVICE_USER"
if ! getent passwd "$SERVICE_USER" >/dev/null; then
    useradd --system --gid "$SERVICE_USER" --home-dir "$HOME_DIR" --no-create-home \
        --shell /usr/sbin/nologin --comment "Classroom stations services" "$SERVICE_USER"
fi
usermod --append --groups "$(echo $GROUPS_WANTED | tr ' ' ',')" "$SERVICE_USER"

install -d -m 0755 -o root -g root "$HOME_DIR" "$HOME_DIR/releases"
install -d -m 0750 -o "$SERVICE_USER" -g "$SERVICE_USER" "$HOME_DIR/data"
install -d -m 0750 -o root -g "$SERVICE_USER" /etc/stations
install -d -m 0755 /etc/mosquitto/stations

install -m 0755 "$here/sbin/stations-firstboot" /usr/local/sbin/stations-firstboot
install -m 0755 "$here/sbin/stations-release" /usr/local/sbin/stations-release

install -m 0644 "$here/systemd/stations-kiosk.service" /etc/systemd/system/
install -m 0644 "$here/systemd/stations-hub.service" /etc/systemd/system/
install -D -m 0644 "$here/systemd/mosquitto-stations.conf" \
    /etc/systemd/system/mosquitto.service.d/stations.conf
install -D -m 0644 "$here/systemd/journald-stations.conf" \
    /etc/systemd/journald.conf.d/stations.conf
install -D -m 0644 "$here/systemd/watchdog.conf" \
    /etc/systemd/system.conf.d/stations-watchdog.conf
# Kept for stations-firstboot, which turns it on for stations only.
install -D -m 0644 "$here/systemd/journald-volatile.conf" \
    /usr/local/share/stations/journald-volatile.conf

# Mosquitto runs only on the hub, and only with the room's configuration.
if command -v systemctl >/dev/null; then
    systemctl disable mosquitto.service >/dev/null 2>&1 || true
fi

args=(install --wheelhouse "$wheelhouse" --activate)
[ -n "$version" ] && args+=(--version "$version")
/usr/local/sbin/stations-release "${args[@]}"
echo "install.sh: installed $(readlink "$HOME_DIR/current")"
