"""Exit component types: each contributes a price level or a condition to the position kernel."""
