"""Plutarc's domain rules as plain code: lifecycle, KPIs, equity, retention, endpoints, keys."""
