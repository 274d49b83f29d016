"""Filter component types: pass/fail on market state; every filter must pass to enter."""
