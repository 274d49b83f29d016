"""The stateless execution layer: market data, strategy, orders, positions, reporting."""
