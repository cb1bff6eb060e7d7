"""A short evidence log to check, tamper with and export."""

from datetime import UTC, datetime, timedelta

import pytest

from gallra.evidence.log import append

START = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def make_entries(n: int, start: datetime = START) -> list:
    return [
        append(
            "delete",
            actor="enforce",
            at=start + timedelta(hours=i),
            rule="customer-data-after-relationship",
            record_type="person",
            refs=[f"P-{i}", f"P-{i}b"],
            customers=[f"C-{i}"],
            data={"kept_until": "2032-12-31", "note": "åäö"},
        )
        for i in range(1, n + 1)
    ]


@pytest.fixture
def five(db) -> list:
    return make_entries(5)
