"""The Raspberry Pi Imager repository file (``os_list`` JSON) for the project's images.

IT points Imager at it (Imager: App Options > Content Repository > Use custom file or URL, or
``rpi-imager --repo URL``) and picks "Classroom Stations" like any other OS. Sizes and SHA-256
are computed from the built ``.img.xz`` files, so the JSON always matches what is served.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import lzma
from pathlib import Path

from stations.errors import ImageError

#: Devices the image supports, as Imager's device filter tags name them.
DEVICES = ["pi5-64bit", "pi4-64bit", "pi3-64bit"]
DESCRIPTION = ("Classroom Stations for Raspberry Pi OS Lite (Trixie, 64-bit): one image for "
               "the classroom hub and the station kiosks. Copy the card's files from "
               "`stations provision` onto the boot partition after writing.")


def _digests(path: Path) -> tuple[str, int, str, int]:
    """SHA-256 and size of the compressed file and of the image it extracts to."""
    outer, inner = hashlib.sha256(), hashlib.sha256()
    extracted = 0
    with path.open("rb") as raw:
        for block in iter(lambda: raw.read(1 << 20), b""):
            outer.update(block)
    try:
        with lzma.open(path, "rb") as xz:
            for block in iter(lambda: xz.read(1 << 20), b""):
                inner.update(block)
                extracted += len(block)
    except (lzma.LZMAError, EOFError) as err:
        raise ImageError(path, f"not a whole xz-compressed image ({err or 'cut short'}): "
                               "copy it again from the image build") from err
    return outer.hexdigest(), path.stat().st_size, inner.hexdigest(), extracted


def entry(image: Path, *, url_base: str, release_date: str | None = None) -> dict[str, object]:
    if not image.name.endswith(".img.xz"):
        raise ImageError(image, "Imager needs an .img.xz image")
    if not image.is_file():
        raise ImageError(image, "no such image (provisioning/pi-gen/build.sh builds one: "
                                "give the path of the .img.xz it wrote)")
    download_sha, download_size, extract_sha, extract_size = _digests(image)
    date = release_date or dt.datetime.fromtimestamp(image.stat().st_mtime, dt.UTC).date(
        ).isoformat()
    dt.date.fromisoformat(date)
    return {
        "name": "Classroom Stations (hub and station)",
        "description": DESCRIPTION,
        "url": url_base.rstrip("/") + "/" + image.name,
        "icon": url_base.rstrip("/") + "/classroom-stations.png",
        "website": url_base.rstrip("/") + "/",
        "release_date": date,
        "extract_size": extract_size,
        "extract_sha256": extract_sha,
        "image_download_size": download_size,
        "image_download_sha256": download_sha,
        "devices": DEVICES,
        # The image reads the card's cloud-init files; Imager's own customisation would
        # replace them, so it is not offered.
        "init_format": "none",
    }


def repository(images: list[Path], *, url_base: str,
               release_date: str | None = None) -> dict[str, object]:
    return {"os_list": [entry(i, url_base=url_base, release_date=release_date)
                        for i in images]}


def write_repository(images: list[Path], *, url_base: str, out: Path,
                     release_date: str | None = None) -> Path:
    data = repository(list(images), url_base=url_base, release_date=release_date)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return out
