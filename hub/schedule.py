"""Which group is at which station in each block: the station-rotation schedule.

Groups take slots on a cyclic Latin square: slot ``j`` is at station ``(j + b) mod n`` in
block ``b``, so no two groups share a station and, over ``n`` blocks, every group visits
every station once. When a lesson has fewer blocks than stations, who gets which slot decides
who sees the teacher-led station today; the teacher-table rule puts the groups that need it
most (``every_lesson``) in the slots that reach it first, and rotates the other groups by the
lesson number so they take turns across days.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hub.rotation import GroupDef, RotationPlan


def build_schedule(plan: RotationPlan, groups: tuple[GroupDef, ...],
                   lesson: int) -> tuple[dict[str, str], ...]:
    """Per block, station id → group id, for the lesson numbered ``lesson`` (from 0)."""
    stations = [s.id for s in plan.stations]
    n, blocks = len(stations), plan.block_count
    if n == 0 or not groups:
        return tuple({} for _ in range(blocks))
    rule = plan.teacher_table
    if rule is not None and rule.station in stations:
        t = stations.index(rule.station)
        # slot j reaches the teacher station in block (t - j) mod n
        slots = sorted(range(n), key=lambda j: (t - j) % n)
        first = [g for gid in rule.every_lesson for g in groups if g.id == gid]
        others = [g for g in groups if g.id not in rule.every_lesson]
    else:
        slots = list(range(n))
        first, others = [], list(groups)
    if others:
        k = lesson % len(others)
        others = others[k:] + others[:k]
    order = first + others
    schedule = []
    for b in range(blocks):
        placed: dict[str, str] = {}
        for group, slot in zip(order, slots, strict=False):
            placed[stations[(slot + b) % n]] = group.id
        schedule.append(placed)
    return tuple(schedule)


def teacher_visits(schedule: tuple[dict[str, str], ...], station: str) -> list[str]:
    """The groups that reach ``station`` in this lesson, in block order."""
    return [block[station] for block in schedule if block.get(station)]
