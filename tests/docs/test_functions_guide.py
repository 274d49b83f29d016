"""docs/functions.md's example, executed as written: its function module and its test (the
code blocks tagged with a file name) run against a real database, on the table its
migration block creates."""

from __future__ import annotations

import asyncio
import importlib
import inspect
import re
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from backend.db.migrate import install_triggers
from backend.testing import TEMPLATE_ENV
from backend.testing.databases import create_database, drop_database, unique_name

GUIDE = Path(__file__).parents[2] / "docs" / "functions.md"
BLOCK = re.compile(r"^```(\w+) file=(\S+)\n(.*?)^```$", re.M | re.S)


def blocks() -> dict[str, str]:
    return {name: body for _, name, body in BLOCK.findall(GUIDE.read_text())}


@pytest.fixture
def guide_template(pg_dsn: str, template_db: str) -> Iterator[str]:
    """The migrated schema plus what the guide's migration creates."""
    name = unique_name("plutarc_guide")

    async def create() -> None:
        dsn = await create_database(pg_dsn, name, template=template_db)
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute(blocks()["migration"])
        finally:
            await conn.close()
        await install_triggers(dsn)

    asyncio.run(create())
    yield name
    asyncio.run(drop_database(pg_dsn, name))


@pytest.fixture
def guide_package(tmp_path: Path) -> Iterator[str]:
    package = f"guide_{uuid.uuid4().hex[:8]}"
    folder = tmp_path / package
    folder.mkdir()
    (folder / "__init__.py").write_text("")
    found = blocks()
    (folder / "notes.py").write_text(found["backend/functions/notes.py"])
    test_code = found["tests/test_notes.py"]
    assert "from backend.functions import notes\n" in test_code
    (folder / "test_notes.py").write_text(
        test_code.replace("from backend.functions import notes\n",
                          f"from {package} import notes\n"))
    sys.path.insert(0, str(tmp_path))
    try:
        yield package
    finally:
        sys.path.remove(str(tmp_path))
        for module in [m for m in sys.modules if m.startswith(package)]:
            del sys.modules[module]


def test_the_guide_has_the_blocks_the_test_runs() -> None:
    assert set(blocks()) == {"migration", "backend/functions/notes.py", "tests/test_notes.py"}
    model = GUIDE.read_text().split("```python\n", 1)[1].split("```", 1)[0]
    compile(model, "model", "exec")  # the model block is valid Python


async def test_the_guides_example_module_and_test_pass(
        guide_template: str, guide_package: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TEMPLATE_ENV, guide_template)
    module = importlib.import_module(f"{guide_package}.test_notes")
    tests = [fn for name, fn in vars(module).items()
             if name.startswith("test_") and inspect.iscoroutinefunction(fn)]
    assert len(tests) == 1
    for test in tests:
        await test()
