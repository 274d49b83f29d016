"""Build (only when something changed) and serve the dashboard: `python -m frontend.serve
--port 3000 --api http://127.0.0.1:8000`. `plutarc up` runs it as a child process.

Offline by design (see DEPENDENCIES.md): bun comes from the npm registry as a devDependency
of frontend/toolchain/package.json, Reflex's caches stay inside the project (`.reflex/`),
no version check and no telemetry. The production build is one port (pages, assets and
Reflex's event socket); it is redone only when the sources, Reflex's version
or the port (compiled into the pages) changed — the stamp in `.web/plutarc-build` says which.

The committed `reflex.lock/package.json` is left in one form after every build
(`canonical_package_json`): Reflex renders it on one line, but bun rewrites it indented
whenever it adds or removes a package, so each build after a package change used to flip the
tracked file between the two and leave developers a dirty tree.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

from frontend.api import API_URL_ENV

ROOT = Path(__file__).resolve().parent.parent
TOOLCHAIN = ROOT / "frontend" / "toolchain"
BUN = TOOLCHAIN / "node_modules" / ".bin" / "bun"
WEB = ROOT / ".web"
STAMP = WEB / "plutarc-build"
LOCKED_PACKAGE_JSON = ROOT / "reflex.lock" / "package.json"
NPM_REGISTRY = "https://registry.npmjs.org/"


def reflex_env(port: int, api_url: str) -> dict[str, str]:
    """The environment of every Reflex command the dashboard runs."""
    return {
        **os.environ,
        "REFLEX_BUN_PATH": str(BUN),
        "NPM_CONFIG_REGISTRY": os.environ.get("NPM_CONFIG_REGISTRY", NPM_REGISTRY),
        "REFLEX_CHECK_LATEST_VERSION": "0",
        "REFLEX_TELEMETRY_ENABLED": "0",
        "REFLEX_DIR": str(ROOT / ".reflex"),
        "BUN_INSTALL_CACHE_DIR": str(ROOT / ".reflex" / "bun-cache"),
        "REFLEX_FRONTEND_PORT": str(port),
        "REFLEX_BACKEND_PORT": str(port),
        API_URL_ENV: api_url,
    }


def ensure_bun() -> None:
    """Install bun from the npm registry (once) into frontend/toolchain."""
    if BUN.exists():
        return
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit("the dashboard needs npm (Node.js) to install bun: apt-get install npm")
    subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=TOOLCHAIN,
                   check=True)


def source_hash(port: int) -> str:
    digest = hashlib.sha256(f"{version('reflex')} port {port}\n".encode())
    # reflex.lock/ is left out: the build itself rewrites it from these sources
    files = [ROOT / "rxconfig.py", ROOT / "assets" / "favicon.ico",
             *sorted(p for p in (ROOT / "frontend").rglob("*")
                     if p.suffix in (".py", ".js") and "node_modules" not in p.parts)]
    for path in files:
        if path.is_file():
            digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def build(port: int, env: dict[str, str], force: bool = False) -> bool:
    """Compile and bundle the app unless the last build is of the same sources; True if
    it built."""
    wanted = source_hash(port)
    if not force and STAMP.exists() and STAMP.read_text() == wanted \
            and (WEB / "build" / "client" / "index.html").exists():
        return False
    STAMP.unlink(missing_ok=True)
    try:
        subprocess.run([sys.executable, "-m", "reflex", "export", "--frontend-only",
                        "--no-zip", "--env", "prod", "--loglevel", "warning"], cwd=ROOT,
                       env=env, check=True, stdout=subprocess.DEVNULL)
    finally:
        settle_package_json(LOCKED_PACKAGE_JSON)
    STAMP.write_text(wanted)
    return True


def canonical_package_json(text: str) -> str:
    """The one form of reflex.lock/package.json: one line as Reflex renders it, keys in the
    order given, dependency sections sorted by name as bun sorts them."""
    data = json.loads(text)
    for section in ("dependencies", "devDependencies", "overrides"):
        if isinstance(data.get(section), dict):
            data[section] = dict(sorted(data[section].items()))
    return json.dumps(data)


def settle_package_json(path: Path) -> None:
    """Rewrite `path` in the canonical form if the build left it in another (only then, so
    an unchanged file keeps its timestamp)."""
    if not path.exists():
        return
    text = path.read_text()
    canonical = canonical_package_json(text)
    if text != canonical:
        path.write_text(canonical)


def serve(host: str, port: int, env: dict[str, str]) -> None:
    """Serve the built app and Reflex's backend on one port, with Granian (as Reflex's prod
    mode does) in one worker — the tabs' live tasks live in that process — and the hashed
    bundles under /assets served by Granian itself (Rust) rather than by the Python app:
    a fresh browser loads them in parallel without queueing behind Reflex's events."""
    os.environ.update(env)
    os.chdir(ROOT)
    from granian.constants import Interfaces
    from granian.log import LogLevels
    from granian.server import Server
    from reflex_base.constants import Env
    from reflex_base.environment import environment

    environment.REFLEX_ENV_MODE.set(Env.PROD)
    environment.REFLEX_SKIP_COMPILE.set(True)
    environment.REFLEX_MOUNT_FRONTEND_COMPILED_APP.set(True)
    Server(target="frontend.frontend:app", factory=True, address=host, port=port,
           interface=Interfaces.ASGI, workers=1, log_level=LogLevels.warning,
           static_path_route=["/assets"], static_path_mount=[WEB / "build" / "client" / "assets"],
           static_path_expires=365 * 86400).serve()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3000)
    parser.add_argument("--api", default="http://127.0.0.1:8000", help="the plutarc API")
    parser.add_argument("--build-only", action="store_true")
    args = parser.parse_args()
    env = reflex_env(args.port, args.api)
    ensure_bun()
    built = build(args.port, env)
    print(f"dashboard build: {'rebuilt' if built else 'unchanged, reused'}", flush=True)
    if not args.build_only:
        serve(args.host, args.port, env)


if __name__ == "__main__":
    main()
