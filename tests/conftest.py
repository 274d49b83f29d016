"""Fixtures for the whole suite: a migrated template database per session, a database per
test module cloned from it, and the API served over a real socket — serving the app's
functions plus the ones the test module itself defines. Results are checked against their
declared types in every test run."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator

import pytest

from backend.runtime.results import CHECK_ENV
from backend.testing.databases import (
    create_database,
    create_migrated_template,
    drop_database,
    server_dsn,
    unique_name,
)

os.environ.setdefault(CHECK_ENV, "1")


@pytest.fixture(scope="session")
def pg_dsn() -> str:
    return server_dsn()


@pytest.fixture(scope="session")
def template_db(pg_dsn: str) -> Iterator[str]:
    name = asyncio.run(create_migrated_template(pg_dsn))
    yield name
    asyncio.run(drop_database(pg_dsn, name))


@pytest.fixture(scope="module")
def db_dsn(pg_dsn: str, template_db: str) -> Iterator[str]:
    """A fresh, migrated database for this test module; dropped afterwards."""
    name = unique_name("plutarc_t")
    dsn = asyncio.run(create_database(pg_dsn, name, template=template_db))
    yield dsn
    asyncio.run(drop_database(pg_dsn, name))


@pytest.fixture(scope="module")
def api_url(db_dsn: str, request: pytest.FixtureRequest) -> Iterator[str]:
    """The backend API for this module's database, over a real loopback socket."""
    from backend.app import create_app
    from tests.support.servers import ServerThread, app_and_module_functions

    with ServerThread(create_app(db_dsn, functions=app_and_module_functions(request.module))) as url:
        yield url
