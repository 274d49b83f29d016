"""The README's first command, as a user runs it: `plutarc up` on the embedded PostgreSQL
(DATABASE_URL unset) with the local exchange and the demo bot online, then SIGTERM stops
everything it started."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil

from tests.support.servers import free_port

PLUTARC = Path(sys.executable).with_name("plutarc")


def _wait_healthy(url: str, process: subprocess.Popen[str], timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"plutarc up exited early:\n{process.stdout.read() if process.stdout else ''}")
        try:
            response = httpx.get(f"{url}/api/health", timeout=2)
            if response.status_code == 200:
                return response.json()
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError("plutarc up did not become healthy")


def test_plutarc_up_serves_health_the_demo_login_and_bot_then_stops_cleanly(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["PLUTARC_DATA_DIR"] = str(tmp_path / "data")
    port, exchange_port, dashboard_port = free_port(), free_port(), free_port()
    process = subprocess.Popen(
        [str(PLUTARC), "up", "--port", str(port), "--exchange-port", str(exchange_port),
         "--dashboard-port", str(dashboard_port), "--demo-password", "smoke-test-pass"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        health = _wait_healthy(url, process)
        assert health["database"]["ok"] and health["database"]["server_version"].startswith("18")
        login = httpx.post(f"{url}/api/action", json={"path": "auth:login", "args": {
            "email": "demo@plutarc.local", "password": "smoke-test-pass"}}, timeout=30)
        assert login.status_code == 200, login.text
        token = login.json()["value"]["token"]
        me = httpx.post(f"{url}/api/query", json={"path": "auth:me"},
                        headers={"Authorization": f"Bearer {token}"}, timeout=30)
        assert me.json()["value"]["email"] == "demo@plutarc.local"
        deadline = time.monotonic() + 240  # a fresh clone builds the dashboard first
        bots: list = []
        while time.monotonic() < deadline:
            bots = httpx.post(f"{url}/api/query", json={"path": "bots:list"},
                              headers={"Authorization": f"Bearer {token}"}, timeout=30).json()["value"]
            if bots and bots[0]["lifecycle"] == "online":
                break
            time.sleep(0.5)
        assert bots and bots[0]["lifecycle"] == "online", bots
        dashboard = f"http://127.0.0.1:{dashboard_port}"
        assert httpx.get(f"{dashboard}/login", follow_redirects=True, timeout=30).status_code == 200
        children = psutil.Process(process.pid).children(recursive=True)
        postgres = [p for p in psutil.process_iter(["cmdline"])
                    if str(tmp_path) in " ".join(p.info["cmdline"] or [])]
        assert postgres, "the embedded PostgreSQL should run from the data dir"
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output
    assert "demo login: demo@plutarc.local / smoke-test-pass" in output
    assert url in output
    assert f"dashboard: {dashboard}" in output  # printed with the demo login
    time.sleep(0.5)
    leftovers = [p for p in children + postgres if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert not leftovers, f"orphans left behind: {leftovers}"
