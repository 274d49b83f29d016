"""Fixtures of the billing tests: a real localstripe process on a free loopback port (with
the plans' products and prices), and this module's API with billing on, whose webhook
endpoint localstripe signs and posts its events to."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator

import pytest

from backend.app import create_app
from backend.billing.local import LocalStripe, new_webhook_secret
from backend.billing.service import billing_service
from backend.billing.stripe_api import ensure_catalog
from tests.billing.support import Billing
from tests.e2e.conftest import master_key  # noqa: F401 (fixture: apiKeys:add seals secrets)
from tests.support.servers import ServerThread, free_port

GRACE_S = 3600


@pytest.fixture(scope="module")
def localstripe() -> Iterator[LocalStripe]:
    server = LocalStripe(free_port()).start()
    try:
        asyncio.run(ensure_catalog(server.config("whsec_unused")))
        yield server
    finally:
        server.stop()


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage() + (logging.Formatter().formatException(
            record.exc_info) if record.exc_info else ""))


def billing_server(db_dsn: str, localstripe: LocalStripe, grace_s: int
                   ) -> Iterator[Billing]:
    """The API with billing on; every log line of the module is read at the end: neither the
    Stripe secret key nor the webhook secret may be in one."""
    secret = new_webhook_secret()
    config = localstripe.config(secret, grace_s=grace_s)
    app = create_app(db_dsn, services=[billing_service(config)])
    root, lines = logging.getLogger(), _Lines()
    level, root.level = root.level, logging.DEBUG
    root.addHandler(lines)
    try:
        with ServerThread(app) as url:
            localstripe.register_webhook(f"{url}/api/stripe/webhook", secret)
            yield Billing(url, db_dsn, config)
    finally:
        root.removeHandler(lines)
        root.setLevel(level)
    assert lines.lines, "no log line was seen"
    leaked = [line for line in lines.lines if config.secret_key in line or secret in line]
    assert not leaked, f"a Stripe secret reached the log: {leaked[:1]}"


@pytest.fixture(scope="module")
def billing(db_dsn: str, localstripe: LocalStripe) -> Iterator[Billing]:
    yield from billing_server(db_dsn, localstripe, GRACE_S)
