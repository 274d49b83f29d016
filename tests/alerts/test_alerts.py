"""Alerts: bot events raise live in-app notifications with an unread count; a user's webhook
receives each one signed, and a failing receiver is retried by the scheduler until it
answers (a real HTTP receiver on loopback)."""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
import time
from collections.abc import AsyncIterator

import pytest

from backend.domain.alerts import SIGNATURE_HEADER, verify_signature
from backend.runtime.errors import ApiError
from backend.testing import Caller, TestBackend
from tests.domain.conftest import TEMPLATE


class Receiver:
    """A webhook receiver on 127.0.0.1: answers the queued statuses (then 200), keeps bodies."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = statuses
        self.received: list[tuple[dict[str, str], str]] = []

    async def start(self) -> str:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/hook"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode()
        headers = {k.strip().lower(): v.strip() for k, _, v in
                   (line.partition(":") for line in head.split("\r\n")[1:] if line)}
        body = (await reader.readexactly(int(headers.get("content-length", 0)))).decode()
        self.received.append((headers, body))
        status = self.statuses.pop(0) if self.statuses else 200
        writer.write(f"HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                     .encode())
        await writer.drain()
        writer.close()


@pytest.fixture
async def t(template_db: str, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[TestBackend]:
    monkeypatch.setenv("PLUTARC_MASTER_KEY", base64.b64encode(secrets.token_bytes(32)).decode())
    async with TestBackend(template=template_db, crons={"alerts:dispatch"}) as backend:
        yield backend


async def trader_with_bot(t: TestBackend) -> tuple[Caller, Caller, int]:
    user = await t.user()
    key = await user.mutation("apiKeys:add", {"exchange": "local", "label": "k",
                                              "api_key": "KEY-ALERTS", "api_secret": "SECRET-ALERTS-1"})
    strategy = await user.mutation("strategies:create", {"template": TEMPLATE})
    bot = await user.mutation("bots:create", {"name": "b", "strategy_id": strategy["id"],
                                              "api_key_id": key["id"]})
    return user, await t.bot(bot["id"]), bot["id"]


def event(report_id: str, kind: str, message: str, level: str = "info") -> dict:
    return {"report_id": report_id, "kind": kind, "message": message, "level": level}


async def test_bot_events_raise_live_notifications_with_an_unread_count(t: TestBackend) -> None:
    user, bot, bot_id = await trader_with_bot(t)
    unread = await user.subscribe("alerts:unread")
    assert await unread.value() == {"count": 0}
    await bot.mutation("bot:reportEvent", event("e1", "trade_closed", "trade 1 closed"))
    await bot.mutation("bot:reportEvent", event("e2", "exchange_error", "candle 5: 503", "error"))
    assert await unread.next_value() == {"count": 1}
    for i in range(3):  # one disagreement, however many differences: one notification
        await bot.mutation("bot:reportEvent", event(f"r{i}", "reconciliation",
                                                    f"position BTCUSDT differed ({i})",
                                                    "warning"))
    assert await unread.next_value() == {"count": 2}
    feed = await user.query("alerts:list")
    assert [(n["kind"], n["level"], n["bot_id"]) for n in feed] == [
        ("reconciling", "warning", bot_id), ("error", "error", bot_id)]
    await user.mutation("alerts:markRead", {"ids": [feed[1]["id"]]})
    assert await unread.next_value() == {"count": 1}
    other = await t.user()
    assert await other.query("alerts:list") == []
    assert await other.mutation("alerts:markRead", {}) == {"updated": 0}
    assert await user.mutation("alerts:markRead", {}) == {"updated": 1}
    assert await unread.next_value() == {"count": 0}


async def test_the_webhook_gets_each_alert_signed_and_retried_until_it_answers(
        t: TestBackend) -> None:
    receiver = Receiver([500, 503])
    url = await receiver.start()
    user, bot, bot_id = await trader_with_bot(t)
    hook = await user.mutation("alerts:setWebhook", {"url": url})
    secret = hook["secret"]
    assert hook["webhook_url"] == url and len(secret) == 64
    assert await user.query("alerts:settings") == {"webhook_url": url}  # no secret
    await bot.mutation("bot:reportEvent", event("e1", "exchange_error", "candle 5: 503", "error"))
    await t.advance(2)  # dispatch queues the delivery
    for _ in range(6):  # the first two answers fail: retried after 2 and 4 s
        await t.advance(4)
        if len(receiver.received) == 3:
            break
    assert len(receiver.received) == 3
    headers, body = receiver.received[-1]
    assert verify_signature(secret, headers[SIGNATURE_HEADER.lower()], body, int(time.time()))
    assert not verify_signature("another secret", headers[SIGNATURE_HEADER.lower()], body,
                                int(time.time()))
    assert not verify_signature(secret, headers[SIGNATURE_HEADER.lower()], body + " ",
                                int(time.time()))
    sent = json.loads(body)
    assert (sent["kind"], sent["bot_id"], sent["message"]) == ("error", bot_id, "candle 5: 503")
    rows = await t.sql("SELECT webhook_state FROM notifications WHERE id = $1", sent["id"])
    assert rows == [{"webhook_state": "delivered"}]
    jobs = await t.jobs("alerts:deliver")
    assert [j["state"] for j in jobs] == ["done"] and jobs[0]["attempts"] == 3
    assert secret not in json.dumps(await user.query("alerts:list"), default=str)
    with pytest.raises(ApiError) as bad:
        await user.mutation("alerts:setWebhook", {"url": "ftp://example.invalid/x"})
    assert bad.value.field == "url"
