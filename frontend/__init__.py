"""The Reflex dashboard for traders (rxconfig.py at the repository root points here)."""
