"""The receive loop shared by the public and private endpoints: accept, read JSON ops, hand
each to the endpoint's handler, and always unregister the connection at the end."""

from __future__ import annotations

import json
from collections.abc import Callable

from starlette.websockets import WebSocket, WebSocketDisconnect

from exchange.ws.hub import Connection, Hub

OpHandler = Callable[[Connection, dict], None]


async def run_session(websocket: WebSocket, hub: Hub, kind: str, handle: OpHandler) -> None:
    await websocket.accept()
    conn = hub.connect(websocket, kind)
    try:
        while True:
            text = await websocket.receive_text()
            try:
                message = json.loads(text)
            except ValueError:
                message = None
            if not isinstance(message, dict):
                conn.send(
                    {
                        "success": False,
                        "ret_msg": "error:invalid json",
                        "conn_id": conn.conn_id,
                        "op": "",
                    }
                )
                continue
            hub.exchange.catch_up()
            handle(conn, message)
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        hub.disconnect(conn)
        await conn.close()


def reply(conn: Connection, message: dict, success: bool, ret_msg: str = "") -> None:
    """Bybit's acknowledgement of an op."""
    answer = {
        "success": success,
        "ret_msg": ret_msg,
        "conn_id": conn.conn_id,
        "op": message.get("op", ""),
    }
    if "req_id" in message:
        answer["req_id"] = message["req_id"]
    conn.send(answer)
