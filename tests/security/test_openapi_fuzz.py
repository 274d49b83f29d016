"""schemathesis against `/api/openapi.json`, anonymous and signed in: generated arguments for
every operation (bounded examples, a fixed seed) must never produce a server error, a status
code the document does not list, or a body that violates its schema.

The operations are driven with hypothesis directly (schemathesis's pytest plugin does not
load under this pytest), one bounded run per operation, every failure collected."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, seed, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tests.security.conftest import Backend, user_token

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
EXAMPLES = 20
# signing out or changing the password would end the fuzzing user's session midway
SKIPPED = ["auth_logout", "auth_changePassword"]


def fuzz_all(url: str, headers: dict[str, str]) -> list[str]:
    """Run every operation's bounded examples; the failures, each named by operation."""
    schema = schemathesis.openapi.from_url(url + "/api/openapi.json").exclude(
        operation_id=SKIPPED)
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @seed(19)
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def run(case: Any) -> None:
            case.call_and_validate(headers=headers, checks=CHECKS)

        try:
            run()
        except Exception as exc:  # a check failed: keep going, report them all
            failures.append(f"{operation.label}: {str(exc)[:600]}")
    assert operations > 30  # every public function was reached
    return failures


@pytest.fixture(scope="module")
def fuzz_token(backend: Backend) -> str:
    return asyncio.run(user_token(backend.url, "fuzz@example.com", address="10.19.0.1"))


def test_anonymous_callers_get_no_server_error(backend: Backend) -> None:
    failures = fuzz_all(backend.url, {})
    assert not failures, "\n".join(failures)
    assert backend.tracebacks() == 0


def test_a_signed_in_trader_gets_no_server_error(backend: Backend, fuzz_token: str) -> None:
    failures = fuzz_all(backend.url, {"Authorization": f"Bearer {fuzz_token}"})
    assert not failures, "\n".join(failures)
    assert backend.tracebacks() == 0
