from __future__ import annotations

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
