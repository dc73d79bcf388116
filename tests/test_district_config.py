"""district.toml is checked at start: every mistake names the file, the key and the problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from district.config import load_district_config
from stations.errors import ConfigError

GOOD = """
district = "unified-1"

[broker]
host = "mqtt.district.example"
port = 8884
username = "ingest"
password = "secret"

[ingest]
workers = 3

[postgres]
dsn = "host=db.district.example dbname=stations user=ingest"
keep_months = 36

[report]
timezone = "America/Chicago"

[[rooms]]
id = "lincoln-101"
school = "lincoln-hs"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "district.toml"
    path.write_text(text)
    return path


def test_a_good_file_loads(tmp_path: Path) -> None:
    config = load_district_config(write(tmp_path, GOOD))
    assert (config.district, config.ingest.workers, config.postgres.keep_months) == \
        ("unified-1", 3, 36)
    assert config.broker.port == 8884 and config.rooms[0].school == "lincoln-hs"


@pytest.mark.parametrize(("old", "new", "key", "problem"), [
    ("workers = 3", "wrokers = 3", "ingest.wrokers", "did you mean `workers`"),
    ("workers = 3", "workers = 0", "ingest.workers", "greater than 0"),
    ('password = "secret"', "", "broker.password", "is required"),
    ('school = "lincoln-hs"', 'school = "ana@lincoln.example"', "rooms[0].school",
     "without spaces or '@'"),
    ('id = "lincoln-101"', 'id = "Lincoln 101"', "rooms[0].id", "lower-case"),
    ("keep_months = 36", "keep_months = -1", "postgres.keep_months", "0 (keep everything)"),
    ('timezone = "America/Chicago"', 'timezone = "Central Time"', "report.timezone",
     "IANA"),
    ("port = 8884", "port = 88840", "broker.port", "not a TCP port"),
    ('district = "unified-1"', 'distrct = "unified-1"', "district", "misspelling"),
])
def test_a_mistake_is_named(tmp_path: Path, old: str, new: str, key: str,
                            problem: str) -> None:
    assert old in GOOD
    with pytest.raises(ConfigError) as err:
        load_district_config(write(tmp_path, GOOD.replace(old, new)))
    assert err.value.key == key and problem in err.value.problem


def test_a_room_listed_twice_is_refused(tmp_path: Path) -> None:
    text = GOOD + '\n[[rooms]]\nid = "lincoln-101"\nschool = "lincoln-ms"\n'
    with pytest.raises(ConfigError, match="listed twice"):
        load_district_config(write(tmp_path, text))


def test_the_example_file_loads(tmp_path: Path) -> None:
    from district.config import load_district_config as load

    example = Path(__file__).resolve().parent.parent / "district" / "example-district.toml"
    config = load(example, secrets=False)
    assert [r.id for r in config.rooms] == ["lincoln-101", "lincoln-102"]
