"""Where each exchange is reached. Bybit's public URLs are built in; a row of
`exchange_endpoints` overrides them, and is the only source for the `local` exchange (the
process that starts the local exchange records its URLs and CA with `set_endpoint`).

The local exchange has one endpoint whatever the key's testnet flag (looked up as testnet
= false)."""

from __future__ import annotations

from typing import Any, TypedDict

from backend.runtime.executor import Executor

EXCHANGES = ("bybit", "local")
BUILTIN: dict[tuple[str, bool], dict[str, Any]] = {
    ("bybit", False): {
        "rest_url": "https://api.bybit.com",
        "ws_public_url": "wss://stream.bybit.com/v5/public/linear",
        "ws_private_url": "wss://stream.bybit.com/v5/private",
        "ca_pem": None,
    },
    ("bybit", True): {
        "rest_url": "https://api-testnet.bybit.com",
        "ws_public_url": "wss://stream-testnet.bybit.com/v5/public/linear",
        "ws_private_url": "wss://stream-testnet.bybit.com/v5/private",
        "ca_pem": None,
    },
}
_NONE = {"rest_url": None, "ws_public_url": None, "ws_private_url": None, "ca_pem": None}


class Endpoint(TypedDict):
    """Where an exchange is reached (None where not configured)."""

    rest_url: str | None
    ws_public_url: str | None
    ws_private_url: str | None
    ca_pem: str | None


async def endpoint(db: Executor, exchange: str, testnet: bool) -> Endpoint:
    """`{rest_url, ws_public_url, ws_private_url, ca_pem}` (all None if not configured)."""
    testnet = testnet and exchange != "local"
    row = await db.fetchrow(
        "SELECT rest_url, ws_public_url, ws_private_url, ca_pem FROM exchange_endpoints "
        "WHERE exchange = $1 AND testnet = $2",
        exchange, testnet,
    )
    return row or dict(BUILTIN.get((exchange, testnet), _NONE))  # type: ignore[return-value]


async def set_endpoint(
    db: Executor, exchange: str, rest_url: str, ws_public_url: str, ws_private_url: str,
    ca_pem: str | None = None, testnet: bool = False,
) -> None:
    """Record (or replace) the URLs and CA certificate of an exchange."""
    testnet = testnet and exchange != "local"
    await db.execute(
        "INSERT INTO exchange_endpoints "
        "(exchange, testnet, rest_url, ws_public_url, ws_private_url, ca_pem, updated_at) "
        "VALUES ($1, $2, $3, $4, $5, $6, now()) ON CONFLICT (exchange, testnet) DO UPDATE SET "
        "rest_url = $3, ws_public_url = $4, ws_private_url = $5, ca_pem = $6, updated_at = now()",
        exchange, testnet, rest_url, ws_public_url, ws_private_url, ca_pem,
    )
