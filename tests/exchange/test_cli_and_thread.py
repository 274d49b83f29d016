"""The standalone command prints its URLs and key pair and stops cleanly on SIGTERM; the
thread runner serves other parts' synchronous tests."""

from __future__ import annotations

import os
import signal
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx

from exchange.admin import SyncAdminClient
from exchange.config import DEMO_API_KEY
from exchange.testing import running_exchange

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_cli_prints_urls_and_stops_cleanly_on_sigterm(tmp_path):
    port = _free_port()
    ca_file = tmp_path / "ca.pem"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "exchange",
            "--port",
            str(port),
            "--ca-file",
            str(ca_file),
            "--speed",
            "120",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        lines = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            lines.append(line)
            if "Ctrl-C" in line or not line:
                break
        output = "".join(lines)
        assert f"https://127.0.0.1:{port}" in output and DEMO_API_KEY in output
        answer = httpx.get(
            f"https://127.0.0.1:{port}/v5/market/time",
            verify=ssl.create_default_context(cafile=str(ca_file)),
        )
        assert answer.json()["retCode"] == 0
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
        assert "exchange stopped" in proc.stdout.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_running_exchange_in_a_thread_is_driven_by_the_sync_admin_client(tmp_path):
    with running_exchange(clock="manual", ca_file=tmp_path / "ca.pem", history_candles=60) as ex:
        admin = SyncAdminClient(ex.admin_url, ex.ca_file)
        before = admin.state()["clock"]["now"]
        assert admin.advance(ms=60_000)["now"] == before + 60_000
        created = admin.create_account(balance="42")
        assert created["wallet"]["totalWalletBalance"] == "42"
