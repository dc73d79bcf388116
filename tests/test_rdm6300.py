"""The UART 125 kHz reader, through real pyserial on a pseudo-terminal."""

from __future__ import annotations

import logging
import os
import threading
import time

import pytest

from kiosk.readers.rdm6300 import FrameParser, RDM6300Reader, encode_frame
from stations.errors import ReaderError

CARD = "0F00A1B2C3"


def test_encode_frame_layout() -> None:
    frame = encode_frame(CARD)
    assert frame[0] == 0x02 and frame[-1] == 0x03 and len(frame) == 14
    assert frame[11:13] == f"{0x0F ^ 0x00 ^ 0xA1 ^ 0xB2 ^ 0xC3:02X}".encode()


def test_parser_resynchronises_after_garbage(caplog) -> None:
    parser = FrameParser()
    noise = b"\xff\x13garbage" + encode_frame(CARD)[:7]  # a frame cut short by a new STX
    with caplog.at_level(logging.WARNING):
        assert parser.feed(noise + encode_frame("1122334455")) == ["1122334455"]
    assert "cut short" in caplog.text
    assert parser.feed(b"\x02" + b"Z" * 12 + b"\x03" + encode_frame(CARD)) == [CARD]


def test_parser_rejects_bad_checksum_with_a_log_line(caplog) -> None:
    frame = bytearray(encode_frame(CARD))
    frame[12] = ord("0") if frame[12] != ord("0") else ord("1")
    parser = FrameParser()
    with caplog.at_level(logging.WARNING):
        assert parser.feed(bytes(frame)) == []
    assert parser.bad_checksums == 1
    assert "bad checksum" in caplog.text


def test_parser_split_across_reads() -> None:
    parser = FrameParser()
    frame = encode_frame(CARD)
    assert [c for i in range(len(frame)) for c in parser.feed(frame[i:i + 1])] == [CARD]


@pytest.fixture
def pty():
    master, slave = os.openpty()
    path = os.ttyname(slave)
    yield master, path
    os.close(master)
    os.close(slave)


def run_reader(path, **kwargs):
    reader = RDM6300Reader(path, **kwargs)
    taps = []
    got = threading.Event()
    reader.start(lambda tap: (taps.append(tap), got.set()))
    return reader, taps, got


def test_reader_on_a_pty_passes_one_tap_for_a_held_card(pty) -> None:
    master, path = pty
    reader, taps, got = run_reader(path)
    try:
        assert reader.healthy
        for _ in range(5):  # the reader repeats the frame while the card is there
            os.write(master, encode_frame(CARD))
        assert got.wait(2)
        time.sleep(0.2)
        assert [t.badge for t in taps] == [CARD]
        assert taps[0].reader == "rdm6300"
    finally:
        reader.close()
    reader.close()
    assert not reader.healthy


def test_reader_on_a_pty_ignores_noise_and_bad_frames(pty, caplog) -> None:
    master, path = pty
    bad = bytearray(encode_frame("1122334455"))
    bad[11] = ord("F") if bad[11] != ord("F") else ord("E")
    reader, taps, got = run_reader(path, id_format="decimal")
    try:
        with caplog.at_level(logging.WARNING):
            os.write(master, b"\x00\x7f noise \x03\x02AB" + bytes(bad) + encode_frame(CARD))
            assert got.wait(2)
        assert [t.badge for t in taps] == [f"{0x00A1B2C3:010d}"]
        assert "bad checksum" in caplog.text
    finally:
        reader.close()


def test_missing_port_is_a_reader_error() -> None:
    with pytest.raises(ReaderError, match="/dev/does-not-exist"):
        RDM6300Reader("/dev/does-not-exist").start(lambda tap: None)
