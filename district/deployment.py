"""A district as deployed, on one machine: for the tests, the benchmarks and trying it out.

The district broker's configuration comes from the project's own generator
(:func:`district.broker_config.generate`: TLS, an account and ACL per room, the ingest's
listener) and runs on a real Mosquitto on free loopback ports; PostgreSQL is a throwaway
cluster (:class:`district.pgcluster.LocalPostgres`) or any DSN given. ``district.toml`` is
written as a district would write it.

    district = DeployedDistrict(folder, rooms={"room-a": "school-1"}, dsn=pg.dsn).start()
    district.join(hub_toml, "room-a")        # adds the room's [district] table
    ingest = district.run_ingest(workers=2)  # the real `stations district ingest`
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from broker.mosquitto import MosquittoProcess, free_port, run_as_user
from district.broker_config import CA_FILE, ROOM_FILE, generate
from district.config import DistrictConfig, load_district_config
from stations import tomlwriter


class DeployedDistrict:
    def __init__(self, folder: Path | str, *, rooms: Mapping[str, str], dsn: str,
                 district: str = "test-district", workers: int = 2,
                 settings: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        """``rooms``: room id → school; ``settings``: extra keys per table of district.toml."""
        self.folder = Path(folder).resolve()
        self.folder.mkdir(parents=True, exist_ok=True)
        self.out = self.folder / "district-config"
        data: dict[str, Any] = {
            "district": district,
            "broker": {"host": "127.0.0.1", "port": free_port(), "username": "ingest",
                       "password_file": str(self.out / "ingest" / "password"),
                       "ca_file": str(self.out / "broker" / "ca.crt")},
            "ingest": {"workers": workers, "batch": 500, "batch_ms": 50},
            "postgres": {"dsn": dsn},
            "broker_config": {"hostname": "localhost", "ip": "127.0.0.1",
                              "rooms_port": free_port(), "data_dir": str(self.folder / "data"),
                              "user": run_as_user() or "mosquitto", "autosave_interval": 1},
            "rooms": [{"id": room, "school": school} for room, school in rooms.items()],
        }
        data["broker_config"]["ingest_port"] = data["broker"]["port"]
        for table, extra in (settings or {}).items():
            data.setdefault(table, {}).update(extra)
        (self.folder / "data").mkdir(exist_ok=True)
        self.path = self.folder / "district.toml"
        self.path.write_text(tomlwriter.dumps(data, "A district on this machine "
                                                    "(district.deployment)."))
        generate(load_district_config(self.path, secrets=False), self.out)
        self.config: DistrictConfig = load_district_config(self.path)
        b = self.config.broker_config
        self.broker = MosquittoProcess(self.out / "broker" / "mosquitto.conf",
                                       (b.rooms_port, b.ingest_port),
                                       log_path=self.folder / "mosquitto.log")

    @property
    def rooms_port(self) -> int:
        return self.config.broker_config.rooms_port

    @property
    def ingest_port(self) -> int:
        return self.config.broker_config.ingest_port

    def start(self) -> DeployedDistrict:
        self.broker.start()
        return self

    def stop(self) -> None:
        self.broker.stop()

    def room_table(self, room: str) -> dict[str, Any]:
        """The ``[district]`` table of ``room``'s hub.toml, as generated for it."""
        folder = self.out / "rooms" / room
        table = tomllib.loads((folder / ROOM_FILE).read_text())["district"]
        table["ca_file"] = str(folder / CA_FILE)
        return table

    def join(self, hub_toml: Path, room: str, **extra: Any) -> Path:
        """Add the room's ``[district]`` table (and ``extra`` keys) to its hub.toml."""
        data = tomllib.loads(hub_toml.read_text())
        data["district"] = {**self.room_table(room), **extra}
        hub_toml.write_text(tomlwriter.dumps(data, "The hub, joined to the district."))
        return hub_toml

    def ingest_connected(self, workers: int, since: int = 0) -> bool:
        """Workers 1..``workers`` have connected to the broker (its log after ``since``)."""
        text = self.broker.log_text()[since:]
        group = self.config.ingest.group
        return all(f"as {group}-{n} " in text for n in range(1, workers + 1))

    @staticmethod
    def stop_ingest(proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
        """SIGTERM (workers finish their batch), then SIGKILL if it does not leave."""
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def run_ingest(self, workers: int | None = None,
                   log_path: Path | None = None) -> subprocess.Popen[bytes]:
        """The real ``stations district ingest`` as a child process (stop it with SIGTERM)."""
        args = [sys.executable, "-m", "stations", "district", "ingest", "--config",
                str(self.path)]
        if workers is not None:
            args += ["--workers", str(workers)]
        log_file = (log_path or self.folder / "ingest.log").open("ab")
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        return subprocess.Popen(args, stdout=log_file, stderr=log_file,
                                stdin=subprocess.DEVNULL, env=env)

    def __enter__(self) -> DeployedDistrict:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
