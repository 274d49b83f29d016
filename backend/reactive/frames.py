"""The frames a sync client sends (docs/protocol.md section 4), as typed, validated models.

`parse_frame` turns one WebSocket message into exactly one of these models, or raises
BadRequest naming the bad field; the socket answers that with an `error` frame and goes on
(a protocol error, never a traceback or a silent drop). Checked here, once:
- the frame is a text frame of a JSON object with a known string `type`, within the JSON
  bounds of backend.runtime.jsonin (depth, 64-bit integers, no NUL or lone surrogate);
- ids are strings or integers (converted to strings, as the protocol says), at most
  `ID_CHARS` long; `null`, booleans and objects are refused, not turned into "None";
- `wait` versions and `ack` sequence numbers are non-negative 64-bit integers (a decimal
  string is accepted for versions, which are xids);
- `token` and `hash` are strings (or null); a `connect` version is a snapshot version's text
  (`xmin:xmax:xip`, parsed by backend.reactive.version).
Fields a frame does not define are ignored (receivers MUST ignore unknown fields).
The Python client (backend/client.py) builds its frames from the same models.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, TypeAdapter, ValidationError

from backend.limits import INT64_MAX
from backend.reactive.version import Snapshot
from backend.runtime import jsonin
from backend.runtime.errors import BadRequest

ID_CHARS = 128
VERSION_CHARS = 4096


def _id_text(value: Any) -> Any:
    """Ids may be JSON strings or integers; both become the same string."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        raise ValueError("must be a string or an integer")
    return value


def _request_id(value: Any) -> Any:
    """Request ids are echoed as sent: a string, an integer, or null."""
    if value is None or (isinstance(value, str) and len(value) <= ID_CHARS):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise ValueError(f"must be null, an integer or a string of at most {ID_CHARS} characters")


def _xid(value: Any) -> Any:
    if isinstance(value, str) and value.isdigit() and len(value) <= 20:
        return int(value)
    return value


FrameId = Annotated[str, BeforeValidator(_id_text), Field(min_length=1, max_length=ID_CHARS)]
RequestId = Annotated[str | int | None, BeforeValidator(_request_id)]
Seq = Annotated[int, Field(ge=0, le=INT64_MAX, strict=True)]
Xid = Annotated[int, BeforeValidator(_xid), Field(ge=1, le=INT64_MAX, strict=True)]
Path = Annotated[str, Field(max_length=200)]


class _Frame(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


def _snapshot_text(value: Any) -> Any:
    if not isinstance(value, str):
        return value  # null stays null; anything else fails as "not a string"
    try:
        if len(value) > VERSION_CHARS:
            raise ValueError
        snapshot = Snapshot.parse(value)
        if snapshot.xmax > INT64_MAX:
            raise ValueError
    except ValueError:
        raise ValueError("must be the version of a transition, 'xmin:xmax:xip'") from None
    return str(snapshot)


class Connect(_Frame):
    type: Literal["connect"]
    token: Annotated[str, Field(max_length=1024)] | None = None
    # on reconnect: the version of the last transition the client applied (section 4.7)
    version: Annotated[str | None, BeforeValidator(_snapshot_text)] = None


class Subscribe(_Frame):
    type: Literal["subscribe"]
    id: FrameId
    path: Path
    args: dict[str, Any] | None = None
    hash: Annotated[str, Field(max_length=64)] | None = None


class Unsubscribe(_Frame):
    type: Literal["unsubscribe"]
    id: FrameId


class Call(_Frame):
    type: Literal["query", "mutation", "action"]
    request_id: RequestId = None
    path: Path
    args: dict[str, Any] | None = None


class Wait(_Frame):
    type: Literal["wait"]
    version: Xid


class Ack(_Frame):
    type: Literal["ack"]
    seq: Seq


class Ping(_Frame):
    type: Literal["ping"]


Frame = Connect | Subscribe | Unsubscribe | Call | Wait | Ack | Ping
_FRAME: TypeAdapter[Frame] = TypeAdapter(
    Annotated[Frame, Field(discriminator="type")]
)
TYPES = ("connect", "subscribe", "unsubscribe", "query", "mutation", "action", "wait", "ack",
         "ping")


def encode(frame: Frame) -> str:
    """A frame as the client sends it (fields left at None are left out)."""
    return frame.model_dump_json(exclude_none=True)


class FrameError(BadRequest):
    """A bad frame; `echo` holds its `id` / `request_id` when those were valid, so the
    client can tell which subscription or call the error is about."""

    def __init__(self, message: str, field: str, echo: dict[str, Any] | None = None,
                 kind: str = "") -> None:
        super().__init__(message, field)
        self.echo = echo or {}
        self.kind = kind  # the frame's type


def _echo(data: dict[str, Any]) -> dict[str, Any]:
    echo = {}
    for name, check in (("id", _id_text), ("request_id", _request_id)):
        if name in data:
            try:
                value = check(data[name])
            except ValueError:
                continue
            if not isinstance(value, str) or len(value) <= ID_CHARS:
                echo[name] = value
    return echo


def parse_frame(message: dict[str, Any], max_depth: int) -> Frame:
    """One ASGI `websocket.receive` message as a frame; BadRequest naming what is wrong."""
    text = message.get("text")
    if text is None:
        raise BadRequest("frames must be text frames holding JSON (this was binary)", "frame")
    data = jsonin.parse(text, max_depth, "frame")
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        raise BadRequest("each message must be a JSON object with a string 'type'", "type")
    if data["type"] not in TYPES:
        raise BadRequest(f"unknown message type {data['type'][:40]!r}", "type")
    try:
        return _FRAME.validate_python(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"][1:]) or "frame"
        raise FrameError(f"{data['type']}: {field}: {first['msg']}", field, _echo(data),
                         data["type"]) from None
