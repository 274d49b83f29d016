""""Test connection" of an exchange API key: one signed read of Bybit V5's
`/v5/user/query-api` (the key's own description), turned into an answer a trader can read —
it works, or the exchange's error in words — with warnings for a key that can withdraw funds
or has no IP restriction.

The secret is opened only inside `check` and used only to sign; it is never part of the
answer, an error or a log line.
"""

from __future__ import annotations

import ssl
import time
from typing import Any, TypedDict

import httpx

from bot.bybit.signing import Credentials, rest_headers

PATH = "/v5/user/query-api"
TIMEOUT_S = 5.0
RECV_WINDOW_MS = 10_000
# Bybit's retCodes for a key the exchange refuses, in words
REFUSALS = {
    10003: "the exchange does not know this API key (wrong key, or a testnet key on mainnet)",
    10004: "the signature was refused: the secret does not match the key",
    10005: "the key lacks the permission to read its own settings",
    10010: "the request came from an IP address this key does not allow",
    33004: "the key has expired",
}


class KeyCheck(TypedDict):
    """The answer of "test connection": `read_only` is None when the exchange did not say."""

    ok: bool
    message: str
    warnings: list[str]
    read_only: bool | None


def warnings_for(info: dict[str, Any]) -> list[str]:
    """What to warn about in a key's description (Bybit's `query-api` result)."""
    out = []
    wallet = (info.get("permissions") or {}).get("Wallet") or []
    if "Withdraw" in wallet:
        out.append("This key can withdraw funds: a trading bot never needs that; "
                   "create a key without the Withdraw permission.")
    ips = [ip for ip in info.get("ips") or [] if ip]
    if not ips or "*" in ips:
        out.append("This key has no IP restriction: anyone holding it can use it from "
                   "anywhere; restrict it to the addresses your bots run from.")
    return out


def answer(status: int, body: Any, where: str) -> KeyCheck:
    """`{ok, message, warnings, read_only}` from the exchange's answer to `query-api`."""
    if not isinstance(body, dict) or "retCode" not in body:
        return {"ok": False, "message": f"{where} answered HTTP {status} without a Bybit "
                "body", "warnings": [], "read_only": None}
    code = body["retCode"]
    if code != 0:
        words = REFUSALS.get(code, body.get("retMsg") or "refused")
        return {"ok": False, "message": f"{where} refused the key: {words} (retCode {code})",
                "warnings": [], "read_only": None}
    info = body.get("result") or {}
    return {"ok": True, "message": f"Connected to {where}: the key works.",
            "warnings": warnings_for(info), "read_only": bool(info.get("readOnly"))}


async def check(rest_url: str, ca_pem: str | None, where: str, api_key: str, secret: str
                ) -> KeyCheck:
    """Sign and send `GET query-api` with the key; the answer of `answer()`."""
    verify: ssl.SSLContext | bool = True
    if ca_pem:
        verify = ssl.create_default_context(cadata=ca_pem)
    headers = rest_headers(Credentials(api_key, secret), "", int(time.time() * 1000),
                           RECV_WINDOW_MS)
    try:
        async with httpx.AsyncClient(verify=verify, timeout=TIMEOUT_S) as http:
            response = await http.get(f"{rest_url}{PATH}", headers=headers)
    except httpx.HTTPError as exc:
        return {"ok": False, "message": f"{where} is unreachable ({type(exc).__name__})",
                "warnings": [], "read_only": None}
    try:
        body = response.json()
    except ValueError:
        body = None
    return answer(response.status_code, body, where)
