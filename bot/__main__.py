"""`python -m bot --backend URL`: the same as `plutarc bot`."""

import typer

from bot.cli import bot

if __name__ == "__main__":
    typer.run(bot)
