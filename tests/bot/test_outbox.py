"""The outbox keeps every appended report through kill -9 and delivers in order."""

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from bot.outbox import Outbox

ROOT = Path(__file__).resolve().parents[2]

WRITER = textwrap.dedent("""
    import sys
    from bot.outbox import Outbox
    box = Outbox(sys.argv[1])
    i = 0
    while True:
        box.append("event", {"n": i, "pad": "x" * 200}, report_id=f"r{i}")
        print(i, flush=True)  # only after append returned: this report is durable
        i += 1
""")


def test_reports_survive_kill_9_mid_write(tmp_path):
    db = tmp_path / "outbox.sqlite"
    child = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(db)], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    acknowledged = -1
    for line in child.stdout:
        acknowledged = int(line)
        if acknowledged >= 300:
            break
    os.kill(child.pid, signal.SIGKILL)
    child.wait()

    box = Outbox(db)
    reports = box.peek(10_000)
    numbers = [r.payload["n"] for r in reports]
    assert numbers == list(range(len(numbers)))  # in order, no gap, no torn row
    assert len(numbers) - 1 >= acknowledged  # nothing the writer saw committed is lost
    assert [r.report_id for r in reports[:3]] == ["r0", "r1", "r2"]
    box.append("event", {"n": len(numbers)})  # still writable after the crash
    assert len(box) == len(numbers) + 1


async def test_flush_delivers_in_order_and_stops_at_the_first_failure(tmp_path):
    box = Outbox(tmp_path / "o.sqlite")
    for i in range(5):
        box.append("trade", {"i": i}, report_id=f"t{i}")
    delivered: list[str] = []
    backend_up = False

    async def sink(report):
        if report.report_id == "t2" and not backend_up:
            raise ConnectionError("backend unreachable")
        delivered.append(report.report_id)

    with pytest.raises(ConnectionError):
        await box.flush(sink)
    assert delivered == ["t0", "t1"] and len(box) == 3

    backend_up = True
    assert await box.flush(sink) == 3
    assert delivered == ["t0", "t1", "t2", "t3", "t4"] and len(box) == 0


def test_reappending_a_queued_report_id_is_a_no_op(tmp_path):
    box = Outbox(tmp_path / "o.sqlite")
    box.append("trade", {"v": 1}, report_id="same")
    box.append("trade", {"v": 2}, report_id="same")
    assert [r.payload for r in box.peek()] == [{"v": 1}]


def test_unacked_reports_are_there_after_reopen(tmp_path):
    path = tmp_path / "o.sqlite"
    box = Outbox(path)
    a, b = box.append("x", {"a": 1}), box.append("x", {"b": 2})
    box.ack(a)
    box.close()
    assert [r.report_id for r in Outbox(path).peek()] == [b]
