"""Lockouts that cannot be turned against users, forwarded addresses believed only from the
configured proxy, no user enumeration, password change, TOTP two-factor login (codes made by
pyotp, an independent implementation), and operator-only stats."""

from __future__ import annotations

import asyncio
import statistics
import time

import asyncpg
import httpx
import pyotp

from backend.auth.ratelimit import prune
from backend.runtime.executor import Executor
from tests.security.conftest import PASSWORD, Backend, as_client, call, user_token

WRONG = "not the password"


async def login(http: httpx.AsyncClient, email: str, password: str, address: str,
                **extra: str) -> httpx.Response:
    return await call(http, "action", "auth:login",
                      {"email": email, "password": password, **extra},
                      headers=as_client(address))


async def test_a_guesser_is_slowed_but_the_owner_logs_in_from_a_known_address(
        backend: Backend) -> None:
    email = "owner@example.com"
    await user_token(backend.url, email, address="198.51.100.7")  # the owner's usual address
    async with httpx.AsyncClient(base_url=backend.url, timeout=30) as http:
        for _ in range(5):
            assert (await login(http, email, WRONG, "203.0.113.1")).status_code == 401
        slowed = await login(http, email, PASSWORD, "203.0.113.1")
        assert slowed.status_code == 429 and " s" in slowed.json()["error"]["message"]
        assert (await login(http, email, PASSWORD, "198.51.100.7")).status_code == 200
        # the guesser's address may wait out its exponential delay (2 s), then try again
        await asyncio.sleep(2.1)
        assert (await login(http, email, WRONG, "203.0.113.1")).status_code == 401
        assert (await login(http, email, WRONG, "203.0.113.1")).status_code == 429  # now 4 s
        # a distributed guesser: 14 more failures from 14 addresses (20 for the account)
        for i in range(14):
            assert (await login(http, email, WRONG, f"203.0.113.{100 + i}")).status_code == 401
        assert (await login(http, email, PASSWORD, "192.0.2.50")).status_code == 429  # new
        assert (await login(http, email, PASSWORD, "198.51.100.7")).status_code == 200  # known


async def test_one_noisy_address_does_not_lock_out_accounts_known_there(backend: Backend) -> None:
    shared = "100.64.0.1"  # a NAT in front of an office
    await user_token(backend.url, "colleague@example.com", address=shared)
    async with httpx.AsyncClient(base_url=backend.url, timeout=30) as http:
        for i in range(20):
            assert (await login(http, f"nobody{i}@example.com", WRONG, shared)).status_code == 401
        assert (await login(http, "stranger@example.com", WRONG, shared)).status_code == 429
        assert (await login(http, "colleague@example.com", PASSWORD, shared)).status_code == 200


async def test_forwarded_addresses_are_believed_only_with_the_proxy_secret(
        backend: Backend) -> None:
    email = "spoof@example.com"
    await user_token(backend.url, email, address="198.51.100.9")
    async with httpx.AsyncClient(base_url=backend.url, timeout=30) as http:
        for i in range(6):  # without the secret: the header is ignored, the socket counts
            reply = await call(http, "action", "auth:login", {"email": email, "password": WRONG},
                               headers={"X-Forwarded-For": f"192.0.2.{i}"})
            assert reply.status_code == (401 if i < 5 else 429)
        # through the proxy, another address is unaffected
        assert (await login(http, email, PASSWORD, "198.51.100.9")).status_code == 200
        # /api/stats: loopback is an operator; a browser relayed by the dashboard is not
        assert (await http.get("/api/stats")).status_code == 200
        relayed = await http.get("/api/stats", headers=as_client("203.0.113.5"))
        assert relayed.status_code == 403


async def test_unknown_and_known_emails_cost_the_same_and_read_the_same(backend: Backend) -> None:
    await user_token(backend.url, "exists@example.com")
    async with httpx.AsyncClient(base_url=backend.url, timeout=30) as http:
        timings: dict[str, list[float]] = {"exists@example.com": [], "ghost@example.com": []}
        answers = {}
        for round_ in range(4):
            for email, spent in timings.items():
                started = time.perf_counter()
                reply = await login(http, email, WRONG, f"192.0.2.{200 + round_}")
                spent.append(time.perf_counter() - started)
                answers[email] = (reply.status_code, reply.json()["error"]["message"])
        known, unknown = (statistics.median(t) for t in timings.values())
        assert answers["exists@example.com"] == answers["ghost@example.com"]
        assert unknown > known / 3, (known, unknown)  # both pay for scrypt (was 3.3 vs 32.8 ms)
        taken = await call(http, "action", "auth:signup",
                           {"email": "exists@example.com", "password": PASSWORD})
        fresh = await call(http, "action", "auth:signup",
                           {"email": "brand-new@example.com", "password": PASSWORD})
        assert taken.json()["value"]["message"] == fresh.json()["value"]["message"]


