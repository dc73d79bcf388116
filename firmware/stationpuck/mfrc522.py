# ruff: noqa: UP031, SIM105  (MicroPython: no contextlib; % formatting is the cheap path)
"""MFRC522 (NXP, 13.56 MHz ISO/IEC 14443 A) over SPI, micropython-lib style.

    reader = MFRC522(spi, cs, rst)      # machine.SPI, machine.Pin, machine.Pin
    reader.init()                       # OSError if the chip does not answer
    uid = reader.read_uid()             # bytes, None if no card; CardError if the read is garbled

Polls with WUPA, so a card that stays on the reader is seen on every poll (held-card logic is the
caller's). 4-, 7- and 10-byte UIDs (cascade levels 1-3). Register names follow the datasheet.
"""

try:
    from micropython import const
except ImportError:  # CPython, for tests
    def const(value):
        return value

_COMMAND = const(0x01)
_COM_IRQ = const(0x04)
_DIV_IRQ = const(0x05)
_ERROR = const(0x06)
_FIFO_DATA = const(0x09)
_FIFO_LEVEL = const(0x0A)
_CONTROL = const(0x0C)
_BIT_FRAMING = const(0x0D)
_COLL = const(0x0E)
_MODE = const(0x11)
_TX_MODE = const(0x12)
_RX_MODE = const(0x13)
_TX_CONTROL = const(0x14)
_TX_ASK = const(0x15)
_CRC_RESULT_H = const(0x21)
_CRC_RESULT_L = const(0x22)
_T_MODE = const(0x2A)
_T_PRESCALER = const(0x2B)
_T_RELOAD_H = const(0x2C)
_T_RELOAD_L = const(0x2D)
_VERSION = const(0x37)

_CMD_IDLE = const(0x00)
_CMD_CALC_CRC = const(0x03)
_CMD_TRANSCEIVE = const(0x0C)
_CMD_SOFT_RESET = const(0x0F)

_PICC_WUPA = const(0x52)
_PICC_REQA = const(0x26)
_PICC_HLTA = const(0x50)
_CASCADE_TAG = const(0x88)
_SELECT = (0x93, 0x95, 0x97)

# Versions seen in the field: MFRC522 v1.0/v2.0, and the FM17522 clone on cheap modules.
KNOWN_VERSIONS = (0x88, 0x90, 0x91, 0x92, 0xB2)
_POLLS = const(4000)


class CardError(Exception):
    """A card answered but the answer was garbled (collision, bad BCC or CRC, bad length)."""


