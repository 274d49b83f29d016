"""Signatures follow Bybit's documented V5 examples (integration guide, HMAC section)."""

import hashlib
import hmac
import json

import httpx

from bot.bybit.rest import BybitRest
from bot.bybit.signing import Credentials, rest_headers, sign, ws_auth_args

SECRET = "doc-example-secret"


def _hmac(text: str, secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()


def test_get_signature_covers_the_documented_plain_text():
    # Bybit guide, GET: timestamp+api_key+recv_window+queryString
    documented = "1658384314791XXXXXXXXXX5000category=option&symbol=BTC-29JUL22-25000-C"
    ours = sign(
        SECRET, 1658384314791, "XXXXXXXXXX", 5000, "category=option&symbol=BTC-29JUL22-25000-C"
    )
    assert ours == _hmac(documented)
    assert len(ours) == 64 and ours == ours.lower()


def test_post_signature_covers_the_raw_body_as_sent():
    # Bybit guide, POST: timestamp+api_key+recv_window+raw_request_body
    body = '{"category": "option"}'
    assert sign(SECRET, 1658385579423, "XXXXXXXXXX", 5000, body) == _hmac(
        "1658385579423XXXXXXXXXX5000" + body
    )


def test_headers_carry_key_timestamp_window_and_signature():
    headers = rest_headers(Credentials("XXXXXXXXXX", SECRET), "a=1", 1658384314791, 5000)
    assert headers == {
        "X-BAPI-API-KEY": "XXXXXXXXXX",
        "X-BAPI-TIMESTAMP": "1658384314791",
        "X-BAPI-RECV-WINDOW": "5000",
        "X-BAPI-SIGN": _hmac("1658384314791XXXXXXXXXX5000a=1"),
    }


def test_websocket_auth_signs_get_realtime_and_expiry():
    key, expires, signature = ws_auth_args(Credentials("k", SECRET), 1662350400000)
    assert (key, expires) == ("k", 1662350400000)
    assert signature == _hmac("GET/realtime1662350400000")


def test_secret_never_appears_in_repr():
    assert SECRET not in repr(Credentials("k", SECRET))


async def test_client_signs_exactly_the_bytes_it_sends():
    seen: list[httpx.Request] = []

    def exchange(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"retCode": 0, "retMsg": "OK", "result": {}})

    creds = Credentials("key1", SECRET)
    async with BybitRest(
        "https://exchange.invalid", creds, transport=httpx.MockTransport(exchange)
    ) as rest:
        await rest.get(
            "/v5/order/realtime", {"category": "linear", "symbol": "BTCUSDT"}, signed=True
        )
        await rest.post("/v5/order/cancel", {"category": "linear", "orderLinkId": "a-1"})
    for request in seen:
        h = request.headers
        payload = (
            request.url.query.decode() if request.method == "GET" else request.content.decode()
        )
        expected = _hmac(h["X-BAPI-TIMESTAMP"] + "key1" + h["X-BAPI-RECV-WINDOW"] + payload)
        assert h["X-BAPI-SIGN"] == expected
    assert seen[0].url.query == b"category=linear&symbol=BTCUSDT"
    assert json.loads(seen[1].content) == {"category": "linear", "orderLinkId": "a-1"}
