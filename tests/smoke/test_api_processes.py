"""`plutarc up --api-workers 2`: two API processes share one port (the kernel spreads the
connections), each answers, a mutation's version from either is honoured by subscriptions on
any of them, and SIGTERM stops both."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import websockets

from tests.support.servers import free_port

PLUTARC = Path(sys.executable).with_name("plutarc")


def _pids(url: str, within: float = 30) -> set[int]:
    """The processes answering, asking on a new connection each time (the second process
    may still be starting)."""
    seen: set[int] = set()
    deadline = time.monotonic() + within
    while len(seen) < 2 and time.monotonic() < deadline:
        seen.add(httpx.get(f"{url}/api/stats", timeout=10).json()["pid"])
        time.sleep(0.01)
    return seen


async def _waits_answered(url: str, version: str, sockets: int) -> int:
    answered = 0
    for _ in range(sockets):
        async with websockets.connect(url.replace("http", "ws", 1) + "/api/sync") as ws:
            await ws.send(json.dumps({"type": "connect", "token": None}))
            assert json.loads(await ws.recv())["type"] == "connected"
            await ws.send(json.dumps({"type": "wait", "version": version}))
            message = json.loads(await asyncio.wait_for(ws.recv(), 10))
            xmin, xmax, xip = message["version"].split(":")
            xid = int(version)
            included = xid < int(xmin) or (xid < int(xmax) and str(xid) not in xip.split(","))
            answered += message["type"] == "transition" and included
    return answered


def test_two_api_processes_share_a_port_and_honour_each_others_versions(
    db_dsn: str, tmp_path: Path,
) -> None:
    env = {**os.environ, "DATABASE_URL": db_dsn, "PLUTARC_DATA_DIR": str(tmp_path / "data")}
    port = free_port()
    process = subprocess.Popen(
        [str(PLUTARC), "up", "--port", str(port), "--no-exchange", "--api-workers", "2"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while len(psutil.Process(process.pid).children()) < 1 or not _healthy(url):
            assert process.poll() is None and time.monotonic() < deadline, "did not start"
            time.sleep(0.3)
        assert len(_pids(url)) == 2
        creds = {"email": "two@plutarc.local", "password": "long enough"}
        signup = httpx.post(f"{url}/api/action", json={"path": "auth:signup", "args": creds},
                            timeout=30)
        assert signup.status_code == 200, signup.text
        token = httpx.post(f"{url}/api/action", json={"path": "auth:login", "args": creds},
                           timeout=30).json()["value"]["token"]
        write = httpx.post(f"{url}/api/mutation", json={  # a mutation's version to wait for
            "path": "auth:updateProfile", "args": {"display_name": "two"}},
            headers={"Authorization": f"Bearer {token}"}, timeout=30)
        assert write.status_code == 200, write.text
        assert asyncio.run(_waits_answered(url, write.json()["version"], 6)) == 6
        children = psutil.Process(process.pid).children(recursive=True)
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output
    assert "2 processes" in output
    time.sleep(0.5)
    assert not [p for p in children if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/api/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False
