"""`/v5/private`: the `auth` op (HMAC of "GET/realtime" + expires), then subscriptions to
order, execution, position and wallet (also `order.linear` etc.), and ping/pong."""

from __future__ import annotations

from starlette.websockets import WebSocket

from exchange.auth import verify_ws_auth
from exchange.clock import wall_ms
from exchange.errors import ApiError
from exchange.ws.hub import PRIVATE_TOPICS, Connection, Hub
from exchange.ws.session import reply, run_session

CATEGORY_TOPICS = {f"{t}.linear" for t in PRIVATE_TOPICS if t != "wallet"}
VALID = set(PRIVATE_TOPICS) | CATEGORY_TOPICS


def _handle(hub: Hub, conn: Connection, message: dict) -> None:
    op = message.get("op")
    args = message.get("args") or []
    if op == "ping":
        conn.send(
            {
                "req_id": message.get("req_id", ""),
                "op": "pong",
                "args": [str(hub.exchange.now())],
                "conn_id": conn.conn_id,
            }
        )
    elif op == "auth":
        try:
            api_key = verify_ws_auth(
                list(args), hub.exchange.accounts, wall_ms(), hub.exchange.now()
            )
        except ApiError as err:
            reply(conn, message, False, err.message)
            return
        conn.uid = hub.exchange.accounts.by_key(api_key).uid
        reply(conn, message, True)
    elif op in ("subscribe", "unsubscribe"):
        if conn.uid is None:
            reply(conn, message, False, "Request not authorized")
            return
        bad = [t for t in args if t not in VALID]
        if bad or not args:
            reply(conn, message, False, f"error:handler not found,topic:{(bad or [''])[0]}")
            return
        for topic in args:
            (conn.topics.add if op == "subscribe" else conn.topics.discard)(topic)
        reply(conn, message, True)
    else:
        reply(conn, message, False, f"error:unknown op {op}")


async def private_endpoint(websocket: WebSocket) -> None:
    hub: Hub = websocket.app.state.hub
    await run_session(websocket, hub, "private", lambda c, m: _handle(hub, c, m))
