"""CPU cost of an idle MFRC522 poll loop: our driver against the mfrc522 package (0.0.7).

Each variant runs in its own process for ``--seconds`` with no card on the emulated chip and
reports CPU seconds per wall second (1.0 = one core busy) and SPI transfers per second:

* ``driver-irq``       our driver, IRQ line wired, on gpiozero's mock (bit-banged) SPI bus
* ``driver-poll``      our driver, no IRQ line (status reads between sleeps), mock SPI bus
* ``driver-irq-bytes`` our driver, IRQ wired, whole-frame transfers (as spidev/lgpio do)
* ``legacy-backend``   kind = "mfrc522-legacy": the package's poll, our sleeps between polls
* ``legacy-read_id``   the package's own ``SimpleMFRC522().read_id()`` loop

The legacy variants use whole-frame transfers (the ``spidev`` stand-in), so compare them
with ``driver-irq-bytes``; the mock-SPI variants add gpiozero's per-bit Python cost, which
real hardware SPI does not have. The ratio column is against ``legacy-read_id``, the code
stations run today. With ``--json`` the last line is one JSON object with every figure.

    python bench/bench_reader.py [--seconds 3] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VARIANTS = ("driver-irq", "driver-poll", "driver-irq-bytes", "legacy-backend", "legacy-read_id")


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _measure(chip, seconds: float) -> dict[str, float]:
    time.sleep(0.3)  # settle: start-up and the first poll are not the idle loop
    frames, cpu, wall = chip.frames, _cpu(), time.monotonic()
    time.sleep(seconds)
    wall = time.monotonic() - wall
    return {"cpu_per_wall_s": (_cpu() - cpu) / wall,
            "spi_transfers_per_s": (chip.frames - frames) / wall}


def run_variant(name: str, seconds: float) -> dict[str, float]:
    sys.path.insert(0, str(ROOT))
    from kiosk.readers.emulated_mfrc522 import EmulatedMFRC522

    chip = EmulatedMFRC522()
    time.sleep(0.002)
    if name.startswith("driver"):
        from gpiozero import Device, DigitalInputDevice, DigitalOutputDevice
        from gpiozero.pins.mock import MockFactory

        from kiosk.readers.emulated_mfrc522 import attach_to_mock_factory
        from kiosk.readers.mfrc522_spi import MFRC522, MFRC522Reader

        factory = MockFactory()
        Device.pin_factory = factory  # gpiozero's software SPI bus needs the global
        irq_pin = None if name == "driver-poll" else 24
        attach_to_mock_factory(chip, factory, irq_pin=irq_pin)
        reader = MFRC522Reader(pin_factory=factory, irq_pin=irq_pin)
        if name == "driver-irq-bytes":
            class FrameSPI:  # what a kernel SPI transfer is: one frame, no per-bit Python
                def transfer(self, data):
                    return chip.transfer(data)

            reader.chip = MFRC522(FrameSPI(),
                                  reset=DigitalOutputDevice(25, initial_value=True,
                                                            pin_factory=factory),
                                  irq=DigitalInputDevice(24, pull_up=True,
                                                         pin_factory=factory))
        reader.start(lambda tap: None)
        result = _measure(chip, seconds)
        result["polls_per_s"] = reader.polls / (seconds + 0.3)
        reader.close()
    else:
        from kiosk.readers.emulated_mfrc522 import legacy_shim_modules

        sys.modules.update(legacy_shim_modules(chip))  # a benchmark process, not the product
        if name == "legacy-backend":
            from kiosk.readers.mfrc522_legacy import LegacyMFRC522Reader

            reader = LegacyMFRC522Reader()
            reader.start(lambda tap: None)
            result = _measure(chip, seconds)
            result["polls_per_s"] = reader.polls / (seconds + 0.3)
            reader.close()
        else:
            from mfrc522 import SimpleMFRC522

            simple = SimpleMFRC522()
            done = threading.Event()
            thread = threading.Thread(target=lambda: (simple.read_id(), done.set()),
                                      daemon=True)
            thread.start()
            result = _measure(chip, seconds)
            chip.place("04A1B2C3")  # lets read_id() return
            done.wait(5)
    chip.close()
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--variant", choices=VARIANTS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.variant:
        print(json.dumps(run_variant(args.variant, args.seconds)))
        return 0
    results = {}
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    for name in VARIANTS:
        out = subprocess.run([sys.executable, __file__, "--variant", name, "--seconds",
                              str(args.seconds)], capture_output=True, text=True, env=env,
                             check=True)
        results[name] = json.loads(out.stdout.strip().splitlines()[-1])
    base = results["legacy-read_id"]["cpu_per_wall_s"]
    print(f"idle MFRC522 poll loop, {args.seconds:g} s per variant, no card on the reader")
    print(f"{'variant':18} {'CPU s/wall s':>13} {'SPI xfers/s':>12} {'polls/s':>8} "
          f"{'CPU vs read_id':>15}")
    for name, r in results.items():
        polls = f"{r['polls_per_s']:.1f}" if "polls_per_s" in r else "-"
        print(f"{name:18} {r['cpu_per_wall_s']:13.4f} {r['spi_transfers_per_s']:12.0f} "
              f"{polls:>8} {r['cpu_per_wall_s'] / base:15.4f}")
    figures = {f"{name}_{key}": round(value, 5) for name, r in results.items()
               for key, value in r.items()}
    figures["driver_irq_bytes_cpu_ratio_vs_legacy_read_id"] = round(
        results["driver-irq-bytes"]["cpu_per_wall_s"] / base, 5)
    if args.json:
        print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
