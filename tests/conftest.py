"""Fixtures for the whole suite: a migrated template database per session, a database per
test module cloned from it, and the API served over a real socket."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from tests.support.databases import (
    create_database,
    create_migrated_template,
    drop_database,
    server_dsn,
    unique_name,
)


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
def api_url(db_dsn: str) -> Iterator[str]:
    """The backend API for this module's database, over a real loopback socket."""
    from backend.app import create_app
    from tests.support.servers import ServerThread

    with ServerThread(create_app(db_dsn)) as url:
        yield url
