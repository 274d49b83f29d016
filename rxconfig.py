"""Reflex configuration: the dashboard app lives in the `frontend` package."""

import reflex as rx

config = rx.Config(app_name="frontend", telemetry_enabled=False)
