"""Fixtures of the billing tests: a real localstripe process on a free loopback port (with
the plans' products and prices), and this module's API with billing on, whose webhook
endpoint localstripe signs and posts its events to."""

from __future__ import annotations

import asyncio
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


def billing_server(db_dsn: str, localstripe: LocalStripe, grace_s: int
                   ) -> Iterator[Billing]:
    secret = new_webhook_secret()
    config = localstripe.config(secret, grace_s=grace_s)
    app = create_app(db_dsn, services=[billing_service(config, interval_s=0.2)])
    with ServerThread(app) as url:
        localstripe.register_webhook(f"{url}/api/stripe/webhook", secret)
        yield Billing(url, db_dsn, config)


@pytest.fixture(scope="module")
def billing(db_dsn: str, localstripe: LocalStripe) -> Iterator[Billing]:
    yield from billing_server(db_dsn, localstripe, GRACE_S)
