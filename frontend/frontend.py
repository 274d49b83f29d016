"""The plutarc dashboard (Reflex): the app, its theme, and its pages — one module each in
frontend/pages, registered here from `PAGES`."""

from __future__ import annotations

import reflex as rx

from frontend.pages import (
    account,
    alerts,
    billing,
    bot_detail,
    bots,
    keys,
    login,
    operator,
    overview,
    regions,
    strategies,
    strategy_optimize,
)

PAGES = (overview, bots, bot_detail, account, strategies, strategy_optimize, keys, regions,
         billing, alerts, operator)

app = rx.App(
    theme=rx.theme(appearance="dark", accent_color="iris", gray_color="slate", radius="medium"),
    stylesheets=[],
)
app.add_page(login.login_page, route="/login", title="Log in · plutarc")
app.add_page(login.signup_page, route="/signup", title="Sign up · plutarc")
for module in PAGES:
    app.add_page(module.page, route=module.ROUTE, title=f"{module.TITLE} · plutarc",
                 on_load=module.ON_LOAD)
