"""``stations provision`` and ``stations imager-json``: register with ``register(subparsers)``."""

from __future__ import annotations

import argparse
from pathlib import Path

from stations.files import undo_on_failure


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "provision",
        help="write every device's SD-card files and the card sheet from a school inventory",
        description="Write, for every hub and station in the inventory, the files that go on "
                    "its SD card's boot partition (cloud-init user-data, meta-data, "
                    "network-config), and a printable sheet saying which card goes into which "
                    "Pi. Safe to run again: secrets and keys are kept.")
    parser.add_argument("inventory", type=Path, metavar="INVENTORY",
                        help="the inventory (see provisioning/example-room.toml)")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR",
                        help="output folder (DIR/.state holds the room CA key: keep it safe)")
    parser.set_defaults(func=run_provision)

    imager = subparsers.add_parser(
        "imager-json",
        help="write the Raspberry Pi Imager repository file for built images",
        description="Describe built images (.img.xz) for Raspberry Pi Imager: sizes and "
                    "SHA-256 of the download and of the extracted image.")
    imager.add_argument("images", type=Path, nargs="+", metavar="IMAGE.img.xz",
                        help="the built images to list")
    imager.add_argument("--url-base", required=True,
                        help="where the images will be downloaded from, e.g. "
                             "https://it.district.example/stations/")
    imager.add_argument("--out", type=Path, required=True, metavar="FILE.json",
                        help="the repository file to write")
    imager.add_argument("--release-date", default=None, metavar="YYYY-MM-DD",
                        help="default: the image file's modification date (UTC)")
    imager.set_defaults(func=run_imager_json)


def run_provision(args: argparse.Namespace) -> int:
    from provisioning.provision import provision_file

    with undo_on_failure(args.out):  # a first run that fails leaves no half a school behind
        result = provision_file(args.inventory, args.out)
    rooms = sorted({c.room for c in result.cards})
    print(f"{len(result.cards)} cards for {len(rooms)} room(s) ({', '.join(rooms)}) in "
          f"{result.out} ({result.seconds:.2f} s)")
    for card in result.cards:
        print(f"  {card.room}/{card.device}/bootfs  {card.role:7}  {card.hostname}")
    if result.removed:
        print("removed (no longer in the inventory, MQTT passwords revoked): "
              + ", ".join(result.removed))
    print(f"print {result.out / 'sheet.html'}; keep {result.out / '.state'} safe and backed up; "
          f"{len(result.written)} files written" if result.written else "nothing changed")
    return 0


def run_imager_json(args: argparse.Namespace) -> int:
    from provisioning.imager import write_repository

    with undo_on_failure(args.out):
        path = write_repository(args.images, url_base=args.url_base, out=args.out,
                                release_date=args.release_date)
    print(f"wrote {path}: {len(args.images)} image(s)")
    return 0
