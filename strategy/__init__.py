"""Indicators, components, template schema, evaluator and backtester shared by the bot and the backend."""
