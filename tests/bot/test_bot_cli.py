"""`plutarc bot` takes its secrets from the environment or files only, never the command line."""

from __future__ import annotations

import os
import subprocess
import sys


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PLUTARC_BOT_")}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        check=False,
        env={**clean, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_bot_refuses_to_start_without_token_and_key_in_its_environment() -> None:
    result = _run("--backend", "http://127.0.0.1:9")
    assert result.returncode == 2
    assert "PLUTARC_BOT_TOKEN" in result.stderr and "PLUTARC_BOT_DATA_KEY" in result.stderr


def test_bot_has_no_command_line_option_for_secrets() -> None:
    result = _run("--backend", "http://127.0.0.1:9", "--token", "t0ken")
    assert result.returncode == 2 and "No such option" in result.stderr


def test_a_malformed_data_key_file_is_refused_without_echoing_it(tmp_path) -> None:
    key = tmp_path / "key"
    key.write_text("c2hvcnQ=")  # "short": not 32 bytes
    result = _run(
        "--backend",
        "http://127.0.0.1:9",
        env={"PLUTARC_BOT_TOKEN": "tok", "PLUTARC_BOT_DATA_KEY_FILE": str(key)},
    )
    assert result.returncode == 2 and "32 bytes" in result.stderr
    assert "c2hvcnQ=" not in result.stderr
