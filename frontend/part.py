"""The dashboard as a part of `plutarc up`: `python -m frontend.serve` in its own process
group (built first when its sources changed), pointed at the API, stopped with its workers.

The dashboard is the API's trusted proxy: it sends each browser's address in
`X-Forwarded-For` with the proxy secret in `X-Plutarc-Proxy`, and the API (trusting
`PLUTARC_TRUSTED_PROXIES`, loopback under `plutarc up`, when they show `PLUTARC_PROXY_SECRET`)
takes it as the client address, so per-address limits apply to traders, not to the
dashboard. `plutarc up` generates the secret and hands it to this process in its
environment (backend/http/proxies.py, docs/security.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
from typing import Any

import httpx

from frontend.api import OPERATOR_TOKEN_ENV, PROXY_SECRET_ENV
from frontend.serve import ROOT

START_TIMEOUT_S = 600.0  # the first build installs bun and the app's npm packages


class DashboardPart:
    name = "dashboard"

    def __init__(self) -> None:
        self.process: asyncio.subprocess.Process | None = None

    async def start(self, up: Any) -> list[str]:
        port = up.options.get("dashboard_port", 3000)
        url = f"http://{up.host}:{port}"
        log_path = up.settings.data_dir / "dashboard.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        # the dashboard is no operator by itself: /operator forwards the token its user types
        env = {k: v for k, v in os.environ.items() if k != OPERATOR_TOKEN_ENV}
        if up.facts.get("proxy_secret"):  # the API's secret for its trusted proxy
            env[PROXY_SECRET_ENV] = up.facts["proxy_secret"]
        with open(log_path, "ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "frontend.serve", "--host", up.host, "--port", str(port),
                "--api", up.facts["api_url"], cwd=ROOT, stdout=log, stderr=log, env=env,
                start_new_session=True,  # its own process group: stop() ends its workers too
            )
        await _wait_ready(self.process, url, log_path)
        up.facts["dashboard_url"] = url
        login = ""
        if up.facts.get("demo_user_id"):
            from backend.demo import DEMO_EMAIL

            login = f"  (log in as {DEMO_EMAIL} / {up.demo_password})"
        return [f"dashboard: {url}{login}  (log {log_path})"]

    async def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), 10)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            await process.wait()


async def _wait_ready(process: asyncio.subprocess.Process, url: str, log_path: Any) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    async with httpx.AsyncClient(timeout=2) as http:
        while time.monotonic() < deadline:
            if process.returncode is not None:
                tail = log_path.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"the dashboard exited ({process.returncode}):\n{tail}")
            with contextlib.suppress(httpx.HTTPError):
                if (await http.get(f"{url}/ping")).status_code == 200:
                    return
            await asyncio.sleep(0.25)
    raise RuntimeError(f"the dashboard did not answer at {url} within {START_TIMEOUT_S:.0f}s "
                       f"(see {log_path})")
