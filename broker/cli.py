"""``stations broker-config``: write a room's Mosquitto configuration and device credentials."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from broker.config_gen import generate
from broker.devices import load_devices
from stations.files import undo_on_failure

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "broker-config",
        help="write a room's Mosquitto configuration, TLS certificates and device credentials",
        description="Write a complete Mosquitto 2 configuration for one room from its device "
                    "list. Safe to run again: existing secrets and certificates are kept.")
    parser.add_argument("devices", type=Path, metavar="DEVICES.toml",
                        help="the room's device list (see broker/example-devices.toml)")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR",
                        help="output folder (holds the room CA key: keep it safe)")
    parser.add_argument("--rotate-station", action="append", default=[], metavar="ID",
                        help="issue a new secret for this station (or the hub's username); "
                             "repeatable; the old secret stops working once the broker reloads")
    parser.add_argument("--rotate-bridge", action="store_true",
                        help="issue a new generated uplink password for the bridge")
    parser.add_argument("--install-dir", type=Path, metavar="PATH",
                        help="where DIR/broker will live on the hub (default: broker.install_dir "
                             "from the device list, else DIR/broker itself)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    devices = load_devices(args.devices)
    with undo_on_failure(args.out):  # a first run that fails leaves no half a room behind
        result = generate(devices, args.out, rotate=args.rotate_station,
                          rotate_bridge=args.rotate_bridge, install_dir=args.install_dir)
    # A summary for the person at the terminal; secrets stay in their 0600 files.
    lines = [f"room {devices.room}: {len(devices.stations)} stations, broker config in "
             f"{result.out / 'broker'}"]
    if result.new_ca:
        lines.append(f"new room CA in {result.out / 'ca'} (keep ca.key off the hub, back it up)")
    lines.append(f"server certificate SHA-256 {result.server_fingerprint}"
                 + (" (new)" if result.new_server_cert else ""))
    if result.new_secrets:
        lines.append("new secrets for: " + ", ".join(result.new_secrets)
                     + f" (copy {result.out / 'devices'}/<id>/ onto each device)")
    if result.revoked:
        lines.append("revoked: " + ", ".join(result.revoked))
    if result.written:
        lines.append(f"{len(result.written)} files written; reload the broker "
                     "(systemctl reload mosquitto) to apply")
    else:
        lines.append("nothing changed")
    print("\n".join(lines))
    return 0
