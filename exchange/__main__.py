"""`python -m exchange [options]` runs the exchange standalone (same options as
`plutarc exchange`); handy for starting it as a subprocess."""

import typer

from exchange.cli import main

typer.run(main)
