"""What a stopped local bot leaves: nothing, or — when reports could not be delivered — its
outbox alone (no config, cache, log or anything else), with a message saying where."""

from __future__ import annotations

from pathlib import Path

from bot.outbox import Outbox
from infra.providers.local import LocalProvider


def _workdir(provider: LocalProvider, undelivered: int) -> Path:
    workdir = provider.workdir(7)
    (workdir / "cache" / "cryptofeed").mkdir(parents=True)
    (workdir / "cache" / "cryptofeed" / "symbols.json").write_text("{}")
    (workdir / "config.json").write_text('{"wrapped_secret": "..."}')
    (workdir / "bot.log").write_text("started\n")
    outbox = Outbox(workdir / "outbox.sqlite")
    for i in range(undelivered):
        outbox.append("event", {"message": f"m{i}"}, report_id=f"r{i}")
    outbox.close()
    return workdir


async def test_a_clean_stop_leaves_nothing(tmp_path: Path) -> None:
    provider = LocalProvider("http://127.0.0.1:1", tmp_path)
    workdir = _workdir(provider, undelivered=0)
    assert await provider.remove(7) is None
    assert not workdir.exists() and list((tmp_path / "bots").iterdir()) == []


async def test_undelivered_reports_keep_the_outbox_and_nothing_else(tmp_path: Path) -> None:
    provider = LocalProvider("http://127.0.0.1:1", tmp_path)
    workdir = _workdir(provider, undelivered=2)
    kept = await provider.remove(7)
    assert kept is not None and "2 undelivered reports" in kept and str(workdir) in kept
    assert {p.name for p in workdir.iterdir()} <= {"outbox.sqlite", "outbox.sqlite-wal",
                                                   "outbox.sqlite-shm"}
    outbox = Outbox(workdir / "outbox.sqlite")
    assert len(outbox) == 2
    outbox.close()
