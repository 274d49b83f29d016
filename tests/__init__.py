"""plutarc's test suite (pytest, against a real PostgreSQL)."""
