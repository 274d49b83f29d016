"""Helpers for tests of other parts (the bot, the main job) that need a running exchange.

In an async test, run it on the test's own loop:

    async with ExchangeServer(ExchangeConfig(clock="manual", ca_file=tmp_path / "ca.pem")) as ex:
        ...  # ex.rest_url, ex.ws_public_url, ex.ws_private_url, ex.ca_file, ex.admin_url

From synchronous code (or to keep the exchange off the code under test's loop), run it in a
background thread:

    with running_exchange(clock="manual") as ex:
        admin = SyncAdminClient(ex.admin_url, ex.ca_file)
        admin.advance(ms=60_000)

As a separate process, pass a free port and a CA path (it prints "Ctrl-C stops it." once it
serves, and stops on SIGTERM): `python -m exchange --port 18443 --ca-file ca.pem`.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator

from exchange.config import ExchangeConfig
from exchange.server import ExchangeServer


class ExchangeThread:
    """An ExchangeServer on its own event loop in a daemon thread."""

    def __init__(self, config: ExchangeConfig) -> None:
        self.server = ExchangeServer(config)
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="plutarc-exchange", daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self.server.start())
        except Exception as err:
            self._error = err
            self._ready.set()
            return
        self._ready.set()
        self._loop.run_forever()
        self._loop.run_until_complete(self.server.stop())
        self._loop.close()

    def start(self, timeout: float = 30.0) -> ExchangeServer:
        self._thread.start()
        if not self._ready.wait(timeout):
            raise TimeoutError("the exchange did not start in time")
        if self._error is not None:
            raise RuntimeError("the exchange failed to start") from self._error
        return self.server

    def call(self, fn, *args):
        """Run `fn(*args)` on the exchange's loop (thread-safe access to its state)."""

        async def run():
            return fn(*args)

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(30)

    def stop(self) -> None:
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(30)


@contextlib.contextmanager
def running_exchange(config: ExchangeConfig | None = None, **overrides) -> Iterator[ExchangeServer]:
    """Context manager: an exchange running in a background thread; yields the server (its
    URLs and CA file). `overrides` are ExchangeConfig fields, used when no config is given."""
    runner = ExchangeThread(config or ExchangeConfig(**overrides))
    try:
        yield runner.start()
    finally:
        runner.stop()
