"""The three boot-partition files Raspberry Pi OS (Trixie) hands to cloud-init's NoCloud source.

``user-data`` (#cloud-config), ``meta-data`` and ``network-config`` (netplan version 2, as
Raspberry Pi Imager 2 writes it; Raspberry Pi OS renders it with netplan to NetworkManager).
Keys follow cloud-init 25.2, the first release with the Raspberry Pi module (``rpi:``), which
Raspberry Pi OS Trixie ships; the tests validate against that release's schema and netplan.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from provisioning.inventory import SPI_READERS, UART_READERS, Room, Site, Station, Wifi


@dataclass(frozen=True)
class FileSpec:
    """One entry of cloud-init's ``write_files``."""

    path: str
    content: str
    permissions: str = "0644"
    owner: str = "root:root"


class _Dumper(yaml.SafeDumper):
    """Literal blocks for multi-line text, so IT can read the files in user-data."""


def _str(dumper: yaml.SafeDumper, data: str) -> yaml.Node:
    if "\n" in data:
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", data)


_Dumper.add_representer(str, _str)


def dump(data: Mapping[str, Any]) -> str:
    return yaml.dump(dict(data), Dumper=_Dumper, sort_keys=False, allow_unicode=True,
                     default_flow_style=False, width=100)


def wpa_psk(passphrase: str, ssid: str) -> str:
    """The 256-bit WPA key (IEEE 802.11i PBKDF2), so the passphrase itself is not on the card."""
    return hashlib.pbkdf2_hmac("sha1", passphrase.encode("ascii"), ssid.encode("utf-8"),
                               4096, 32).hex()


def user_data(site: Site, *, hostname: str, fqdn: str, files: Sequence[FileSpec],
              station: Station | None, ssh_host_key: tuple[str, str] | None,
              runcmd: Iterable[Sequence[str]], comment: str) -> str:
    """The #cloud-config for one device. ``station`` is None for the hub."""
    config: dict[str, Any] = {
        "hostname": hostname,
        "fqdn": fqdn,
        "prefer_fqdn_over_hostname": False,
        "preserve_hostname": False,
        # /etc/hosts comes from write_files: it also names the hub, for TLS without DNS.
        "manage_etc_hosts": False,
        "manage_resolv_conf": False,
        "timezone": site.timezone,
        "locale": site.locale,
        "keyboard": {"layout": site.keyboard, "model": "pc105"},
        "user": {
            "name": site.admin_user,
            "gecos": "School IT",
            "shell": "/bin/bash",
            # SSH keys only: no password exists, so sudo must not ask for one.
            "lock_passwd": True,
            "ssh_authorized_keys": list(site.ssh_keys),
            "sudo": "ALL=(ALL) NOPASSWD:ALL",
        },
        "ssh_pwauth": False,
        "disable_root": True,
    }
    if ssh_host_key is not None:
        private, public = ssh_host_key
        config["ssh_deletekeys"] = True
        config["ssh_genkeytypes"] = ["ed25519"]
        config["ssh_keys"] = {"ed25519_private": private, "ed25519_public": public}
    if site.ntp:
        config["ntp"] = {"enabled": True, "ntp_client": "systemd-timesyncd",
                         "servers": list(site.ntp)}
    if station is None:
        # The hub's card is its only storage: give the root file system the whole card.
        config["growpart"] = {"mode": "auto", "devices": ["/"]}
        config["resize_rootfs"] = True
    else:
        # Stations keep a small read-only root; first boot puts the data partition in the rest.
        config["growpart"] = {"mode": "off"}
        config["resize_rootfs"] = False
        interfaces: dict[str, Any] = {}
        if station.reader in SPI_READERS:
            interfaces["spi"] = True
        if station.reader in UART_READERS:
            interfaces["serial"] = {"console": False, "hardware": True}
        if interfaces:
            config["rpi"] = {"interfaces": interfaces}
    config["write_files"] = [
        {"path": f.path, "content": f.content, "permissions": f.permissions, "owner": f.owner}
        for f in files
    ]
    config["runcmd"] = [list(c) for c in runcmd]
    config["power_state"] = {"mode": "reboot", "delay": "now", "condition": True,
                             "message": "stations: first boot done, restarting into service"}
    header = "#cloud-config\n" + "".join(f"# {line}\n" for line in comment.splitlines())
    return header + dump(config)


def network_config(wifi: Wifi, *, room: Room | None = None) -> str:
    """netplan v2; ``room`` given means the hub's (fixed address), else a station's (DHCP)."""
    ap: dict[str, Any] = {}
    if wifi.hidden:
        ap["hidden"] = True
    if wifi.security == "wpa-psk":
        ap["password"] = wpa_psk(wifi.password, wifi.ssid)
    elif wifi.security == "wpa-eap":
        ap["auth"] = {"key-management": "eap", "method": wifi.eap_method,
                      "identity": wifi.identity, "password": wifi.password}
    else:
        ap["auth"] = {"key-management": "none"}
    wlan: dict[str, Any] = {"dhcp4": True, "optional": True,
                            "regulatory-domain": wifi.country,
                            "access-points": {wifi.ssid: ap}}
    eth: dict[str, Any] = {"dhcp4": True, "optional": True}
    if room is not None and room.hub_network.mode == "static":
        net = room.hub_network
        static = {"dhcp4": False, "addresses": [f"{room.hub_ip}/{net.prefix}"],
                  "routes": [{"to": "default", "via": net.gateway}],
                  "nameservers": {"addresses": list(net.dns)}}
        target = wlan if net.interface == "wlan0" else eth
        target.update(static)
        if net.interface == "eth0":
            target["optional"] = False
    network = {"version": 2, "renderer": "NetworkManager", "ethernets": {"eth0": eth},
               "wifis": {"wlan0": wlan}}
    return ("# netplan v2 for cloud-init (Raspberry Pi OS renders it to NetworkManager).\n"
            "# Written by `stations provision`.\n" + dump({"network": network}))


def meta_data(*, room: str, device: str, hostname: str, user_data_text: str,
              network_text: str) -> str:
    """instance-id changes exactly when the device's files change, so cloud-init reapplies."""
    digest = hashlib.sha256((user_data_text + "\0" + network_text).encode()).hexdigest()[:16]
    return dump({"instance-id": f"stations-{room}-{device}-{digest}",
                 "local-hostname": hostname})
