"""plutarc's local exchange: the subset of Bybit's V5 API (linear USDT perpetuals) the bot
uses - market data, signed REST trading, private streams, rate limits and fault injection -
over real TLS sockets on loopback, so standard Bybit clients work with only the URL changed
and the generated CA trusted.

Start it from code:

    from exchange.config import ExchangeConfig
    from exchange.server import ExchangeServer

    async with ExchangeServer(ExchangeConfig(clock="manual", seed=1)) as ex:
        ex.rest_url        # https://127.0.0.1:PORT       (REST /v5/...)
        ex.ws_public_url   # wss://127.0.0.1:PORT/v5/public/linear
        ex.ws_private_url  # wss://127.0.0.1:PORT/v5/private
        ex.admin_url       # https://127.0.0.1:PORT/admin  (exchange.admin.AdminClient)
        ex.ca_file         # PEM of the CA to trust (also ex.ca_pem)

Port 0 (the default) picks a free port. `exchange.testing.running_exchange(...)` runs it in a
background thread for synchronous callers or tests that want it off their loop;
`python -m exchange` / `plutarc exchange` runs it standalone (`exchange.cli.main`).
The bot's `bot.bybit.feed.bybit_feed_class` points cryptofeed's Bybit feed at it.
Admin: `exchange.admin.AdminClient` (async) / `SyncAdminClient` - accounts, funding, reset,
manual clock, pause, forced prices, faults. Full reference: docs/exchange.md.

Layout: config, clock, ids, numbers, errors (plumbing); market/ (price path, book, candles,
per-symbol market, Bybit views); accounts, orders, positions, fills, triggers, matching
(trading); engine (state + stepping); auth, ratelimit, faults, tls; rest/, ws/, admin_api
(transport); server, testing, cli.
"""
