"""The plutarc wheel a `gcp` instance installs (plutarc is on no public index): built from
this checkout, so a redeploy always brings the backend's own version, and pinned by SHA-256."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def build_wheel(out_dir: Path, source: Path = ROOT) -> tuple[Path, str]:
    """Build the wheel of `source` into `out_dir`; returns its path and SHA-256 (hex).
    pip builds it in an isolated environment, so it fetches setuptools from the index."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
             "--wheel-dir", tmp, str(source)],
            check=True, capture_output=True,
        )
        built = next(Path(tmp).glob("plutarc-*.whl"))
        target = out_dir / built.name
        target.write_bytes(built.read_bytes())
    return target, hashlib.sha256(target.read_bytes()).hexdigest()