class MFRC522:
    def __init__(self, spi, cs, rst=None, sleep_ms=None):
        self.spi = spi
        self.cs = cs
        self.rst = rst
        self._sleep_ms = sleep_ms
        self.version = None
        cs.init(cs.OUT, value=1)
        if rst is not None:
            rst.init(rst.OUT, value=1)

    def _sleep(self, ms):
        if self._sleep_ms is None:
            import time
            self._sleep_ms = time.sleep_ms
        self._sleep_ms(ms)

    # Register access: address byte is 0AAAAAA0 to write, 1AAAAAA0 to read (datasheet 8.1.2).
    def _write(self, reg, data):
        self.cs(0)
        try:
            self.spi.write(bytes(((reg << 1) & 0x7E,)) + bytes(data))
        finally:
            self.cs(1)

    def _wreg(self, reg, value):
        self._write(reg, (value,))

    def _rreg(self, reg):
        buf = bytearray(2)
        self.cs(0)
        try:
            # The value comes back while the next byte (0x00: end of burst) is clocked out.
            self.spi.write_readinto(bytes((((reg << 1) & 0x7E) | 0x80, 0)), buf)
        finally:
            self.cs(1)
        return buf[1]

    def _read_fifo(self, count):
        if not count:
            return b""
        addr = ((_FIFO_DATA << 1) & 0x7E) | 0x80
        out = bytearray(count + 1)
        for i in range(count):
            out[i] = addr
        buf = bytearray(count + 1)
        self.cs(0)
        try:
            self.spi.write_readinto(out, buf)
        finally:
            self.cs(1)
        return bytes(buf[1:])

    def _set_bits(self, reg, mask):
        self._wreg(reg, self._rreg(reg) | mask)

    def _clear_bits(self, reg, mask):
        self._wreg(reg, self._rreg(reg) & ~mask & 0xFF)

    def init(self):
        """Reset and configure the chip; OSError naming the problem if it does not answer."""
        if self.rst is not None:
            self.rst(0)
            self._sleep(1)
            self.rst(1)
            self._sleep(50)  # oscillator start-up (datasheet 8.8.2), with margin
        self._wreg(_COMMAND, _CMD_SOFT_RESET)
        for _ in range(_POLLS):
            if not self._rreg(_COMMAND) & 0x10:  # PowerDown clears when reset is done
                break
        else:
            raise OSError("MFRC522 stays in reset: check RST and 3.3 V")
        version = self._rreg(_VERSION)
        if version not in KNOWN_VERSIONS:
            raise OSError(f"MFRC522 not answering (version 0x{version:02X}): check SPI wiring")
        self.version = version
        self._wreg(_TX_MODE, 0x00)
        self._wreg(_RX_MODE, 0x00)
        # Timer: TAuto, f = 13.56 MHz / (2*169+1) = 40 kHz, reload 1000 -> 25 ms receive timeout.
        self._wreg(_T_MODE, 0x80)
        self._wreg(_T_PRESCALER, 0xA9)
        self._wreg(_T_RELOAD_H, 0x03)
        self._wreg(_T_RELOAD_L, 0xE8)
        self._wreg(_TX_ASK, 0x40)  # 100 % ASK
        self._wreg(_MODE, 0x3D)  # CRC preset 0x6363 (ISO 14443-3 CRC_A)
        self.antenna(True)
        return version

    def antenna(self, on):
        if on:
            self._set_bits(_TX_CONTROL, 0x03)
        else:
            self._clear_bits(_TX_CONTROL, 0x03)

    def transceive(self, data, tx_last_bits=0):
        """Send a frame; the card's answer as bytes, or None if no card answered in 25 ms."""
        self._wreg(_COMMAND, _CMD_IDLE)
        self._wreg(_COM_IRQ, 0x7F)  # clear every interrupt request bit
        self._wreg(_FIFO_LEVEL, 0x80)  # flush
        self._write(_FIFO_DATA, data)
        self._wreg(_BIT_FRAMING, tx_last_bits & 0x07)
        self._wreg(_COMMAND, _CMD_TRANSCEIVE)
        self._set_bits(_BIT_FRAMING, 0x80)  # StartSend
        for _ in range(_POLLS):
            irq = self._rreg(_COM_IRQ)
            if irq & 0x30:  # RxIRq or IdleIRq
                break
            if irq & 0x01:  # TimerIRq: nobody answered
                self._clear_bits(_BIT_FRAMING, 0x80)
                return None
        else:
            raise OSError("MFRC522 never finished a transceive: check IRQ/SPI wiring")
        self._clear_bits(_BIT_FRAMING, 0x80)
        error = self._rreg(_ERROR)
        if error & 0x08:
            raise CardError("collision (more than one card?)")
        if error & 0x13:
            raise CardError(f"receive error 0x{error:02X}")
        count = self._rreg(_FIFO_LEVEL) & 0x7F
        return self._read_fifo(count)

    def crc_a(self, data):
        """CRC_A of ``data`` computed by the chip's coprocessor, low byte first."""
        self._wreg(_COMMAND, _CMD_IDLE)
        self._wreg(_DIV_IRQ, 0x04)
        self._wreg(_FIFO_LEVEL, 0x80)
        self._write(_FIFO_DATA, data)
        self._wreg(_COMMAND, _CMD_CALC_CRC)
        for _ in range(_POLLS):
            if self._rreg(_DIV_IRQ) & 0x04:
                break
        else:
            raise OSError("MFRC522 CRC coprocessor did not finish")
        self._wreg(_COMMAND, _CMD_IDLE)
        return bytes((self._rreg(_CRC_RESULT_L), self._rreg(_CRC_RESULT_H)))

    def read_uid(self, wake=True):
        """UID of the card on the reader (WUPA wakes halted cards too), or None."""
        self._clear_bits(_COLL, 0x80)  # ValuesAfterColl=0: clear bits after a collision
        atqa = self.transceive(bytes((_PICC_WUPA if wake else _PICC_REQA,)), 7)
        if atqa is None:
            return None
        if len(atqa) != 2:
            raise CardError("ATQA of %d bytes" % len(atqa))
        uid = bytearray()
        for sel in _SELECT:
            answer = self.transceive(bytes((sel, 0x20)))
            if answer is None or len(answer) != 5:
                raise CardError("anticollision answer missing or short")
            if answer[0] ^ answer[1] ^ answer[2] ^ answer[3] != answer[4]:
                raise CardError("UID check byte (BCC) wrong")
            frame = bytes((sel, 0x70)) + answer
            sak = self.transceive(frame + self.crc_a(frame))
            if sak is None or len(sak) != 3:
                raise CardError("no SAK after SELECT")
            if self.crc_a(sak[:1]) != sak[1:]:
                raise CardError("SAK CRC wrong")
            if answer[0] == _CASCADE_TAG:
                if not sak[0] & 0x04:
                    raise CardError("cascade tag without cascade bit")
                uid.extend(answer[1:4])
                continue
            uid.extend(answer[0:4])
            if sak[0] & 0x04:
                raise CardError("cascade bit without cascade tag")
            self.halt()
            return bytes(uid)
        raise CardError("UID longer than three cascade levels")

    def halt(self):
        """HLTA: the card stops answering REQA until it leaves the field (or gets a WUPA)."""
        frame = bytes((_PICC_HLTA, 0x00))
        try:
            self.transceive(frame + self.crc_a(frame))
        except CardError:
            pass  # a halted card does not answer; noise here changes nothing
