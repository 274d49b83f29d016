"""Guard component types: pass/fail on account state before an entry (never block exits)."""
