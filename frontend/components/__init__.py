"""Shared pieces of every page: the frame (`layout`), KPI cards, tables, charts and the
loading / empty / error states."""
