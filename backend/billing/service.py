"""The billing part of an API process: records whether billing is on (the `billing_settings`
row every process reads limits from), says so once in the log, and makes the Stripe
configuration active for this process's actions and webhook route. (Grace periods are ended
by the `billing:expireGrace` cron, which the scheduler runs.)
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

from backend.billing import config as billing_config
from backend.billing.config import BillingConfig
from backend.runtime.context import ANONYMOUS
from backend.runtime.runner import Runtime

log = logging.getLogger("plutarc.billing")


async def _configure(runtime: Runtime, cfg: BillingConfig | None) -> None:
    args: dict[str, Any] = {"enabled": False, "mode": "off",
                            "grace_s": billing_config.DEFAULT_GRACE_S}
    if cfg is not None:
        args = {"enabled": True, "mode": cfg.mode, "grace_s": cfg.grace_s,
                "publishable_key": cfg.publishable_key or None, "js_url": cfg.js_url}
    await runtime.call("mutation", "billing:configure", args, ANONYMOUS, internal_ok=True)


def billing_service(cfg: BillingConfig | None, record: bool = True
                    ) -> Callable[[Any], AbstractAsyncContextManager[None]]:
    """A service for `create_app(dsn, services=[billing_service(cfg)])`; `cfg` None: off.
    `record` False (extra API processes): use `cfg` here, leave the deployment's switch as the
    main process set it."""

    @contextlib.asynccontextmanager
    async def service(state: Any) -> AsyncIterator[None]:
        runtime: Runtime = state.runtime
        if record:
            await _configure(runtime, cfg)
        if cfg is None:
            log.info("billing is off (no STRIPE_SECRET_KEY): no plan limits apply")
            yield
            return
        log.warning("billing is on (%s): plan limits apply", cfg.mode)
        billing_config.activate(cfg)
        try:
            yield
        finally:
            billing_config.activate(None)

    return service
