"""The committed reflex.lock/package.json keeps one form whoever wrote it last: Reflex
renders it on one line, bun rewrites it indented when it adds or removes a package; the
dashboard build settles it back (frontend/serve.py), so a build leaves the tree clean."""

from __future__ import annotations

import json
from pathlib import Path

from frontend.serve import LOCKED_PACKAGE_JSON, canonical_package_json, settle_package_json


def test_the_committed_package_json_is_already_in_the_one_form() -> None:
    text = LOCKED_PACKAGE_JSON.read_text()
    assert canonical_package_json(text) == text  # else every build would rewrite it


def test_bun_s_indented_rewrite_is_settled_back_to_the_committed_form(tmp_path: Path) -> None:
    committed = LOCKED_PACKAGE_JSON.read_text()
    data = json.loads(committed)
    # what bun writes after `bun add`: indented, a new package in its sorted place
    data["dependencies"] = {"zz-added": "1.0.0", **data["dependencies"]}
    written = tmp_path / "package.json"
    written.write_text(json.dumps(data, indent=2))
    settle_package_json(written)
    settled = written.read_text()
    assert "\n" not in settled and settled == canonical_package_json(settled)
    assert list(json.loads(settled)["dependencies"])[-1] == "zz-added"
    del data["dependencies"]["zz-added"]
    written.write_text(json.dumps(data, indent=2))
    settle_package_json(written)
    assert written.read_text() == committed
