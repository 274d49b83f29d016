"""Live queries at scale, the current code side by side with a baseline tree in one run.

For the baseline (a source tree of an earlier commit, `--baseline-ref`, extracted with
`git archive`) and then the current code, one server process each, with 10,000
subscriptions (`item(key_id)` over distinct keys, 100 WebSocket clients; bench/reactive.py
has the clients and the probe):

- write-rate sweep: `--rates` single-key commits per second, `--seconds` each; p50/p99
  commit-to-client latency and the rate reached; the highest rate with p99 <= 50 ms;
- stampede: one UPDATE of every row (a table-wide notice: every subscription may have
  changed): the time until every client has the new value, and meanwhile the latency of
  targeted writes at 200/s to another table (`notes`) whose subscriber is another client;
- memory: the server's resident memory per subscription, (RSS after subscribing - before) /
  subscriptions, at 10,000 and (current code) 100,000 distinct and 100,000 shared (100
  clients x the same 1,000 queries) idle subscriptions;
- 1 vs 2 API processes (current code): the same 10,000 subscriptions, clients split over two
  server processes on the same database, at the sweep's rates.

With `--ablations`, the current code again with one optimisation off at a time (a savepoint
per re-run, a fence every cycle, one re-run connection, no gc.freeze), at `--ablation-rates`
and in the stampede. Before all, the commit ceiling: how many notifying commits per second
the writer alone gets from this PostgreSQL now (its connections, no API process) - the
sweep cannot go faster, and on a busy disk it is far below the 6-7k measured quiet.

The writers run in a process of their own and the stampede's note client in another, so the
100 clients' work in this process never delays a write or that client's receipts; all
processes read one clock (perf_counter, CLOCK_MONOTONIC).

Run: .venv/bin/python bench/reactive_scale.py --baseline-ref 5cd253b [--ablations] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Self

import asyncpg
import httpx
import websockets

from backend.reactive.diff import apply_diff

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reactive import CLIENTS, Probe, client, stop, wait_until, with_database
from reactive_functions import NOTE_PATH, Server, create_items, create_notes

GOAL_P99_MS = 50.0
# one optimisation of the current code off at a time (engine options): each one's gain
ABLATIONS: dict[str, dict[str, object]] = {
    "a savepoint per re-run": {"always_savepoint": True},
    "a fence every cycle": {"fence_skip": False},
    "one re-run connection": {"lanes": 1},
    "no gc.freeze": {"gc_freeze": False},
}
NOTES = 100
WRITERS = 16


@dataclass
class Window:
    """Latencies of the writes of one window (ms), and the rate reached."""

    label: str
    rate: float = 0.0
    latencies: list[float] = field(default_factory=list)
    missed: int = 0
    note: str = ""

    def pct(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]

    def row(self) -> str:
        return (f"  {self.label:<50} {self.rate:>7.0f} {self.pct(50):>8.1f} {self.pct(99):>8.1f}"
                f" {max(self.latencies, default=float('nan')):>8.1f} {self.missed:>6}  {self.note}")


HEAD = f"  {'':<50} {'w/s':>7} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'missed':>6}"


class Writer:
    """Single-key commits on schedule, each its own transaction, made by a process of their own
    (`connections` connections), so the clients' work in this process never delays a write;
    seqs grow across windows. Commit times are perf_counter() readings, one clock for every
    process on the machine (CLOCK_MONOTONIC)."""

    def __init__(self, dsn: str, table: str, column: str, connections: int = WRITERS) -> None:
        self.dsn, self.connections, self.seq, self.elapsed = dsn, connections, 0, 0.0
        self.sql = f"UPDATE {table} SET value = $2 WHERE {column} = $1"
        self.process = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))

    async def start(self) -> Self:
        """Start the process and open its connections (before any window is timed)."""
        await self._commit([], 1.0)
        return self

    def close(self) -> None:
        self.process.shutdown()

    async def _commit(self, schedule: list[tuple[int, int]], rate: float) -> dict[int, float]:
        committed, self.elapsed = await asyncio.get_running_loop().run_in_executor(
            self.process, commit_on_schedule, self.dsn, self.sql, schedule, rate, self.connections)
        return committed

    async def run(self, keys: list[int], rate: float, seconds: float, probe: Probe) -> range:
        schedule = [(self.seq + 1 + i, keys[i % len(keys)]) for i in range(int(rate * seconds))]
        for seq, key in schedule:
            probe.pending[key].append(seq)
        probe.committed.update(await self._commit(schedule, rate))
        first, self.seq = self.seq + 1, schedule[-1][0] if schedule else self.seq
        return range(first, self.seq + 1)


_writer_loop: asyncio.AbstractEventLoop | None = None
_writer_pool: asyncpg.Pool | None = None


async def commit_ceiling(dsn: str, writes: int = 5_000) -> float:
    """Notifying single-row commits per second this PostgreSQL takes right now from the
    writer alone (no API process), as fast as its connections go: the ceiling of the sweep."""
    writer = await Writer(dsn, "notes", "id").start()
    try:
        await writer._commit([(i, 1 + i % NOTES) for i in range(writes)], math.inf)
        return writes / writer.elapsed
    finally:
        writer.close()


def commit_on_schedule(dsn: str, sql: str, schedule: list[tuple[int, int]], rate: float,
                       connections: int) -> tuple[dict[int, float], float]:
    """In the writer process: `sql` with each (seq, key) of `schedule`, one every 1/rate s on
    schedule (no drift; commits overlap on the connections); each seq's commit time, and the
    elapsed time. The process keeps its loop and connections between windows."""
    global _writer_loop, _writer_pool
    if _writer_loop is None:
        _writer_loop = asyncio.new_event_loop()
    loop = _writer_loop

    async def run() -> tuple[dict[int, float], float]:
        global _writer_pool
        if _writer_pool is None:
            _writer_pool = await asyncpg.create_pool(dsn, min_size=connections, max_size=connections)
        pool, committed = _writer_pool, {}

        async def write(seq: int, key: int) -> None:
            await pool.execute(sql, key, seq)
            committed[seq] = time.perf_counter()

        started, tasks = time.perf_counter(), []
        for i, (seq, key) in enumerate(schedule):
            delay = started + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(write(seq, key)))
        await asyncio.gather(*tasks)
        return committed, time.perf_counter() - started

    return loop.run_until_complete(run())


def window(label: str, probe: Probe, seqs: range, elapsed: float, note: str = "") -> Window:
    done = [s for s in seqs if s in probe.seen and s in probe.committed]
    return Window(label, len(seqs) / elapsed if elapsed else 0.0,
                  [max(0.0, 1000 * (probe.seen[s] - probe.committed[s])) for s in done],
                  len(seqs) - len(done), note)


class Recorder(Probe):
    """A probe that only records what arrived: (key, value, time received), in order."""

    def __init__(self) -> None:
        super().__init__()
        self.log: list[tuple[int, int, float]] = []

    def received(self, key: int, value: int, now: float) -> None:
        self.log.append((key, value, now))


async def note_client(url: str, probe: Probe) -> None:
    """Subscribes to every note; feeds `probe` with (note id, value)."""
    values: dict[int, int] = {}
    ws_url = url.replace("http", "ws", 1) + "/api/sync"
    async with websockets.connect(ws_url, max_size=None, ping_interval=None) as ws:
        await ws.send(json.dumps({"type": "connect"}))
        for key in range(1, NOTES + 1):
            await ws.send(json.dumps({"type": "subscribe", "id": str(key), "path": NOTE_PATH,
                                      "args": {"note_id": key}}))
        async for raw in ws:
            now, message = time.perf_counter(), json.loads(raw)
            for change in message.get("changes", []):
                key = int(change["id"])
                if "value" in change:
                    probe.initial += key not in values
                    values[key] = change["value"]
                elif "diff" in change:
                    values[key] = apply_diff(values[key], change["diff"])
                else:
                    continue
                probe.received(key, values[key]["value"], now)


def follow_notes(url: str, pipe: Connection) -> None:
    """In a process of its own (so the stampede's 10,000 values arriving in the bench process
    never delay it): subscribe to every note, send "ready" once every initial value came, and
    on any message back send what arrived (Recorder.log)."""

    async def follow() -> None:
        recorder = Recorder()
        task = asyncio.create_task(note_client(url, recorder))
        ready = await wait_until(lambda: recorder.initial >= NOTES or task.done(), 60)
        pipe.send("ready" if ready and not task.done() else "the notes client got no initial values")
        await wait_until(pipe.poll, 3600, 0.05)
        await stop([task])
        pipe.send(recorder.log)

    asyncio.run(follow())


async def open_clients(urls: list[str], keys: list[int], probe: Probe, per: int = CLIENTS,
                       spread: Callable[[int], list[int]] | None = None) -> list[asyncio.Task[None]]:
    """`per` clients over `urls` round-robin, each subscribed to its share of `keys` (or to
    `spread(i)`); returns once every initial value arrived."""
    tasks = [asyncio.create_task(client(urls[i % len(urls)].replace("http", "ws", 1) + "/api/sync",
                                        spread(i) if spread else keys[i::per], probe))
             for i in range(per)]
    expected = sum(len(spread(i)) for i in range(per)) if spread else len(keys)
    if not await wait_until(lambda: probe.initial >= expected or any(t.done() for t in tasks), 600):
        raise RuntimeError(f"{probe.initial}/{expected} initial values")
    if any(t.done() for t in tasks):
        raise RuntimeError(f"a client ended: {[t.exception() for t in tasks if t.done()][:2]}")
    return tasks


async def drain(probe: Probe, seconds: float) -> None:
    await wait_until(lambda: probe.outstanding() == 0, seconds)


async def sweep(dsn: str, urls: list[str], subs: int, rates: list[float], seconds: float,
                label: str, servers: list[Server]) -> tuple[list[Window], int]:
    """Subscribe, then one window per rate; returns the windows and bytes per subscription."""
    probe = Probe()
    keys = list(range(1, subs + 1))
    rss = sum(s.rss() for s in servers)
    tasks = await open_clients(urls, keys, probe)
    per_sub = (sum(s.rss() for s in servers) - rss) // subs
    writer, windows = await Writer(dsn, "items", "key_id").start(), []
    try:
        for rate in rates:
            before = [(s.cpu_seconds(), _stats(s)) for s in servers]
            started = time.perf_counter()
            seqs = await writer.run(keys, rate, seconds, probe)
            await drain(probe, 10)
            windows.append(window(f"{label}, {rate:.0f} w/s", probe, seqs, writer.elapsed,
                                  _server_note(servers, before, time.perf_counter() - started)))
            print(windows[-1].row(), flush=True)
    finally:
        writer.close()
        await stop(tasks)
    return windows, per_sub


def _stats(server: Server) -> dict:
    return httpx.get(f"{server.url}/api/stats", timeout=60).json()


def _server_note(servers: list[Server], before: list[tuple[float, dict]], wall: float) -> str:
    """Server CPU (% of a core, summed over processes), cycles, and - on code that reports
    them - fences skipped and re-runs per cycle."""
    cpu = sum(s.cpu_seconds() - b[0] for s, b in zip(servers, before, strict=True))
    after = [_stats(s) for s in servers]
    cycles = sum(a["cycles"] - b[1]["cycles"] for a, b in zip(after, before, strict=True))
    reruns = sum(a["reruns"] - b[1]["reruns"] for a, b in zip(after, before, strict=True))
    note = f"srv CPU {100 * cpu / wall:.0f}%, {cycles} cycles, {reruns / max(cycles, 1):.1f} rr/cycle"
    if all("fences_skipped" in a for a in after):
        skipped = sum(a["fences_skipped"] - b[1]["fences_skipped"]
                      for a, b in zip(after, before, strict=True))
        note += f", fences skipped {100 * skipped / max(cycles, 1):.0f}%"
    return note


async def stampede(dsn: str, url: str, subs: int, label: str, seq: int) -> tuple[float, Window]:
    """Every row at once, while another client's table gets 200 targeted writes/s (that
    client, its writer and the items writer each in a process of their own)."""
    probe, notes = Probe(), Probe()
    keys = list(range(1, subs + 1))
    tasks = await open_clients([url], keys, probe)
    spawn = multiprocessing.get_context("spawn")
    pipe, child_pipe = spawn.Pipe()
    follower = spawn.Process(target=follow_notes, args=(url, child_pipe), daemon=True)
    follower.start()
    note_writer = await Writer(dsn, "notes", "id", connections=4).start()
    conn = await asyncpg.connect(dsn)
    try:
        if (ready := await asyncio.to_thread(pipe.recv)) != "ready":
            raise RuntimeError(ready)
        for key in keys:
            probe.pending[key].append(seq)
        note_writer.seq = seq
        writing = asyncio.create_task(note_writer.run(list(range(1, NOTES + 1)), 200, 3.0, notes))
        await asyncio.sleep(0.2)
        await conn.execute("UPDATE items SET value = $1", seq)
        committed = time.perf_counter()
        await drain(probe, 60)
        took = max(probe.seen.values(), default=committed) - committed
        seqs = await writing
        await asyncio.sleep(2)  # the notes' last values reach their client
        pipe.send("stop")
        for key, value, at in await asyncio.to_thread(pipe.recv):
            notes.received(key, value, at)
        during = window(f"{label}, notes during it", notes, seqs, note_writer.elapsed,
                        f"stampede {1000 * took:.0f} ms, {probe.outstanding()} missed")
    finally:
        await conn.close()
        note_writer.close()
        follower.join(10)
        follower.kill()
        await stop(tasks)
    return took, during


async def memory(dsn: str, tree: str | None, subs: int, shared: bool) -> int:
    """Bytes of server RSS per idle subscription."""
    probe = Probe()
    with Server(dsn, True, tree) as server:
        rss = server.rss()
        distinct = subs // CLIENTS if shared else subs
        keys = list(range(1, distinct + 1))
        spread = (lambda i: keys) if shared else None
        tasks = await open_clients([server.url], keys, probe, spread=spread)
        await asyncio.sleep(1)
        used = server.rss() - rss
        await stop(tasks)
    return used // subs


def extract(ref: str, into: str) -> str:
    """The source tree of git `ref` under `into`."""
    archive = subprocess.run(["git", "archive", ref], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", into], input=archive, check=True)
    return into


def best_rate(windows: list[Window]) -> str:
    ok = [w.rate for w in windows if w.pct(99) <= GOAL_P99_MS and not w.missed]
    return f"{max(ok):.0f} w/s" if ok else "none of the rates"


async def bench(args: argparse.Namespace) -> None:
    from backend.db.migrate import migrate

    dbname = f"plutarc_bench_scale_{uuid.uuid4().hex[:8]}"
    root = await asyncpg.connect(args.dsn)
    await root.execute(f'CREATE DATABASE "{dbname}"')
    dsn = with_database(args.dsn, dbname)
    scratch = tempfile.TemporaryDirectory(prefix="plutarc-bench-")
    try:
        await migrate(dsn)
        conn = await asyncpg.connect(dsn)
        await create_items(conn, max(args.memory + [args.subs]))
        await create_notes(conn, NOTES)
        await conn.close()
        variants: list[tuple[str, str | None, dict[str, object] | None, list[float]]] = [
            ("current", None, None, args.rates)]
        if args.baseline_ref:
            variants.insert(0, (f"baseline {args.baseline_ref}",
                                extract(args.baseline_ref, scratch.name), None, args.rates))
        if args.ablations:
            variants += [(f"current, {name}", None, options, args.ablation_rates)
                         for name, options in ABLATIONS.items()]
        print(f"reactive scale bench: {os.cpu_count()} cores, {args.subs} subscriptions, "
              f"{args.seconds:.0f} s per rate, load average {os.getloadavg()[0]:.1f} at start")
        ceiling = await commit_ceiling(dsn)
        print(f"this PostgreSQL's ceiling now: {ceiling:.0f} notifying commits/s from the writer "
              f"alone ({WRITERS} connections, no API process)\n")
        print(HEAD)
        summary = []
        for name, tree, options, rates in variants:
            with Server(dsn, True, tree, options) as server:
                windows, per_sub = await sweep(dsn, [server.url], args.subs, rates,
                                               args.seconds, name, [server])
            with Server(dsn, True, tree, options) as server:
                took, during = await stampede(dsn, server.url, args.subs, name,
                                              10**9 * (1 + len(summary)))
            print(during.row(), flush=True)
            summary.append((name, windows, per_sub, took, during))
        with Server(dsn, True) as one, Server(dsn, True) as two:
            pair, _ = await sweep(dsn, [one.url, two.url], args.subs, args.rates, args.seconds,
                                  "current, 2 API processes", [one, two])
        print("\n== summary ==")
        for name, windows, per_sub, took, during in summary:
            print(f"{name}: best rate with p99 <= {GOAL_P99_MS:.0f} ms at {args.subs} subs: "
                  f"{best_rate(windows)}; stampede of {args.subs}: {1000 * took:.0f} ms, targeted "
                  f"p50/p99 during it {during.pct(50):.1f}/{during.pct(99):.1f} ms; "
                  f"{per_sub} B RSS per subscription")
        print(f"current, 2 API processes: best rate with p99 <= {GOAL_P99_MS:.0f} ms: {best_rate(pair)}")
        for subs in args.memory:
            distinct = await memory(dsn, None, subs, shared=False)
            shared = await memory(dsn, None, subs, shared=True)
            print(f"memory at {subs} idle subscriptions (current): {distinct} B each distinct, "
                  f"{shared} B each when 100 clients share the same {subs // CLIENTS} queries",
                  flush=True)
    finally:
        scratch.cleanup()
        await root.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        await root.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline-ref", default="", help="git ref of the baseline code")
    parser.add_argument("--subs", type=int, default=10_000)
    parser.add_argument("--rates", default="200,1000,2000,3000", help="writes/s, comma-separated")
    parser.add_argument("--seconds", type=float, default=5.0, help="write window per rate")
    parser.add_argument("--memory", default="10000,100000", help="idle subscription counts")
    parser.add_argument("--ablations", action="store_true",
                        help="also the current code with each optimisation off, one at a time")
    parser.add_argument("--ablation-rates", default="1000,2000", help="writes/s of those runs")
    parser.add_argument("--quick", action="store_true", help="3 s windows, memory at 10,000 only")
    parser.add_argument(
        "--dsn", default=os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"))
    args = parser.parse_args()
    args.rates = [float(r) for r in args.rates.split(",")]
    args.ablation_rates = [float(r) for r in args.ablation_rates.split(",")]
    args.memory = [int(n) for n in args.memory.split(",") if n]
    if args.quick:
        args.seconds, args.memory = min(args.seconds, 3.0), [m for m in args.memory if m <= 10_000]
    asyncio.run(bench(args))


if __name__ == "__main__":
    main()
