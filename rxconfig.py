"""Reflex configuration: the dashboard app lives in the `frontend` package
(frontend/frontend.py). Ports and the API's address come from `plutarc up` (frontend/serve.py)."""

import reflex as rx
from reflex_base.plugins.sitemap import SitemapPlugin

config = rx.Config(
    app_name="frontend",
    telemetry_enabled=False,
    show_built_with_reflex=False,
    plugins=[rx.plugins.RadixThemesPlugin()],
    disable_plugins=[SitemapPlugin],
)
