"""The printable sheet: which card goes into which Pi, room by room. Holds no secret."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from provisioning.inventory import Inventory
    from provisioning.provision import Card

STEPS = (
    "Flash each card with the Classroom Stations image in Raspberry Pi Imager "
    "(choose 'No' when Imager offers OS customisation).",
    "Take the card out and put it back in: the computer shows a drive called 'bootfs'.",
    "Copy the three files from the folder named in the table (user-data, meta-data, "
    "network-config) onto 'bootfs', replacing the files there. Eject the card.",
    "Stick the label on the card and on the Pi, put the card in, plug the Pi in. "
    "First boot takes a few minutes and restarts once by itself.",
    "Set up the hub first: the stations find it by name and show 'connecting' until it runs.",
)


def _rows(inventory: Inventory, cards: Sequence[Card], room_id: str) -> list[Card]:
    return [c for c in cards if c.room == room_id]


def render_text(inventory: Inventory, cards: Sequence[Card]) -> str:
    lines = [f"Classroom stations: cards for {inventory.site.name}", ""]
    lines += [f"{i}. {step}" for i, step in enumerate(STEPS, 1)] + [""]
    for room in inventory.rooms:
        lines += [f"Room {room.name} ({room.id}): hub {room.hub_fqdn} at {room.hub_ip}"
                  + (" (reserve this address for the hub on the DHCP server)"
                     if room.hub_network.mode == "dhcp" else ""), ""]
        header = ("card", "role", "host name", "name", "label", "folder")
        rows = [(f"{i}", c.role, c.hostname, c.name, c.label or "-",
                 f"{c.room}/{c.device}/bootfs") for i, c in
                enumerate(_rows(inventory, cards, room.id), 1)]
        widths = [max(len(r[k]) for r in (header, *rows)) for k in range(len(header))]
        for row in (header, *rows):
            lines.append("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True))
                         .rstrip())
        lines.append("")
    lines.append("SSH host key fingerprints (compare on first login):")
    lines += [f"  {c.hostname}: {c.ssh_fingerprint}" for c in cards]
    return "\n".join(lines) + "\n"


def render_html(inventory: Inventory, cards: Sequence[Card]) -> str:
    e = html.escape
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Cards for {e(inventory.site.name)}</title>",
        "<style>body{font:12pt sans-serif;margin:1.5cm}table{border-collapse:collapse;"
        "width:100%;margin-bottom:1cm}th,td{border:1px solid #444;padding:6px;text-align:left}"
        ".big{font-size:16pt;font-weight:bold}section{page-break-after:always}"
        "code{font-size:10pt}</style></head><body>",
    ]
    for room in inventory.rooms:
        dhcp = (" &mdash; reserve this address for the hub on the DHCP server"
                if room.hub_network.mode == "dhcp" else "")
        parts += [
            "<section>",
            f"<h1>{e(room.name)} <small>({e(room.id)}, {e(inventory.site.name)})</small></h1>",
            f"<p>Hub: <b>{e(room.hub_fqdn)}</b> at <b>{e(room.hub_ip)}</b>{dhcp}.</p>",
            "<ol>" + "".join(f"<li>{e(s)}</li>" for s in STEPS) + "</ol>",
            "<table><tr><th>done</th><th>card</th><th>role</th><th>host name</th><th>name</th>"
            "<th>label</th><th>copy from folder</th><th>SSH host key</th></tr>",
        ]
        for i, c in enumerate(_rows(inventory, cards, room.id), 1):
            parts.append(
                f"<tr><td>&#9744;</td><td class=big>{i}</td><td>{e(c.role)}</td>"
                f"<td class=big>{e(c.hostname)}</td><td>{e(c.name)}</td>"
                f"<td>{e(c.label)}</td><td><code>{e(c.room)}/{e(c.device)}/bootfs</code></td>"
                f"<td><code>{e(c.ssh_fingerprint)}</code></td></tr>")
        parts += ["</table>", "</section>"]
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
