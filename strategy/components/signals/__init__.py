"""Signal component types: each scores the market in [-1, 1] on every closed candle."""
