"""Routing values: what PostgreSQL could find equal must get the same text."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from backend.reactive.keys import NULL, routing_value

U = uuid.UUID("8f14e45f-ceea-467f-a0e6-7a2b3d4c5e6f")


@pytest.mark.parametrize(
    "values",
    [
        (42, "42", " 42 ", "042", "+42", Decimal(42), Decimal("42.000"), 42.0, "4.2e1"),
        (1.5, "1.50", Decimal("1.5"), ".15e1"),
        (True, "t", "TRUE", "yes", "on", "y", 1, "1"),
        (False, "f", "false", "No", "off", 0, "0"),
        (U, str(U), str(U).upper(), U.hex, "{" + str(U) + "}"),
        ("ab", "ab  "),
    ],
)
def test_values_postgres_finds_equal_get_one_key(values: tuple) -> None:
    assert len({routing_value(v) for v in values}) == 1


@pytest.mark.parametrize(
    "a, b", [(1, 2), ("a", "b"), ("ab", " ab"), (None, "null"), (None, ""), ("Ab", "ab")]
)
def test_different_values_stay_apart(a: object, b: object) -> None:
    assert routing_value(a) != routing_value(b)


def test_null_has_its_own_marker() -> None:
    assert routing_value(None) == NULL
