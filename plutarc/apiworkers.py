"""More than one API process: `plutarc api` serves the API alone, and `plutarc up
--api-workers N` runs N of them on one port.

On one machine the N processes each bind the same host:port with SO_REUSEPORT and the
kernel spreads new connections over them; on several machines run `plutarc api` on each,
against one PostgreSQL, behind any load balancer (docs/scaling.md). Every process has its own
pool and exactly one LISTEN connection. Versions come from PostgreSQL, so a client may read
its writes through any process (a mutation's version from one is honoured by another's
subscriptions).

The database URL reaches the worker processes through the environment (DATABASE_URL), never
their command line (which `ps` shows to every user of the machine).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys

from plutarc.server import EmbeddedServer, make_server

STOP_TIMEOUT_S = 15.0


def listening_socket(host: str, port: int, reuse_port: bool) -> socket.socket:
    """A bound TCP socket for uvicorn; with `reuse_port` other processes may bind it too."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


class ApiWorkers:
    """`count` extra `plutarc api --reuse-port` processes on host:port (0: none)."""

    def __init__(self, count: int, host: str, port: int, dsn: str,
                 env: dict[str, str] | None = None) -> None:
        self.count, self.host, self.port, self.dsn = count, host, port, dsn
        self.env = env or {}  # more private settings for the workers (billing's keys)
        self.procs: list[asyncio.subprocess.Process] = []

    async def start(self) -> None:
        env = {**os.environ, **self.env, "DATABASE_URL": self.dsn}
        argv = [sys.executable, "-m", "plutarc", "api", "--host", self.host,
                "--port", str(self.port), "--reuse-port"]
        for _ in range(self.count):
            self.procs.append(await asyncio.create_subprocess_exec(*argv, env=env))

    async def stop(self) -> None:
        for proc in self.procs:
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                await asyncio.wait_for(proc.wait(), STOP_TIMEOUT_S)
            except TimeoutError:
                proc.kill()
                await proc.wait()
        self.procs.clear()


async def serve_api(dsn: str, host: str, port: int, reuse_port: bool) -> None:
    """Serve the API alone until SIGINT/SIGTERM (the `plutarc api` command)."""
    from backend.app import create_app
    from backend.billing.config import from_env
    from backend.billing.service import billing_service
    from backend.optimize.service import optimize_service

    app = create_app(dsn, services=[billing_service(from_env(), record=False),
                                    optimize_service()])
    server: EmbeddedServer = make_server(app, host, port, log_level="info")
    sock = listening_socket(host, port, reuse_port)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, lambda: setattr(server, "should_exit", True))
    try:
        await server.serve(sockets=[sock])
    finally:
        with contextlib.suppress(OSError):
            sock.close()
