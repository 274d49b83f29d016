"""localstripe (a stateful fake Stripe server from PyPI) on loopback, as a child process:
for `plutarc up --stripe local` and for the tests, which talk to it over HTTP with the
`stripe` library exactly as they would to Stripe.

Run as `python -m backend.billing.local --port N [--store FILE]` rather than localstripe's own
command, because that one listens on every interface (`::`) and keeps its state in
/tmp/localstripe.pickle, one file shared by every localstripe on the machine (parallel runs
would load each other's customers). Here it listens on 127.0.0.1 only and keeps its state in
memory, or in `--store` (plutarc up keeps it in the data directory).

One gap of localstripe 1.15 is filled here, as Stripe documents the behaviour: when an
invoice payment fails (`POST /v1/invoices/{id}/pay` with a card that declines charges, as at
a renewal) Stripe sends `invoice.payment_failed` and moves the subscription to `past_due`;
localstripe did neither (the invoice just stayed open).
"""

from __future__ import annotations

import argparse
import os
import pickle
import secrets
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from backend.billing.config import BillingConfig, grace_from_env

SECRET_KEY = "sk_test_plutarc_local"  # localstripe accepts any sk_ key
PUBLISHABLE_KEY = "pk_test_plutarc_local"


class LocalStripe:
    """`start()` a localstripe on `port`; `stop()` it. Its state lives as long as it runs
    (or in `store`)."""

    def __init__(self, port: int, store: Path | None = None) -> None:
        self.port, self.store = port, store
        self.url = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 20.0) -> LocalStripe:
        cmd = [sys.executable, "-m", "backend.billing.local", "--port", str(self.port)]
        if self.store is not None:
            cmd += ["--store", str(self.store)]
        root = Path(__file__).resolve().parents[2]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            filter(None, [str(root), os.environ.get("PYTHONPATH")]))}
        self.process = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                if httpx.get(f"{self.url}/js.stripe.com/v3/", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"localstripe did not start on port {self.port}")
            time.sleep(0.05)

    def register_webhook(self, url: str, secret: str, name: str = "plutarc",
                         events: list[str] | None = None) -> None:
        """Have localstripe sign its events with `secret` and POST them to `url` (only the
        event types in `events`, if given). Registering `name` again replaces it."""
        body: dict[str, object] = {"url": url, "secret": secret}
        if events is not None:
            body["events"] = events
        httpx.post(f"{self.url}/_config/webhooks/{name}", json=body, timeout=5
                   ).raise_for_status()

    def config(self, webhook_secret: str, grace_s: int | None = None) -> BillingConfig:
        return BillingConfig(
            secret_key=SECRET_KEY, webhook_secret=webhook_secret,
            publishable_key=PUBLISHABLE_KEY, api_base=self.url,
            grace_s=grace_from_env() if grace_s is None else grace_s, local=True,
        )

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


def new_webhook_secret() -> str:
    return "whsec_" + secrets.token_hex(24)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="localstripe on 127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--store", type=Path, default=None)
    args = parser.parse_args(argv)

    from aiohttp import web
    from localstripe import resources, server

    store_file: Path | None = args.store

    def dump(self: resources.Store) -> None:
        if store_file is not None:
            tmp = store_file.with_suffix(".tmp")  # written whole, then renamed: never half a file
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as out:
                out.write(pickle.dumps(dict(self), protocol=pickle.HIGHEST_PROTOCOL))
            tmp.replace(store_file)

    def load(self: resources.Store) -> None:
        if store_file is not None and store_file.exists() and store_file.stat().st_size:
            self.update(pickle.loads(store_file.read_bytes()))  # our own file, 0600

    resources.Store.dump_to_disk = dump  # type: ignore[method-assign]
    resources.Store.try_load_from_disk = load  # type: ignore[method-assign]
    _fail_invoices_like_stripe(resources)
    if store_file is not None:
        store_file.parent.mkdir(parents=True, exist_ok=True)
        store_file.touch(mode=0o600)
        resources.store.try_load_from_disk()
    web.run_app(server.app, host="127.0.0.1", port=args.port, access_log=None, print=None)


def _fail_invoices_like_stripe(resources: Any) -> None:
    """Invoice payments confirm their PaymentIntent with a no-op failure callback; wrap
    `PaymentIntent._confirm` (looked up at call time, unlike the routes, which localstripe
    binds at import) so that a failed charge of an invoice is reported to the invoice."""
    confirm = resources.PaymentIntent._confirm

    def confirm_reporting(self: Any, on_failure_now: Any) -> None:
        silent = on_failure_now != self._report_failure  # _report_failure already reports

        def on_failure() -> None:
            on_failure_now()
            if silent and self.invoice:
                resources.Invoice._api_retrieve(self.invoice)._on_payment_failure_now()

        confirm(self, on_failure)

    resources.PaymentIntent._confirm = confirm_reporting


if __name__ == "__main__":
    main()
