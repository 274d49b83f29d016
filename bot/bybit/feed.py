"""The bot's market-data adapter for Bybit: cryptofeed's Bybit feed (3.0.1) pointed at any
Bybit-compatible URL (mainnet, testnet, the local exchange) with a TLS context that trusts
its CA.  It lives with the bot's Bybit adapter: the production bot never imports the local
exchange (`exchange/`), which is only one more Bybit-compatible server to it.

    import ssl
    from cryptofeed.defines import CANDLES, L2_BOOK, TRADES
    from bot.bybit.feed import bybit_feed_class

    ctx = ssl.create_default_context(cafile=server.ca_file)
    LocalBybit = bybit_feed_class(server.rest_url, server.ws_public_url, ctx)
    feed = LocalBybit(symbols=["BTC-USDT-PERP"], channels=[CANDLES, TRADES, L2_BOOK],
                      callbacks={...}, candle_interval="1m")
    await feed.run(stop_event)

cryptofeed has no endpoint option, so the class overrides `websocket_endpoints` (linear only;
the path must end in /linear) and `rest_endpoints`, and opens the HTTP session used for the
instrument list (linear, inverse and spot, fetched at start) with the same TLS context. The
instrument list is reloaded from the server at every start (cryptofeed's symbol table is
process-wide); cryptofeed also writes it under $XDG_CACHE_HOME/cryptofeed/ - point
XDG_CACHE_HOME at a temporary directory in tests.
"""

from __future__ import annotations

import ssl
from dataclasses import replace

import aiohttp
from cryptofeed.exchanges import Bybit


def bybit_feed_class(
    rest_url: str, ws_public_url: str, ssl_context: ssl.SSLContext | None
) -> type[Bybit]:
    """A subclass of cryptofeed's Bybit feed whose endpoints are `rest_url` (https://host:port)
    and `ws_public_url` (wss://host:port/v5/public/linear)."""
    if not ws_public_url.startswith("wss://") or not ws_public_url.endswith("/linear"):
        raise ValueError("cryptofeed needs a wss:// URL ending in /linear")
    linear = Bybit.websocket_endpoints[0]
    options = dict(linear.options)
    if ssl_context is not None:
        options["ssl"] = ssl_context
    ws_endpoints = [replace(linear, address=ws_public_url, sandbox=None, options=options)]
    rest_endpoints = [
        replace(ep, address=rest_url.rstrip("/"), sandbox=None) for ep in Bybit.rest_endpoints
    ]

    class LocalBybit(Bybit):
        websocket_endpoints = ws_endpoints

        async def _setup(self) -> None:
            if ssl_context is not None and not self.http_conn.is_open:
                self.http_conn.conn = aiohttp.ClientSession(
                    connector=aiohttp.TCPConnector(ssl=ssl_context)
                )
            # cryptofeed keeps one symbol table per exchange id for the whole process: always
            # reload it from this server, whose symbols may differ from the last one's.
            await self.load_symbols(conn=self.http_conn, refresh=True)
            await super()._setup()

    LocalBybit.rest_endpoints = rest_endpoints
    return LocalBybit
