"""Without Stripe keys billing is off and nothing is limited (said once at start); with
`plutarc up --stripe local` the billing part runs localstripe with the plans, registers the
API's webhook and keeps the fake's state in the data directory across restarts."""

from __future__ import annotations

import asyncio
import logging
import stat
from pathlib import Path

import httpx

from backend.app import create_app
from backend.billing.service import billing_service
from backend.config import Settings
from plutarc.stripe_part import StripePart
from plutarc.up import Up
from tests.billing.support import Billing, Trader, subscribe_directly, wait
from tests.support.servers import ServerThread, free_port


def test_without_keys_billing_is_off_and_no_limit_applies(db_dsn: str, caplog) -> None:
    caplog.set_level(logging.INFO, logger="plutarc.billing")
    with ServerThread(create_app(db_dsn, services=[billing_service(None)])) as url:
        trader = Trader(Billing(url, db_dsn, None))  # type: ignore[arg-type]
        status = trader.status()
        assert status["enabled"] is False and status["mode"] == "off" and status["usage"] is None
        strategy_id = trader.strategy()
        assert all(trader.bot(strategy_id).status_code == 200 for _ in range(3))
        live = trader.call("mutation", "apiKeys:add", {
            "exchange": "bybit", "label": "live", "api_key": "LIVEKEY2", "api_secret": "s"})
        assert live.status_code == 200
        assert trader.bot(strategy_id, provider="gcp", region="asia-southeast1").status_code == 200
        off = trader.call("action", "billing:changePlan", {"plan": "pro"})
        assert off.status_code == 409 and "billing is off" in off.json()["error"]["message"]
        hook = httpx.post(f"{url}/api/stripe/webhook", content=b"{}")
        assert hook.status_code == 404
    said = [r for r in caplog.records if "billing is off" in r.getMessage()]
    assert len(said) == 1


def test_up_with_stripe_local_runs_localstripe_with_the_plans_and_the_webhook(
        db_dsn: str, tmp_path: Path) -> None:
    up = Up(Settings(data_dir=tmp_path), "127.0.0.1", free_port(), "unused",
            {"stripe": "local", "stripe_port": free_port()})
    part = StripePart()
    lines = asyncio.run(part.start(up))
    try:
        config = up.facts["billing"]
        assert config.local and "localstripe at" in lines[0]
        assert any("plutarc-pro-monthly" in line for line in lines)
        with ServerThread(create_app(db_dsn, services=[billing_service(config)]),
                          port=up.port) as url:
            billing = Billing(url, db_dsn, config)
            trader = Trader(billing)
            pm = trader.card_id()
            subscribe_directly(billing, trader.customer_id(), pm, "team")
            wait(lambda: trader.status()["plan"]["key"] == "team", 10, "the webhook")
            customer = trader.customer_id()
    finally:
        asyncio.run(part.stop())
    store = tmp_path / "localstripe.pickle"
    assert stat.S_IMODE(store.stat().st_mode) == 0o600 and store.stat().st_size > 0
    again = StripePart()
    lines = asyncio.run(again.start(up))
    try:
        assert not any("created" in line for line in lines), "the plans were kept"
        kept = httpx.get(f"{up.facts['billing'].api_base}/v1/customers/{customer}",
                         headers={"Authorization": "Bearer sk_test_x"})
        assert kept.status_code == 200
    finally:
        asyncio.run(again.stop())


def test_stripe_keys_come_from_the_environment_with_clear_errors(monkeypatch) -> None:
    import pytest

    from backend.billing.config import DEFAULT_GRACE_S, from_env

    for name in ("STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "STRIPE_API_BASE",
                 "PLUTARC_BILLING_GRACE_S"):
        monkeypatch.delenv(name, raising=False)
    assert from_env() is None
    monkeypatch.setenv("STRIPE_SECRET_KEY", "sk_test_123")
    with pytest.raises(ValueError, match="STRIPE_WEBHOOK_SECRET is not"):
        from_env()
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", "whsec_456")
    config = from_env()
    assert config is not None and config.grace_s == DEFAULT_GRACE_S and not config.local
    assert config.js_url == "https://js.stripe.com/v3/"
    assert "sk_test_123" not in repr(config) and "whsec_456" not in repr(config)
    monkeypatch.setenv("PLUTARC_BILLING_GRACE_S", "a week")
    with pytest.raises(ValueError, match="whole number of seconds"):
        from_env()


def test_a_worker_process_rebuilds_the_same_configuration_from_its_environment(
        monkeypatch, localstripe) -> None:
    from backend.billing.config import from_env

    config = localstripe.config("whsec_789", grace_s=42)
    for name, value in config.to_env().items():
        monkeypatch.setenv(name, value)
    assert from_env() == config and config.local
