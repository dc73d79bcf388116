"""The puck's main loop: card and button events out, light and beep commands in.

``Puck.step()`` does one non-blocking pass; ``Puck.run()`` loops forever. Everything it touches
is passed in, so the same code runs on the Pico and, in tests, on CPython with fake pins.
``clock`` is anything with MicroPython's ``ticks_ms``, ``ticks_add``, ``ticks_diff`` and
``sleep_ms``
(on the Pico: the ``time`` module itself).
"""

from stationpuck import __version__, protocol
from stationpuck.mfrc522 import CardError

IDLE_RGB = (0, 0, 24)  # dim blue: ready
FAULT_RGB = (255, 96, 0)  # amber, blinking: the reader is not answering
TAP_RGB = (255, 255, 255)  # a short white flash as soon as a card is read


class Puck:
    def __init__(self, reader, led, buzzer, buttons, link, clock, heartbeat_ms=1000, poll_ms=50,
                 gone_ms=300, retry_ms=2000, local_feedback=True):
        self.reader = reader
        self.led = led
        self.buzzer = buzzer
        self.buttons = buttons
        self.link = link
        self.clock = clock
        self.heartbeat_ms = heartbeat_ms
        self.poll_ms = poll_ms
        self.gone_ms = gone_ms
        self.retry_ms = retry_ms
        self.local_feedback = local_feedback
        self.reader_ok = False
        self.reader_problem = "not-started"
        self.garbled_reads = 0
        self.bad_frames = 0
        self._lines = protocol.LineBuffer()
        self._seq = 0
        self._start = clock.ticks_ms()
        self._card = None
        self._card_seen = 0
        self._next_poll = self._start
        self._next_retry = self._start
        self._next_heartbeat = self._start
        self._light = None  # (rgb, until or None, blink)
        self._light_since = self._start
        self._beep_until = None
        self._started = False

    # -- outgoing --------------------------------------------------------------------------
    def send(self, kind, *args):
        frame = protocol.encode(self._seq, kind, args)
        self._seq = (self._seq + 1) & 0xFFFF
        self.link.write(frame)

    def _due(self, when, now):
        return self.clock.ticks_diff(now, when) >= 0

    # -- one pass --------------------------------------------------------------------------
    def step(self):
        now = self.clock.ticks_ms()
        if not self._started:
            self._started = True
            self.send("hello", "stationpuck", __version__)
        self._ensure_reader(now)
        if self.reader_ok and self._due(self._next_poll, now):
            self._next_poll = self.clock.ticks_add(now, self.poll_ms)
            self._poll_card(now)
        for index, button in enumerate(self.buttons):
            if button.update(now):
                self.send("button", index + 1)
        for line in self._lines.feed(self.link.read()):
            self._handle_line(line)
        if self._due(self._next_heartbeat, now):
            self._next_heartbeat = self.clock.ticks_add(now, self.heartbeat_ms)
            uptime = self.clock.ticks_diff(now, self._start) // 1000
            self.send("heartbeat", uptime, "ok" if self.reader_ok else "reader-fault",
                      self.garbled_reads)
        self._update_outputs(now)

    def run(self):
        while True:
            self.step()
            self.clock.sleep_ms(5)

    # -- reader ----------------------------------------------------------------------------
    def _ensure_reader(self, now):
        if self.reader_ok or not self._due(self._next_retry, now):
            return
        self._next_retry = self.clock.ticks_add(now, self.retry_ms)
        try:
            self.reader.init()
        except OSError as err:
            self.reader_problem = str(err)
            return
        self.reader_ok = True
        self.reader_problem = ""

    def _poll_card(self, now):
        try:
            uid = self.reader.read_uid()
        except CardError:
            # Garbled RF answer (card at the edge of the field, two cards): try again next poll.
            self.garbled_reads += 1
            return
        except OSError as err:
            self.reader_ok = False
            self.reader_problem = str(err)
            self._card = None
            return
        if uid is None:
            gone = self.clock.ticks_diff(now, self._card_seen) > self.gone_ms
            if self._card is not None and gone:
                self._card = None
            return
        self._card_seen = now
        if uid == self._card:
            return  # still held on the reader: one tap
        self._card = uid
        self.send("card", _hex(uid))
        if self.local_feedback:
            self._set_light(TAP_RGB, 150, False, now)
            self._start_beep(2000, 40, now)

    # -- commands --------------------------------------------------------------------------
    def _handle_line(self, line):
        if line is None:
            self.bad_frames += 1
            self.send("nak", "-", "too-long")
            return
        if not line.strip():
            return
        try:
            seq, kind, args = protocol.decode(line)
        except protocol.FrameError as err:
            self.bad_frames += 1
            self.send("nak", "-", err.reason)
            return
        now = self.clock.ticks_ms()
        try:
            if kind == "light":
                rgb, ms, pattern = _light_args(args)
                self._set_light(rgb, ms, pattern == "blink", now)
            elif kind == "beep":
                freq, ms = _beep_args(args)
                self._start_beep(freq, ms, now)
            elif kind == "hello":
                _arity(args, 0)
                self.send("hello", "stationpuck", __version__)
            else:
                raise ValueError("unknown-command")
        except ValueError as err:
            self.bad_frames += 1
            self.send("nak", seq, str(err))
            return
        self.send("ack", seq)

    def _set_light(self, rgb, ms, blink, now):
        self._light = (rgb, self.clock.ticks_add(now, ms) if ms else None, blink)
        self._light_since = now

    def _start_beep(self, freq, ms, now):
        self.buzzer.tone(freq)
        self._beep_until = self.clock.ticks_add(now, ms)

    def _update_outputs(self, now):
        if self._beep_until is not None and self._due(self._beep_until, now):
            self.buzzer.off()
            self._beep_until = None
        light = self._light
        if light is not None and light[1] is not None and self._due(light[1], now):
            self._light = light = None
        if light is None:
            rgb, blink, since = (IDLE_RGB, False, self._start) if self.reader_ok else (
                FAULT_RGB, True, self._start)
        else:
            rgb, blink, since = light[0], light[2], self._light_since
        if blink and (self.clock.ticks_diff(now, since) // 250) % 2:
            rgb = (0, 0, 0)
        if self.led.rgb != rgb:
            self.led.set(*rgb)


def _hex(data):
    return "".join(f"{b:02X}" for b in data)


def _arity(args, n):
    if len(args) != n:
        raise ValueError("wrong-arity")


def _int(text, low, high):
    try:
        value = int(text)
    except ValueError:
        raise ValueError("bad-number") from None
    if not low <= value <= high:
        raise ValueError("out-of-range")
    return value


def _light_args(args):
    _arity(args, 3)
    colour, ms, pattern = args
    if len(colour) != 6:
        raise ValueError("bad-colour")
    try:
        value = int(colour, 16)
    except ValueError:
        raise ValueError("bad-colour") from None
    if pattern not in ("solid", "blink"):
        raise ValueError("bad-pattern")
    return ((value >> 16) & 0xFF, (value >> 8) & 0xFF, value & 0xFF), _int(ms, 0, 60000), pattern


def _beep_args(args):
    _arity(args, 2)
    return _int(args[0], 100, 8000), _int(args[1], 1, 5000)
