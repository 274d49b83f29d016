"""`python -m plutarc` is the `plutarc` command (API worker processes start this way)."""

from plutarc.cli import app

app()
