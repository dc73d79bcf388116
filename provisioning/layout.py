"""Where things live on a provisioned device. One place, so the units, the install script, the
first-boot script and the generated configs agree (tests check the shell scripts use these)."""

from __future__ import annotations

from pathlib import PurePosixPath as P

#: Configuration written by cloud-init at first boot (root fs; read-only on stations afterwards).
ETC = P("/etc/stations")
DEVICE_FILE = ETC / "device.toml"
CREDENTIALS = ETC / "mqtt.toml"
CA_FILE = ETC / "ca.crt"
KIOSK_CONFIG = ETC / "kiosk.toml"
HUB_CONFIG = ETC / "hub.toml"
ROSTER = ETC / "roster.toml"
#: The teacher console's accounts, and its copy of the hub's certificate and key (readable
#: by the hub's service user; Mosquitto keeps its own, readable by mosquitto alone).
TEACHERS = ETC / "teachers.toml"
CONSOLE_CERT = ETC / "console.crt"
CONSOLE_KEY = ETC / "console.key"
#: Writable and persistent on every device: on stations its own partition (label below), which
#: survives the read-only root. Releases (versioned venvs) live here too, so updates never need
#: the root file system writable.
HOME = P("/var/lib/stations")
DATA = HOME / "data"
OUTBOX = DATA / "outbox.db"
HUB_DATABASE = DATA / "hub.db"
#: The station's spoken prompts (`stations voice build`), on the writable partition.
VOICE_CACHE = DATA / "voice"
#: Where IT installs Piper voices (`<name>.onnx` and `<name>.onnx.json`) in the image.
PIPER_VOICES = P("/usr/share/piper-voices")
RELEASES = HOME / "releases"
CURRENT = HOME / "current"
DATA_LABEL = "stations-data"
#: Mosquitto's files from `stations broker-config` (broker.install_dir).
MOSQUITTO_DIR = P("/etc/mosquitto/stations")
SERVICE_USER = "stations"
SERVICE_GROUPS = ("video", "render", "input", "gpio", "spi", "i2c", "dialout", "audio")
FIRSTBOOT = P("/usr/local/sbin/stations-firstboot")
RELEASE_TOOL = P("/usr/local/sbin/stations-release")
