"""The strategies page's deploy dialog: strategy version, API key, provider and region — the
regions from `regions:list` with their distance to the exchange's matching engine, estimated
and measured latency, closest first, and the guidance for the strategy's timeframe — then
`bots:create`; the page moves to the new bot, which shows provisioning, then online, live. A
plan limit or a refused lifecycle move shows the backend's message."""

from __future__ import annotations

from typing import Any

import reflex as rx

from frontend import api, regions_view
from frontend.state.auth import AuthState


class DeployState(AuthState):
    strategy_id: str = ""
    bot_name: str = ""
    versions: list[str] = []
    version: str = ""
    key_labels: list[str] = []
    key: str = ""
    providers: list[str] = []
    provider: str = "local"
    region_labels: list[str] = []
    region: str = ""
    guidance: str = ""
    deploy_error: str = ""
    _keys: dict[str, int] = {}  # label shown -> api key id
    _regions: dict[str, str] = {}  # label shown -> region code
    _listing: dict[str, Any] = {}
    _exchange: str = "local"

    @rx.event
    async def load(self, strategy_id: str):
        """Opening the dialog: the strategy's versions, the trader's keys, the regions."""
        self.deploy_error, self.strategy_id = "", strategy_id
        try:
            strategy = await self._run("query", "strategies:get",
                                       {"strategy_id": int(strategy_id)})
            keys = await self._run("query", "apiKeys:list")
            self._listing = await self._run("query", "regions:list")
        except api.DashboardError as exc:
            if exc.expired:
                return self._end_session(exc.message)
            self.deploy_error = exc.message
            return None
        self.bot_name = f"{strategy['name']} bot"
        self.versions = [str(v["version"]) for v in strategy["versions"]]
        self.version = self.versions[-1]
        self._keys = {f"{k['label']} ({k['exchange']}{', testnet' if k['testnet'] else ''}, "
                      f"…{k['key_last4']})": k["id"] for k in keys}
        self.key_labels = list(self._keys)
        self.key = self.key_labels[0] if self.key_labels else ""
        self._exchange = keys[0]["exchange"] if keys else "local"
        self.providers = [p["provider"] for p in self._listing["providers"]]
        self.guidance = (f"{strategy['timeframe']} candles: "
                         + regions_view.guidance(self._listing, strategy["timeframe"]))
        self._regions_for("local")
        return None

    def _regions_for(self, provider: str) -> None:
        self.provider = provider
        rows = [r for r in regions_view.region_rows(self._listing, self._exchange)
                if r["provider"] == provider]
        self._regions = {regions_view.label(r): r["code"] for r in rows}
        self.region_labels = list(self._regions)
        self.region = self.region_labels[0] if rows else ""

    @rx.event
    def pick_provider(self, provider: str):
        self._regions_for(provider)

    @rx.event
    def pick(self, which: str, value: str):
        if which == "version":
            self.version = value
        elif which == "key":
            self.key = value
        elif which == "region":
            self.region = value
        elif which == "name":
            self.bot_name = value

    @rx.event
    async def deploy(self):
        self.deploy_error = ""
        if self.key not in self._keys:
            self.deploy_error = "Add an API key first (API keys page)."
            return None
        try:
            bot = await self._run("mutation", "bots:create", {
                "name": self.bot_name, "strategy_id": int(self.strategy_id),
                "strategy_version": int(self.version), "api_key_id": self._keys[self.key],
                "provider": self.provider, "region": self._regions.get(self.region, ""),
            })
        except api.DashboardError as exc:
            if exc.expired:
                return self._end_session(exc.message)
            self.deploy_error = exc.message
            return None
        return rx.redirect(f"/bots/{bot['id']}")


def _labelled(label: str, control: rx.Component) -> rx.Component:
    return rx.vstack(rx.text(label, size="1", weight="medium"), control, spacing="1",
                     width="100%")


def dialog(strategy_id: rx.Var) -> rx.Component:
    s = DeployState
    return rx.dialog.root(
        rx.dialog.trigger(rx.button("Deploy as a bot…", color_scheme="green", id="deploy-open",
                                    on_click=s.load(strategy_id), width="fit-content")),
        rx.dialog.content(
            rx.dialog.title("Deploy a bot"),
            rx.vstack(
                _labelled("Bot name", rx.input(value=s.bot_name, id="deploy-name",
                                               on_change=lambda v: s.pick("name", v))),
                _labelled("Strategy version", rx.select(
                    s.versions, value=s.version, id="deploy-version",
                    on_change=lambda v: s.pick("version", v))),
                _labelled("API key", rx.select(s.key_labels, value=s.key, id="deploy-key",
                                               on_change=lambda v: s.pick("key", v))),
                _labelled("Provider", rx.select(s.providers, value=s.provider,
                                                id="deploy-provider",
                                                on_change=s.pick_provider)),
                _labelled("Region (closest to the exchange first)", rx.select(
                    s.region_labels, value=s.region, id="deploy-region",
                    on_change=lambda v: s.pick("region", v))),
                rx.text(s.guidance, size="1", color_scheme="gray", id="deploy-guidance"),
                rx.cond(s.deploy_error != "", rx.callout(s.deploy_error, icon="triangle_alert",
                                                         color_scheme="red",
                                                         id="deploy-error")),
                rx.hstack(rx.dialog.close(rx.button("Cancel", variant="soft",
                                                    color_scheme="gray")),
                          rx.button("Deploy", on_click=s.deploy, id="deploy-go",
                                    color_scheme="green"),
                          justify="end", width="100%"),
                spacing="3", width="100%",
            ),
        ),
    )
