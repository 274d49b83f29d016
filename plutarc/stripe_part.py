"""The billing part of `plutarc up`: Stripe from the environment (STRIPE_SECRET_KEY), or with
`--stripe local` a localstripe process on loopback, or nothing (billing off, no plan limits).

For localstripe it keeps the fake's state in the data directory, creates the plans' products
and prices, and registers the API's webhook with a fresh signing secret, so the whole billing
flow (test cards, webhooks, grace periods) runs on one machine. The API part reads the
resulting configuration from `up.facts["billing"]`.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from backend.billing import config as billing_config
from backend.billing.local import LocalStripe, new_webhook_secret
from backend.billing.stripe_api import ensure_catalog

if TYPE_CHECKING:
    from plutarc.up import Up


class StripePart:
    name = "billing"

    def __init__(self) -> None:
        self.local: LocalStripe | None = None

    async def start(self, up: Up) -> list[str]:
        cfg = billing_config.from_env()
        lines: list[str] = []
        if cfg is None and up.options.get("stripe") == "local":
            self.local = LocalStripe(up.options.get("stripe_port", 8420),
                                     up.settings.data_dir / "localstripe.pickle")
            await asyncio.to_thread(self.local.start)
            host = "127.0.0.1" if up.host in ("0.0.0.0", "::", "") else up.host
            secret = new_webhook_secret()
            await asyncio.to_thread(self.local.register_webhook,
                                    f"http://{host}:{up.port}/api/stripe/webhook", secret)
            cfg = self.local.config(secret)
            lines.append(f"billing: localstripe at {self.local.url} (test cards, e.g. "
                         "4242 4242 4242 4242; webhooks signed to /api/stripe/webhook)")
        up.facts["billing"] = cfg
        if cfg is None:
            return ["billing: off (no STRIPE_SECRET_KEY; `--stripe local` runs localstripe): "
                    "no plan limits"]
        created = await ensure_catalog(cfg)
        if not self.local:
            lines.append(f"billing: Stripe{' at ' + cfg.api_base if cfg.api_base else ''}")
        if created:
            lines.append(f"billing: created {', '.join(created)}")
        return lines

    async def stop(self) -> None:
        if self.local is not None:
            await asyncio.to_thread(self.local.stop)
