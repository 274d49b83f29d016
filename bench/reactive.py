"""Live-query benchmark: commit→client latency, re-runs per write and server CPU, with
targeted invalidation and with the untargeted baseline (every subscription reading a changed
table re-runs), measured side by side in one run.

For each of 100, 1,000 and 10,000 subscriptions (distinct keys, spread over 100 WebSocket
clients) and each mode: a fresh server (uvicorn, in its own process, so its CPU is measured
alone and the load generator does not share its GIL) on a scratch database; once every client
holds its initial values, the writer starts one commit of `UPDATE items SET value = <seq>
WHERE key_id = <key>` every 1/rate s (8 connections, so a slow commit does not delay the
next), round-robin over the subscribed keys. The writer and the clients share one process
and one clock (perf_counter): a write's latency runs from its commit returning to the first
message giving its key a value >= its seq (a later write to the same key that supersedes it
also delivers it). Re-runs and cycles are /api/stats deltas; CPU is % of one core over the
write window plus drain: the server process, the PostgreSQL backends of the scratch
database, this process (the load), and the whole host (other work on the machine included).

Run: .venv/bin/python bench/reactive.py [--quick] [--rate 200] [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
import uuid
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import psutil
import websockets

from backend.reactive.diff import apply_diff

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reactive_functions import ITEM_PATH, Server, create_items

SIZES = (100, 1_000, 10_000)
CLIENTS = 100
WRITERS = 8  # writer connections: commits overlap, so the rate holds when one is slow
GOAL_P50_MS, GOAL_P99_MS, GOAL_GROWTH = 10.0, 50.0, 2.0


# -- CPU counters -----------------------------------------------------------------------------


def process_cpu_seconds() -> float:
    """CPU seconds of this process (the clients and the writer)."""
    times = psutil.Process().cpu_times()
    return times.user + times.system


def host_busy_seconds() -> float:
    """CPU seconds all cores spent busy since boot (everything on the machine)."""
    times = psutil.cpu_times()
    return sum(times) - times.idle - getattr(times, "iowait", 0.0)


def db_cpu_seconds(dbname: str) -> dict[int, float]:
    """CPU seconds of each PostgreSQL backend serving `dbname` (its title names the db)."""
    seconds = {}
    for proc in psutil.process_iter(["name", "cmdline"]):
        try:
            if proc.info["name"] == "postgres" and dbname in " ".join(proc.info["cmdline"] or ()):
                times = proc.cpu_times()
                seconds[proc.pid] = times.user + times.system
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return seconds


# -- the load: clients and writer -------------------------------------------------------------


@dataclass
class Probe:
    """Writes committed and when each became visible to its subscriber."""

    pending: dict[int, deque[int]] = field(default_factory=lambda: defaultdict(deque))
    committed: dict[int, float] = field(default_factory=dict)
    seen: dict[int, float] = field(default_factory=dict)
    initial: int = 0
    errors: list[str] = field(default_factory=list)

    def received(self, key: int, value: int, now: float) -> None:
        queue = self.pending[key]
        while queue and queue[0] <= value:
            self.seen[queue.popleft()] = now

    def outstanding(self) -> int:
        return sum(len(q) for q in self.pending.values())


async def client(ws_url: str, keys: list[int], probe: Probe) -> None:
    """One WebSocket client subscribed to `item` for each of `keys`, applying transitions."""
    values: dict[int, dict] = {}
    async with websockets.connect(ws_url, max_size=None, ping_interval=None) as ws:
        await ws.send(json.dumps({"type": "connect"}))
        for key in keys:
            await ws.send(
                json.dumps(
                    {
                        "type": "subscribe",
                        "id": str(key),
                        "path": ITEM_PATH,
                        "args": {"key_id": key},
                    }
                )
            )
        async for raw in ws:
            now = time.perf_counter()
            message = json.loads(raw)
            if message["type"] == "error":
                probe.errors.append(str(message["error"]))
            if message["type"] != "transition":
                continue
            for change in message["changes"]:
                key = int(change["id"])
                if "value" in change:
                    if key not in values:
                        probe.initial += 1
                    values[key] = change["value"]
                elif "diff" in change:
                    values[key] = apply_diff(values[key], change["diff"])
                else:
                    probe.errors.append(str(change.get("error")))
                    continue
                probe.received(key, values[key]["value"], now)


async def write_steadily(
    pool: asyncpg.Pool, keys: list[int], rate: float, seconds: float, probe: Probe
) -> int:
    """Start one single-key write every 1/rate s, on schedule (no drift), each its own commit;
    a pool lets a slow commit overlap the next. Returns the number of writes."""

    async def write(seq: int, key: int) -> None:
        probe.pending[key].append(seq)
        await pool.execute("UPDATE items SET value = $2 WHERE key_id = $1", key, seq)
        probe.committed[seq] = time.perf_counter()

    started = time.perf_counter()
    tasks = []
    for i in range(int(rate * seconds)):
        delay = started + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(write(i + 1, keys[i % len(keys)])))
    await asyncio.gather(*tasks)
    return len(tasks)


async def wait_until(condition: Callable[[], object], timeout: float, step: float = 0.02) -> bool:
    """Poll `condition` until it holds (True) or `timeout` s pass (False)."""
    deadline = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > deadline:
            return False
        await asyncio.sleep(step)
    return True


# -- one scenario -----------------------------------------------------------------------------


@dataclass
class Sample:
    """Counters read at the start and at the end of a write window."""

    at: float
    stats: dict
    server: float
    db: dict[int, float]
    host: float
    own: float


def sample(server: Server, dbname: str) -> Sample:
    stats = httpx.get(f"{server.url}/api/stats", timeout=60).json()
    return Sample(
        time.perf_counter(),
        stats,
        server.cpu_seconds(),
        db_cpu_seconds(dbname),
        host_busy_seconds(),
        process_cpu_seconds(),
    )


@dataclass
class Result:
    subs: int
    targeted: bool
    writes: int = 0
    write_rate: float = 0.0
    setup_s: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    missed: int = 0
    reruns: int = 0
    cycles: int = 0
    server_cpu: float = 0.0
    db_cpu: float = 0.0
    load_cpu: float = 0.0
    host_cpu: float = 0.0
    notes: list[str] = field(default_factory=list)

    def measured(self, a: Sample, b: Sample, probe: Probe) -> None:
        wall = b.at - a.at
        self.server_cpu = 100 * (b.server - a.server) / wall
        self.db_cpu = 100 * sum(b.db[pid] - a.db[pid] for pid in b.db if pid in a.db) / wall
        self.load_cpu = 100 * (b.own - a.own) / wall
        self.host_cpu = 100 * (b.host - a.host) / wall
        self.reruns = b.stats["reruns"] - a.stats["reruns"]
        self.cycles = b.stats["cycles"] - a.stats["cycles"]
        self.missed = probe.outstanding()
        self.latencies_ms = [
            max(0.0, 1000 * (probe.seen[s] - probe.committed[s]))
            for s in probe.seen
            if s in probe.committed
        ]

    def pct(self, p: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


async def subscribe_all(ws_url: str, subs: int, probe: Probe) -> list[asyncio.Task[None]]:
    """Open the clients; return once every subscription holds its initial value."""
    keys = list(range(1, subs + 1))
    tasks = [asyncio.create_task(client(ws_url, keys[i::CLIENTS], probe)) for i in range(CLIENTS)]
    ready = await wait_until(
        lambda: probe.initial >= subs or probe.errors or any(t.done() for t in tasks), 300
    )
    failed = [t for t in tasks if t.done()]
    if not ready or probe.errors or failed:
        await stop(tasks)
        raise RuntimeError(
            f"{probe.initial}/{subs} initial values; errors {probe.errors[:3]} "
            f"{[t.exception() for t in failed[:3]]}"
        )
    return tasks


async def stop(tasks: list[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def scenario(
    dsn: str, dbname: str, subs: int, targeted: bool, rate: float, seconds: float, drain: float
) -> Result:
    """One server, `subs` subscriptions, `seconds` of writes at `rate`, then the drain."""
    result, probe = Result(subs, targeted), Probe()
    writers = await asyncpg.create_pool(dsn, min_size=WRITERS, max_size=WRITERS)
    try:
        await writers.execute("UPDATE items SET value = 0 WHERE value <> 0")
        with Server(dsn, targeted) as server:
            started = time.perf_counter()
            tasks = await subscribe_all(
                server.url.replace("http", "ws", 1) + "/api/sync", subs, probe
            )
            try:
                result.setup_s = time.perf_counter() - started
                before = sample(server, dbname)
                keys = list(range(1, subs + 1))
                result.writes = await write_steadily(writers, keys, rate, seconds, probe)
                result.write_rate = result.writes / (time.perf_counter() - before.at)
                if not await wait_until(lambda: probe.outstanding() == 0, drain):
                    result.notes.append(f"drain capped at {drain:.0f} s")
                result.measured(before, sample(server, dbname), probe)
            finally:
                await stop(tasks)
    finally:
        await writers.close()
    return result


# -- reporting --------------------------------------------------------------------------------


def print_table(results: list[Result]) -> None:
    head = (
        f"{'subs':>6} {'mode':<10} {'setup s':>7} {'writes':>6} {'w/s':>5} {'p50 ms':>8} "
        f"{'p99 ms':>8} {'max ms':>8} {'missed':>6} {'reruns/w':>8} {'cycles':>6} {'rr/cycle':>8} "
        f"{'srv CPU%':>8} {'db CPU%':>7} {'load CPU%':>9} {'host CPU%':>9}  note"
    )
    print(head)
    print("-" * len(head))
    for r in results:
        print(
            f"{r.subs:>6} {'targeted' if r.targeted else 'untargeted':<10} {r.setup_s:>7.1f} "
            f"{r.writes:>6} {r.write_rate:>5.0f} {r.pct(50):>8.1f} {r.pct(99):>8.1f} "
            f"{max(r.latencies_ms, default=float('nan')):>8.1f} {r.missed:>6} "
            f"{ratio(r.reruns, r.writes):>8.2f} {r.cycles:>6} {ratio(r.reruns, r.cycles):>8.1f} "
            f"{r.server_cpu:>8.0f} "
            f"{r.db_cpu:>7.0f} {r.load_cpu:>9.0f} {r.host_cpu:>9.0f}  {'; '.join(r.notes)}"
        )


def ratio(a: float, b: float) -> float:
    return a / b if b else float("nan")


def print_ratios(results: list[Result]) -> None:
    by = {(r.subs, r.targeted): r for r in results}
    sizes = sorted({r.subs for r in results})
    pairs = [(s, by[s, True], by[s, False]) for s in sizes if (s, True) in by and (s, False) in by]
    if pairs:
        print("\nuntargeted / targeted (same subscriptions):")
    for subs, t, u in pairs:
        print(
            f"  {subs:>6} subs: p50 x{ratio(u.pct(50), t.pct(50)):.1f}"
            f"  p99 x{ratio(u.pct(99), t.pct(99)):.1f}"
            f"  reruns/write x{ratio(ratio(u.reruns, u.writes), ratio(t.reruns, t.writes)):.1f}"
            f"  reruns/cycle x{ratio(ratio(u.reruns, u.cycles), ratio(t.reruns, t.cycles)):.0f}"
            f"  server CPU x{ratio(u.server_cpu, t.server_cpu):.1f}"
        )
    low, high = by.get((sizes[0], True)), by.get((sizes[-1], True))
    if low and high and low is not high:
        growth = ratio(high.pct(99), low.pct(99))
        print(
            f"\ntargeted p99 growth {sizes[0]} -> {sizes[-1]} subs: x{growth:.2f} "
            f"(goal < {GOAL_GROWTH:.0f}x)"
        )
        print(
            f"targeted at {sizes[-1]} subs: p50 {high.pct(50):.1f} ms (goal <= {GOAL_P50_MS:.0f}), "
            f"p99 {high.pct(99):.1f} ms (goal <= {GOAL_P99_MS:.0f})"
        )


# -- main -------------------------------------------------------------------------------------


def with_database(dsn: str, name: str) -> str:
    parts = urlsplit(dsn)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


async def bench(args: argparse.Namespace) -> None:
    from backend.db.migrate import migrate

    dbname = f"plutarc_bench_reactive_{uuid.uuid4().hex[:8]}"
    root = await asyncpg.connect(args.dsn)
    await root.execute(f'CREATE DATABASE "{dbname}"')
    dsn = with_database(args.dsn, dbname)
    try:
        await migrate(dsn)
        conn = await asyncpg.connect(dsn)
        try:
            await create_items(conn, max(args.sizes))
        finally:
            await conn.close()
        print(
            f"reactive bench: {os.cpu_count()} cores, {args.rate:.0f} writes/s, "
            f"{args.seconds:.0f} s per scenario ({args.baseline_seconds:.0f} s untargeted at "
            f"{max(args.sizes)}), {CLIENTS} WebSocket clients, PostgreSQL on the same machine, "
            f"load average {os.getloadavg()[0]:.1f} at start\n",
            flush=True,
        )
        results = []
        for subs in args.sizes:
            for targeted in (True,) if args.targeted_only else (True, False):
                capped = not targeted and subs >= max(SIZES)
                seconds = args.baseline_seconds if capped else args.seconds
                drain = args.drain * (3 if capped else 1)
                result = await scenario(dsn, dbname, subs, targeted, args.rate, seconds, drain)
                result.notes += [f"capped to {seconds:.0f} s"] if capped else []
                results.append(result)
                print_table([result])
                print(flush=True)
        print("\n== summary ==")
        print_table(results)
        print_ratios(results)
    finally:
        await root.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        await root.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="short scenarios (~1 minute)")
    parser.add_argument("--rate", type=float, default=200.0, help="writes per second")
    parser.add_argument("--seconds", type=float, default=10.0, help="write window per scenario")
    parser.add_argument(
        "--baseline-seconds",
        type=float,
        default=None,
        help="write window of the untargeted 10,000-subscription run",
    )
    parser.add_argument(
        "--sizes", default=",".join(map(str, SIZES)), help="comma-separated subscription counts"
    )
    parser.add_argument("--targeted-only", action="store_true", help="skip the baseline")
    parser.add_argument("--drain", type=float, default=10.0, help="max wait for late deliveries")
    parser.add_argument(
        "--dsn", default=os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
    )
    args = parser.parse_args()
    args.sizes = [int(n) for n in args.sizes.split(",")]
    if args.quick:
        args.seconds, args.drain = min(args.seconds, 3.0), min(args.drain, 5.0)
    if args.baseline_seconds is None:
        args.baseline_seconds = min(args.seconds, 2.0 if args.quick else 5.0)
    asyncio.run(bench(args))


if __name__ == "__main__":
    main()