async def test_password_change_signs_out_other_sessions(backend: Backend) -> None:
    email = "changer@example.com"
    first = await user_token(backend.url, email, address="198.51.100.20")
    async with httpx.AsyncClient(base_url=backend.url, timeout=30) as http:
        second = (await login(http, email, PASSWORD, "198.51.100.20")).json()["value"]["token"]
        wrong = await call(http, "action", "auth:changePassword",
                           {"old_password": WRONG, "new_password": "a brand new secret"}, first)
        assert wrong.status_code == 400 and wrong.json()["error"]["field"] == "old_password"
        weak = await call(http, "action", "auth:changePassword",
                          {"old_password": PASSWORD, "new_password": " " * 12}, first)
        assert weak.status_code == 400 and weak.json()["error"]["field"] == "new_password"
        changed = await call(http, "action", "auth:changePassword",
                             {"old_password": PASSWORD, "new_password": "a brand new secret"},
                             first)
        assert changed.status_code == 200 and changed.json()["value"]["sessions_revoked"] == 1
        assert (await call(http, "query", "auth:me", token=second)).status_code == 401
        assert (await call(http, "query", "auth:me", token=first)).status_code == 200
        assert (await login(http, email, "a brand new secret", "198.51.100.20")).status_code == 200
        assert (await login(http, email, PASSWORD, "198.51.100.20")).status_code == 401


async def test_totp_two_factor_login(backend: Backend) -> None:
    email = "twofactor@example.com"
    address = "198.51.100.30"
    token = await user_token(backend.url, email, address=address)
    async with httpx.AsyncClient(base_url=backend.url, timeout=30) as http:
        setup = (await call(http, "mutation", "auth:totpSetup", token=token)).json()["value"]
        assert setup["uri"].startswith("otpauth://totp/")
        app = pyotp.parse_uri(setup["uri"])  # what an authenticator app does with the QR code
        assert app.secret == setup["secret"]
        bad = await call(http, "mutation", "auth:totpEnable", {"code": "000000"}, token)
        assert bad.status_code == 400 and bad.json()["error"]["field"] == "code"
        assert (await call(http, "mutation", "auth:totpEnable", {"code": app.now()},
                           token)).status_code == 200
        missing = await login(http, email, PASSWORD, address)
        assert missing.status_code == 401 and missing.json()["error"]["field"] == "totp"
        code = app.at(time.time() + 30)  # the next step: the enabling code cannot be reused
        ok = await login(http, email, PASSWORD, address, totp=code)
        assert ok.status_code == 200, ok.text
        replay = await login(http, email, PASSWORD, address, totp=code)
        assert replay.status_code == 401  # a code is accepted once
        off = await call(http, "action", "auth:totpDisable",
                         {"password": PASSWORD, "code": app.at(time.time() + 30)}, token)
        assert off.status_code == 400  # the same step again: refused


async def test_old_failures_and_ended_sessions_are_pruned(backend: Backend, db_dsn: str) -> None:
    token = await user_token(backend.url, "pruned@example.com", address="198.51.100.40")
    conn = await asyncpg.connect(db_dsn)
    try:
        user_id = await conn.fetchval("SELECT id FROM users WHERE email = 'pruned@example.com'")
        await conn.execute("INSERT INTO login_failures (email, client, at) "
                           "VALUES ('old@example.com', '192.0.2.1', now() - interval '1 hour')")
        await conn.execute("INSERT INTO sessions (user_id, token_hash, created_at, expires_at) "
                           "VALUES ($1, 'ended', now() - interval '40 days', "
                           "now() - interval '10 days')", user_id)
        pruned = await prune(Executor(conn), 900)
        assert pruned["login_failures"] >= 1 and pruned["sessions"] == 1
        assert not await conn.fetchval("SELECT count(*) FROM sessions WHERE token_hash = 'ended'")
    finally:
        await conn.close()
    async with httpx.AsyncClient(base_url=backend.url, timeout=30) as http:
        assert (await call(http, "query", "auth:me", token=token)).status_code == 200
