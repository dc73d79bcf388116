from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from kiosk.outbox import Outbox


def test_messages_stay_until_acknowledged(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.db", retry_s=10)
    box.add("a" * 32, "t", b"1", now=100)
    box.add("b" * 32, "t", b"2", now=101)
    assert [p.id for p in box.due(now=102)] == ["a" * 32, "b" * 32]
    box.mark_sent("a" * 32, now=102)
    assert [p.id for p in box.due(now=103)] == ["b" * 32]  # sent, waiting for its answer
    assert [p.id for p in box.due(now=112.5)] == ["a" * 32, "b" * 32]  # unanswered: again
    assert box.acknowledge("a" * 32)
    assert not box.acknowledge("a" * 32)
    assert box.pending_count() == 1


def test_adding_the_same_id_twice_keeps_one(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.db")
    box.add("a" * 32, "t", b"1")
    box.add("a" * 32, "t", b"1")
    assert box.pending_count() == 1


def test_reset_makes_everything_due(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.db", retry_s=60)
    box.add("a" * 32, "t", b"1", now=0)
    box.mark_sent("a" * 32, now=1)
    assert box.due(now=2) == []
    box.reset_sent()
    assert len(box.due(now=2)) == 1


def test_a_killed_process_leaves_the_message_on_disk(tmp_path: Path) -> None:
    path = tmp_path / "o.db"
    code = ("import os; from kiosk.outbox import Outbox; "
            f"b = Outbox({str(path)!r}); b.add('c' * 32, 't', b'x'); os._exit(9)")
    repo = Path(__file__).resolve().parent.parent
    subprocess.run([sys.executable, "-c", code], cwd=repo, check=False)
    box = Outbox(path)
    assert [p.id for p in box.all()] == ["c" * 32]
