"""The strategy editor's model (frontend/template_form.py) and the regions rows: fields come
from the engine's catalogue and the template's schema with their bounds and choices; an edit
out of bounds is named at its field; components are added with their defaults and removed;
versions are compared field by field. And "test connection"'s reading of Bybit's answer."""

from __future__ import annotations

from backend.domain import keycheck
from frontend import regions_view
from frontend import template_form as tf
from strategy.components.catalogue import CATALOGUE
from strategy.template import TEMPLATE_SCHEMA


def _by_path(rows: list[dict[str, str]]) -> dict[str, dict[str, str]]:
    return {r["path"]: r for r in rows}


def test_a_new_template_is_valid_and_its_fields_carry_bounds_and_choices() -> None:
    template = tf.starter(CATALOGUE)
    assert tf.errors_of(template) == {}
    general = _by_path(tf.general_rows(template, TEMPLATE_SCHEMA, {}))
    assert general["timeframe"]["kind"] == "choice" and "1m" in general["timeframe"]["choices"]
    assert general["risk.leverage"]["bounds"] == "≥ 1 ≤ 200"
    assert general["combination.threshold"]["bounds"].startswith("> 0")
    assert general["risk.daily_loss_limit.mode"]["value"] == "none"
    comps, fields = tf.component_rows(template, CATALOGUE, {})
    assert [c["type"] for c in comps["signals"]] == ["ma_cross"]
    params = _by_path(fields["signals[0]"])
    assert params["signals[0].weight"]["kind"] == "number"
    assert params["signals[0].params.fast"]["kind"] == "integer"
    assert params["signals[0].params.fast"]["bounds"].startswith("≥ 2")
    assert params["signals[0].params.ma"]["kind"] == "choice"


def test_a_field_out_of_bounds_is_named_at_its_field_and_fixing_it_clears_it() -> None:
    template = tf.set_value(tf.starter(CATALOGUE), "signals[0].params.fast", "integer", "1")
    errors = tf.errors_of(template)
    assert errors == {"signals[0].params.fast": "must be >= 2, got 1"}
    _, fields = tf.component_rows(template, CATALOGUE, errors)
    assert _by_path(fields["signals[0]"])["signals[0].params.fast"]["error"] == \
        "must be >= 2, got 1"
    assert tf.errors_of(tf.set_value(template, "signals[0].params.fast", "integer", "4")) == {}
    typo = tf.set_value(template, "risk.leverage", "number", "abc")
    assert "risk.leverage" in tf.errors_of(typo)  # kept as text: the engine names it


def test_components_are_added_with_defaults_removed_and_sessions_toggled() -> None:
    template = tf.add_component(tf.starter(CATALOGUE), CATALOGUE, "exits", "take_profit")
    defaults = {p["name"]: p["default"] for p in CATALOGUE["exits"]["take_profit"]["params"]}
    assert template["exits"] == [{"type": "take_profit", "params": defaults}]
    assert tf.remove_component(template, "exits", 0)["exits"] == []
    with_asia = tf.toggle_session(template, "asia")
    assert with_asia["sessions"] == [{"name": "asia"}] and tf.errors_of(with_asia) == {}
    assert tf.toggle_session(with_asia, "asia")["sessions"] == []
    limit = tf.set_value(template, "risk.daily_loss_limit.mode", "choice", "fraction")
    assert limit["risk"]["daily_loss_limit"] == {"mode": "fraction", "value": 0.05}
    assert tf.set_value(limit, "risk.daily_loss_limit.mode", "choice", "none")["risk"][
        "daily_loss_limit"] is None


def test_two_versions_differ_field_by_field_and_backend_errors_find_their_field() -> None:
    old = tf.starter(CATALOGUE)
    new = tf.add_component(tf.set_value(old, "signals[0].params.slow", "integer", "40"),
                           CATALOGUE, "guards", "max_drawdown")
    changes = {r["path"]: (r["old"], r["new"]) for r in tf.diff(old, new)}
    assert changes["signals[0].params.slow"] == ("30", "40")
    assert changes["guards[0]"][0] == "—" and "max_drawdown" in changes["guards[0]"][1]
    assert tf.diff(old, old) == []
    assert tf.backend_error_path("template.signals[0].params.fast") == "signals[0].params.fast"
    assert tf.backend_error_path("strategy_id") == ""


def test_regions_are_listed_closest_to_the_exchange_first() -> None:
    listing = {"providers": [
        {"provider": "gcp", "regions": [
            {"code": "us-east4", "city": "Ashburn", "country": "US",
             "estimates": {"bybit": {"distance_km": 15500.0, "rtt_ms_est": 155.0}},
             "measured": {}},
            {"code": "asia-southeast1", "city": "Jurong West", "country": "Singapore",
             "estimates": {"bybit": {"distance_km": 16.0, "rtt_ms_est": 0.16}},
             "measured": {"bybit": {"p50_ms": 2.5, "p95_ms": 4.0, "bots": 1}}}]},
        {"provider": "local", "regions": [
            {"code": "local", "city": "this machine", "country": "",
             "estimates": {"bybit": {"distance_km": None, "rtt_ms_est": None}}, "measured": {}}]},
    ], "exchanges": [], "guidance": {"1m": "choose the closest"}}
    rows = regions_view.region_rows(listing, "bybit")
    assert [r["value"] for r in rows] == ["gcp/asia-southeast1", "gcp/us-east4", "local/local"]
    assert rows[0]["measured"] == "2.5 ms (p95 4.0, 1 bot(s))" and rows[2]["estimate"] == "—"
    assert "est. 0.2 ms" in regions_view.label(rows[0])
    assert regions_view.guidance(listing, "1m") == "choose the closest"


def test_key_check_reads_withdraw_permission_ip_restriction_and_refusals() -> None:
    ok = keycheck.answer(200, {"retCode": 0, "result": {
        "ips": ["*"], "permissions": {"Wallet": ["AccountTransfer", "Withdraw"]}}}, "bybit")
    assert ok["ok"] and len(ok["warnings"]) == 2
    assert "withdraw" in ok["warnings"][0] and "IP" in ok["warnings"][1]
    safe = keycheck.answer(200, {"retCode": 0, "result": {"ips": ["203.0.113.7"],
                                                          "permissions": {}}}, "bybit")
    assert safe["ok"] and safe["warnings"] == []
    refused = keycheck.answer(401, {"retCode": 10003, "retMsg": "API key is invalid."}, "bybit")
    assert not refused["ok"] and "does not know this API key" in refused["message"]
    other = keycheck.answer(200, {"retCode": 99999, "retMsg": "odd"}, "bybit")
    assert "odd (retCode 99999)" in other["message"]
    assert "without a Bybit body" in keycheck.answer(502, None, "bybit")["message"]
