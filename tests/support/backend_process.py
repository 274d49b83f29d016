"""A backend process for tests: `python -m tests.support.backend_process DSN PORT MODULE`
serves the app's functions plus those of MODULE on 127.0.0.1:PORT, with the scheduler
polling every 50 ms (as `plutarc up` runs it, only faster)."""

from __future__ import annotations

import asyncio
import importlib
import sys

from backend.app import create_app
from backend.runtime.scheduler import scheduler_service
from plutarc.server import make_server
from tests.support.servers import app_and_module_functions


def main() -> None:
    dsn, port, module = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    functions = app_and_module_functions(importlib.import_module(module))
    app = create_app(dsn, functions=functions, services=[scheduler_service(poll_s=0.05)])
    asyncio.run(make_server(app, "127.0.0.1", port, log_level="warning").serve())


if __name__ == "__main__":
    main()
