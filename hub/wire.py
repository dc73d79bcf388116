"""The hub's retained rotation state, built one way for publishing and for checking a config.

Pure: the service builds the message it publishes with :func:`rotation_state`; the config
loader builds the largest message that config can ever produce with
:func:`largest_rotation_state` and measures it against the contract before the hub starts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from broker import contract
from broker.contract import ContractError, RotationState, StationPlan
from hub.privacy import public_group_names
from hub.rotation import GroupDef, RotationPlan, RotationSnapshot, StationDef
from stations.text import Text

#: Seconds with the longest decimal form a float can take in a message (17 significant digits).
_LONGEST_SECONDS = 86399.123456789012
_LONGEST_TS = 4_102_444_799.1234567


def _plan(s: StationDef, group_id: str, public: Mapping[str, str]) -> StationPlan:
    return StationPlan(id=s.id, name=s.name, kind=s.kind,  # type: ignore[arg-type]
                       group=public.get(group_id, ""), group_id=group_id,
                       activities=tuple(contract.Activity(a.id, a.label, a.icon,
                                                          dict(a.labels))
                                        for a in s.activities),
                       colour=s.colour, icon=s.icon,  # type: ignore[arg-type]
                       names=dict(s.names))


def rotation_state(plan: RotationPlan, snap: RotationSnapshot, public: Mapping[str, str],
                   questions: Sequence[str], now: float) -> RotationState:
    """Where each group is and how long the block has left: group ids and public names."""
    return RotationState(**contract.envelope("hub", now), state=snap.phase.value,
                         block=snap.block, blocks=snap.blocks,
                         remaining_s=snap.remaining_s, moving_s=snap.moving_s,
                         stations=tuple(_plan(s, snap.assignments.get(s.id, ""), public)
                                        for s in plan.stations),
                         questions=tuple(questions))


def largest_rotation_state(stations: Sequence[StationDef], groups: Sequence[GroupDef],
                           blocks: int, questions: Sequence[str]) -> RotationState:
    """The biggest rotation state these stations and groups can make: every station with the
    group whose public name and id are longest, the longest numbers."""
    public = public_group_names(groups)
    widest = max(public, key=lambda gid: len(public[gid].encode()) + len(gid), default="")
    return RotationState(**contract.envelope("hub", _LONGEST_TS), state="running",
                         block=max(0, blocks - 1), blocks=blocks,
                         remaining_s=_LONGEST_SECONDS, moving_s=_LONGEST_SECONDS,
                         stations=tuple(_plan(s, widest, public) for s in stations),
                         questions=tuple(questions))


def rotation_size_problem(stations: Sequence[StationDef], groups: Sequence[GroupDef],
                          blocks: int, questions: Sequence[str]) -> str | None:
    """Why the rotation state of these stations and groups cannot be sent, or None."""
    message = largest_rotation_state(stations, groups, blocks, questions)
    payload = contract.encode(message)
    if len(payload) > contract.MAX_PAYLOAD_BYTES:
        sizes = [len(contract.encode(s)) for s in message.stations]
        worst = max(range(len(sizes)), key=sizes.__getitem__)
        return Text("the rotation state this config makes is %(size)d bytes; the message "
                    "contract carries at most %(most)d (MAX_PAYLOAD_BYTES): shorten station "
                    "names, activity labels or menus (the largest is station %(station)r, "
                    "%(station_size)d bytes)", size=len(payload),
                    most=contract.MAX_PAYLOAD_BYTES, station=stations[worst].id,
                    station_size=sizes[worst])
    try:
        contract.encode_checked(message)
    except ContractError as err:  # a limit the loaders' own checks do not know of yet
        return Text("the rotation state this config makes breaks the message contract: "
                    "%(detail)s", detail=err.detail)
    return None
