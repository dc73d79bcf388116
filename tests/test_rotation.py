from __future__ import annotations

import json

import pytest

from hub.rotation import GroupDef, Phase, Rotation, RotationPlan, StationDef

STATIONS = tuple(StationDef(f"s{i}", f"Station {i}", "online") for i in range(1, 4))
GROUPS = (GroupDef("g1", "Foxes", ("a", "b")), GroupDef("g2", "Owls", ("c",)),
          GroupDef("g3", "Otters", ("d",)))
PLAN = RotationPlan(STATIONS, GROUPS, block_s=600)


def test_every_group_visits_every_station() -> None:
    rot = Rotation(PLAN)
    rot.start(0)
    seen: dict[str, set[str]] = {g.id: set() for g in GROUPS}
    for block in range(3):
        assert rot.block == block
        for station, group in rot.assignments().items():
            seen[group].add(station)
        rot.tick(600 * (block + 1))
    assert all(stations == {"s1", "s2", "s3"} for stations in seen.values())
    assert rot.phase is Phase.ENDED


def test_student_is_sent_to_their_groups_station() -> None:
    rot = Rotation(PLAN)
    assert rot.station_for("a") is None  # not started
    rot.start(0)
    assert rot.station_for("a").id == "s1"
    rot.tick(600)
    assert rot.station_for("a").id == "s2"
    assert rot.station_for("nobody") is None


def test_pause_extend_skip() -> None:
    rot = Rotation(PLAN)
    rot.start(0)
    rot.pause(100)
    assert rot.remaining(5000) == 500  # paused time does not count
    rot.resume(5000)
    rot.extend(5000, 120)
    assert rot.remaining(5000) == 620
    rot.skip(5010)
    assert rot.block == 1 and rot.remaining(5010) == 600


def test_restart_mid_block_resumes_from_real_time() -> None:
    rot = Rotation(PLAN)
    rot.start(0)
    saved = rot.to_dict()
    again = Rotation(PLAN)
    again.restore(saved, now=700)  # the hub was down across a block boundary
    assert again.block == 1
    assert again.remaining(700) == 500


# --- the real engine: blocks with transitions and warnings, models, rules, restarts ------------

from hub.rotation import BlockDef, Model, TeacherTableRule  # noqa: E402
from hub.schedule import teacher_visits  # noqa: E402

FOUR = tuple(StationDef(f"s{i}", f"Station {i}", "teacher-led" if i == 1 else "online",
                        capacity=4) for i in range(1, 5))
GROUPS4 = tuple(GroupDef(f"g{i}", f"G{i}", (f"a{i}", f"b{i}")) for i in range(1, 5))


def timed_plan(**kw) -> RotationPlan:
    return RotationPlan(FOUR, GROUPS4, block_s=600, transition_s=60, warning_s=120, **kw)


def events(evs) -> list[tuple[str, int]]:
    return [(e.event, e.block) for e in evs]


def test_a_full_lesson_announces_moves_warnings_and_the_end() -> None:
    rot = Rotation(timed_plan())
    log = events(rot.start(0))
    t = 0
    while rot.phase is not Phase.ENDED:
        t += 10
        log += events(rot.tick(t))
    assert log == [("move", 0), ("warning", 0), ("move", 1), ("warning", 1), ("move", 2),
                   ("warning", 2), ("move", 3), ("warning", 3), ("ended", 3)]
    assert t == 4 * 660  # four blocks of a minute's move and ten minutes' work


def test_transition_then_work_then_warning_window() -> None:
    rot = Rotation(timed_plan())
    rot.start(0)
    snap = rot.snapshot(30)
    assert snap.moving_s == 30 and snap.remaining_s == 630 and not snap.warning
    assert rot.snapshot(61).moving_s == 0
    assert rot.snapshot(560).warning and rot.snapshot(560).remaining_s == 100


def test_pause_resume_extend_skip_and_their_notices() -> None:
    rot = Rotation(timed_plan())
    rot.start(0)
    assert events(rot.pause(100)) == [("paused", 0)]
    assert rot.tick(10_000) == [] and rot.remaining(10_000) == 560  # frozen
    assert events(rot.resume(10_000)) == [("resumed", 0)]
    assert rot.remaining(10_000) == 560
    assert events(rot.tick(10_450)) == [("warning", 0)]  # 110 s left
    assert rot.extend(10_450, 300) == [] and rot.remaining(10_450) == 410
    assert events(rot.tick(10_750)) == [("warning", 0)]  # the warning comes again
    assert events(rot.skip(10_760)) == [("move", 1)]
    assert rot.block == 1 and rot.remaining(10_760) == 660
    assert events(rot.end(10_770)) == [("ended", 1)] and rot.assignments()["s1"] == ""


def test_teacher_table_rule_brings_the_neediest_group_first_every_lesson() -> None:
    plan = timed_plan(blocks=2, teacher_table=TeacherTableRule("s1", ("g3",)))
    rot = Rotation(plan)
    seen = []
    for lesson in range(3):
        rot.start(lesson * 10_000)
        assert rot.assignments()["s1"] == "g3"  # first block, every day
        seen.append(teacher_visits(rot.schedule, "s1"))
        rot.end(lesson * 10_000 + 1)
    assert all(v[0] == "g3" and len(v) == 2 for v in seen)
    # the others take turns at the second slot
    assert {v[1] for v in seen} == {"g1", "g2", "g4"}


