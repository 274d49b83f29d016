"""`/v5/trade`: Bybit's WebSocket order entry. After the same `auth` op as the private
stream, `{"reqId", "header": {"X-BAPI-TIMESTAMP", "X-BAPI-RECV-WINDOW"}, "op":
"order.create" | "order.amend" | "order.cancel", "args": [{...}]}` runs the REST handler of
that route (same checks, same rate limits) and answers `{"reqId", "retCode", "retMsg", "op",
"data", "retExtInfo", "header", "connId"}` (https://bybit-exchange.github.io/docs/v5/websocket/trade/guideline).
"""

from __future__ import annotations

from starlette.websockets import WebSocket

from exchange.auth import verify_ws_auth
from exchange.clock import wall_ms
from exchange.errors import ApiError
from exchange.rest import trade
from exchange.ws.hub import Connection, Hub
from exchange.ws.session import reply, run_session

OPS = {
    "order.create": ("/v5/order/create", trade.create),
    "order.amend": ("/v5/order/amend", trade.amend),
    "order.cancel": ("/v5/order/cancel", trade.cancel),
}


def _answer(
    hub: Hub, conn: Connection, message: dict, code: int, msg: str, data: dict, limit
) -> None:
    header = {"Timenow": str(hub.exchange.now())}
    if limit is not None:
        header.update(limit.headers())
    conn.send(
        {
            "reqId": message.get("reqId", ""),
            "retCode": code,
            "retMsg": msg,
            "op": message.get("op", ""),
            "data": data,
            "retExtInfo": {},
            "header": header,
            "connId": conn.conn_id,
        }
    )


def _order_op(hub: Hub, conn: Connection, message: dict) -> None:
    path, handler = OPS[message["op"]]
    args = message.get("args") or []
    verdict = None
    try:
        if conn.uid is None:
            raise ApiError(10003, "Request not authorized")
        if len(args) != 1 or not isinstance(args[0], dict):
            raise ApiError(10001, "params error: args must hold one order")
        verdict = hub.exchange.limiter.hit(conn.uid, path, wall_ms())
        if not verdict.allowed:
            raise ApiError(10006, "Too many visits. Exceeded the API Rate Limit.")
        account = hub.exchange.accounts.by_uid[conn.uid]
        data = handler(hub.exchange, account, args[0])
    except ApiError as err:
        _answer(hub, conn, message, err.code, err.message, {}, verdict)
        return
    _answer(hub, conn, message, 0, "OK", data, verdict)


def _handle(hub: Hub, conn: Connection, message: dict) -> None:
    op = message.get("op")
    if op == "ping":
        reply(conn, message, True, "pong")
    elif op == "auth":
        try:
            api_key = verify_ws_auth(
                list(message.get("args") or []),
                hub.exchange.accounts,
                wall_ms(),
                hub.exchange.now(),
            )
        except ApiError as err:
            _answer(hub, conn, message, err.code, err.message, {}, None)
            return
        conn.uid = hub.exchange.accounts.by_key(api_key).uid
        _answer(hub, conn, message, 0, "OK", {}, None)
    elif op in OPS:
        _order_op(hub, conn, message)
    else:
        _answer(hub, conn, message, 10001, f"params error: unknown op {op}", {}, None)


async def trade_endpoint(websocket: WebSocket) -> None:
    hub: Hub = websocket.app.state.hub
    await run_session(websocket, hub, "trade", lambda c, m: _handle(hub, c, m))
