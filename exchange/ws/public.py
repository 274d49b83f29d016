"""`/v5/public/linear`: subscribe/unsubscribe to kline, orderbook, publicTrade and tickers
topics, and ping/pong, with Bybit's acknowledgement messages."""

from __future__ import annotations

from starlette.websockets import WebSocket

from exchange.ws.hub import Connection, Hub
from exchange.ws.session import reply, run_session


def _handle(hub: Hub, conn: Connection, message: dict) -> None:
    op = message.get("op")
    args = message.get("args") or []
    if op == "ping":
        reply(conn, message, True, "pong")
    elif op in ("subscribe", "unsubscribe"):
        bad = [t for t in args if not isinstance(t, str) or hub.parse_public_topic(t) is None]
        if bad or not args:
            reply(conn, message, False, f"error:handler not found,topic:{(bad or [''])[0]}")
            return
        reply(conn, message, True)
        for topic in args:
            if op == "subscribe":
                hub.subscribe(conn, topic)
            else:
                hub.unsubscribe(conn, topic)
    else:
        reply(conn, message, False, f"error:unknown op {op}")


async def public_endpoint(websocket: WebSocket) -> None:
    hub: Hub = websocket.app.state.hub
    await run_session(websocket, hub, "public", lambda c, m: _handle(hub, c, m))
