"""Strategy templates: validated by the engine, versioned, owned, archived."""

from __future__ import annotations

import copy

from tests.domain.conftest import TEMPLATE, World, spare_key


def test_saving_a_template_creates_versions_and_keeps_old_ones(world: World) -> None:
    api, token = world.api, world.a.token
    created = api.m("strategies:create", {"template": TEMPLATE}, token)
    assert created["version"] == 1 and created["symbol"] == "BTCUSDT"
    assert created["template"]["signals"][0]["params"]["ma"] == "sma"  # engine defaults
    changed = copy.deepcopy(TEMPLATE) | {"name": "Faster", "timeframe": "15m"}
    updated = api.m("strategies:update", {"strategy_id": created["id"], "template": changed},
                    token)
    assert updated["version"] == 2 and updated["timeframe"] == "15m"
    got = api.q("strategies:get", {"strategy_id": created["id"]}, token)
    assert got["template_version"] == 2 and got["template"]["name"] == "Faster"
    assert [v["version"] for v in got["versions"]] == [1, 2]
    first = api.q("strategies:get", {"strategy_id": created["id"], "version": 1}, token)
    assert first["template"]["name"] == "MA cross" and first["template"]["timeframe"] == "1h"
    names = [s["name"] for s in api.q("strategies:list", token=token)]
    assert "Faster" in names


def test_an_invalid_template_is_a_400_naming_component_and_field(world: World) -> None:
    bad = copy.deepcopy(TEMPLATE)
    bad["signals"][0]["params"] = {"fast": 50, "slow": 20}
    response = world.api.call("mutation", "strategies:create", {"template": bad}, world.a.token)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["field"] == "template.signals[0].params.fast"
    assert "ma_cross" in error["message"] and "'fast'" in error["message"]


def test_a_template_error_outside_components_names_the_field(world: World) -> None:
    bad = {k: v for k, v in TEMPLATE.items() if k != "risk"} | {"timeframe": "7m"}
    response = world.api.call("mutation", "strategies:create", {"template": bad}, world.a.token)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["field"] in ("template.risk", "template.timeframe")
    assert "1 more problem" in error["message"]


def test_an_update_with_an_invalid_template_changes_nothing(world: World) -> None:
    api, token = world.api, world.a.token
    before = api.q("strategies:get", {"strategy_id": world.a.strategy_id}, token)
    bad = copy.deepcopy(TEMPLATE) | {"exits": [{"type": "no_such_exit"}]}
    response = api.call("mutation", "strategies:update",
                        {"strategy_id": world.a.strategy_id, "template": bad}, token)
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "template.exits[0].type"
    assert api.q("strategies:get", {"strategy_id": world.a.strategy_id}, token) == before


def test_a_strategy_run_by_a_bot_cannot_be_removed_until_the_bot_stops(world: World) -> None:
    api, token = world.api, world.a.token
    strategy = api.m("strategies:create", {"template": TEMPLATE}, token)
    bot = api.m("bots:create", {"name": "idle", "strategy_id": strategy["id"],
                                "api_key_id": spare_key(api, token, "idle")}, token)
    refused = api.call("mutation", "strategies:remove", {"strategy_id": strategy["id"]}, token)
    assert refused.status_code == 409 and "'idle'" in refused.json()["error"]["message"]
    api.m("bots:setDesiredState", {"bot_id": bot["id"], "state": "stop"}, token)
    assert api.m("strategies:remove", {"strategy_id": strategy["id"]}, token) == {"ok": True}
    assert strategy["id"] not in [s["id"] for s in api.q("strategies:list", token=token)]
    gone = api.call("query", "strategies:get", {"strategy_id": strategy["id"]}, token)
    assert gone.status_code == 404


def test_the_catalogue_lists_components_and_the_schema(world: World) -> None:
    catalogue = world.api.q("strategies:catalogue")
    assert "ma_cross" in catalogue["components"]["signals"]
    assert catalogue["schema"]["title"] == "plutarc strategy template"
    assert "1d" in catalogue["timeframes"]
