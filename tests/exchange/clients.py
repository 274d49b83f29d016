"""Stock third-party Bybit clients (ccxt, ccxt.pro, pybit) pointed at a running local
exchange with only the URL and the CA changed, as DEPENDENCIES.md describes."""

from __future__ import annotations

import ccxt
import ccxt.pro
from pybit.unified_trading import HTTP


def _point(client, server):
    for name in list(client.urls["api"]):
        client.urls["api"][name] = server.rest_url
    client.verify = str(server.ca_file)
    client.validateServerSsl = str(server.ca_file)
    return client


def ccxt_bybit(server, api_key: str | None = None, api_secret: str | None = None) -> ccxt.bybit:
    """The sync ccxt bybit class with the server's keys (or the given ones)."""
    keys = {
        "apiKey": api_key or server.config.api_key,
        "secret": api_secret or server.config.api_secret,
    }
    return _point(ccxt.bybit({**keys, "options": {"defaultType": "swap"}}), server)


def ccxt_pro_bybit(server) -> ccxt.pro.bybit:
    """ccxt.pro's bybit with its WebSocket URLs on the server too."""
    client = ccxt.pro.bybit(
        {
            "apiKey": server.config.api_key,
            "secret": server.config.api_secret,
            "options": {"defaultType": "swap"},
            "cafile": str(server.ca_file),
        }
    )
    ws = client.urls["api"]["ws"]
    _point(client, server)
    ws["public"]["linear"] = server.ws_public_url
    ws["private"]["contract"] = server.ws_private_url
    ws["private"]["trade"] = server.ws_trade_url
    client.urls["api"]["ws"] = ws
    return client


def pybit_http(server) -> HTTP:
    session = HTTP(api_key=server.config.api_key, api_secret=server.config.api_secret)
    session.endpoint = server.rest_url
    session.client.verify = str(server.ca_file)
    return session