def test_every_group_visits_every_station_without_clashes() -> None:
    rot = Rotation(timed_plan())
    rot.start(0)
    visits = {g.id: set() for g in GROUPS4}
    for b in range(4):
        placed = rot.assignments(b)
        assert sorted(placed.values()) == ["g1", "g2", "g3", "g4"]
        for station, group in placed.items():
            visits[group].add(station)
    assert all(v == {"s1", "s2", "s3", "s4"} for v in visits.values())


def test_individual_rotation_follows_each_playlist() -> None:
    plan = RotationPlan(FOUR, GROUPS4, block_s=600, model=Model.INDIVIDUAL,
                        playlists={"a1": ("s3", "s1", "s2"), "zed": ("s4",)})
    rot = Rotation(plan)
    rot.start(0)
    assert rot.station_for("a1").id == "s3" and rot.station_for("zed").id == "s4"
    assert rot.station_for("b1").id == rot.station_for("b1").id  # by group, no playlist
    assert "a1" in rot.snapshot(0).expected["s3"]
    rot.tick(600)
    assert rot.station_for("a1").id == "s1" and rot.station_for("zed") is None
    assert rot.next_station_for("a1") == "s2"


def test_flex_points_to_the_next_unvisited_station_with_room() -> None:
    stations = (StationDef("s1", "One", "online", capacity=1), StationDef("s2", "Two", "online"),
                StationDef("s3", "Three", "online"))
    plan = RotationPlan(stations, (GroupDef("g", "All", ("x", "y")),), block_s=1800,
                        model=Model.FLEX)
    rot = Rotation(plan)
    rot.start(0)
    assert rot.station_id_for("x") == "s1"
    rot.record_arrival("x", "s1")
    assert rot.station_id_for("x") == "s1"  # doing it now
    assert rot.next_station_for("x") == "s2"
    assert rot.station_id_for("y") == "s2"  # s1 is full (capacity 1)
    rot.record_arrival("x", "s2")
    assert rot.next_station_for("x") == "s3" and rot.station_id_for("y") == "s1"


def test_moved_and_absent_students_show_where_they_belong() -> None:
    rot = Rotation(timed_plan())
    rot.start(0)
    rot.move_student("a1", "g2")
    rot.mark_absent("b2")
    snap = rot.snapshot(0)
    g2_station = next(s for s, g in snap.assignments.items() if g == "g2")
    assert "a1" in snap.expected[g2_station] and "a1" in snap.members["g2"]
    assert "a1" not in snap.members["g1"] and "b2" in snap.absent
    rot.record_arrival("b2", "s1")  # tapped in after all
    assert "b2" not in rot.snapshot(0).absent
    with pytest.raises(ValueError):
        rot.move_student("a1", "nope")


def test_restart_mid_block_keeps_the_end_time_and_everything_else() -> None:
    rot = Rotation(timed_plan())
    rot.start(1000)
    rot.move_student("a1", "g3")
    rot.mark_absent("b4")
    rot.tick(1000 + 200)
    saved = json.loads(json.dumps(rot.to_dict()))  # through the database's JSON
    again = Rotation(timed_plan())
    assert again.restore(saved, now=1000 + 250) == []  # down for 50 s: nothing to announce
    assert again.block == 0 and again.remaining(1250) == 660 - 250
    assert again.group_of("a1") == "g3" and "b4" in again.absent
    # down across the warning: it is announced on restart, once
    third = Rotation(timed_plan())
    assert events(third.restore(saved, now=1000 + 600)) == [("warning", 0)]
    # down across two block ends: one move to the block it is now, remaining from real time
    fourth = Rotation(timed_plan())
    assert events(fourth.restore(saved, now=1000 + 660 * 2 + 30)) == [("move", 2)]
    assert fourth.remaining(1000 + 660 * 2 + 30) == 630
    # a paused lesson stays paused with its time left
    rot.pause(1300)
    paused = Rotation(timed_plan())
    paused.restore(rot.to_dict(), now=99_999)
    assert paused.phase is Phase.PAUSED and paused.remaining(99_999) == 660 - 300


def test_restore_refuses_a_lesson_for_other_stations() -> None:
    rot = Rotation(timed_plan())
    rot.start(0)
    other = Rotation(RotationPlan(FOUR[:3], GROUPS4[:3], block_s=600))
    with pytest.raises(ValueError, match="other stations"):
        other.restore(rot.to_dict(), now=10)
    assert other.phase is Phase.IDLE


def test_per_block_lengths() -> None:
    plan = RotationPlan(FOUR, GROUPS4, block_s=0,
                        block_defs=(BlockDef(300), BlockDef(900, 60, 60)))
    rot = Rotation(plan)
    rot.start(0)
    assert plan.block_count == 2 and rot.remaining(0) == 300
    assert events(rot.tick(300)) == [("move", 1)] and rot.remaining(300) == 960
