"""A dataset declaration is checked by `gallra policy check`: its shape and consistency from
the file alone, and its tables and columns against the real database, each with its line."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from gallra import config
from gallra.subjects.tests.conftest import DATASETS


def check(path) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("policy", "check", str(path), stdout=out, stderr=err)
    except CommandError as exc:
        return exc.returncode, err.getvalue()
    return 0, out.getvalue()


def write(tmp_path, datasets: str):
    path = tmp_path / "edited.toml"
    path.write_text(config.DEFAULT_POLICY.read_text(encoding="utf-8") + datasets)
    return path


def line_of(path, needle: str | tuple) -> int:
    """The line holding `needle`; ("after", anchor, needle): the first one after `anchor`;
    ("header", anchor): the table header above `anchor`."""
    lines = path.read_text(encoding="utf-8").splitlines()
    if isinstance(needle, tuple):
        start = line_of(path, needle[1])
        if needle[0] == "header":
            return next(n for n in range(start, 0, -1) if lines[n - 1].startswith("[["))
        return next(n for n in range(start, len(lines) + 1) if needle[2] in lines[n - 1])
    hits = [n for n, line in enumerate(lines, start=1) if needle in line]
    assert len(hits) == 1, (needle, hits)
    return hits[0]


def test_the_declaration_passes_against_the_real_databases(connected):
    code, out = check(connected.policy_path)
    assert code == 0, out


@pytest.mark.parametrize(
    ("old", "new", "needle", "message"),
    [
        (
            'name = "order_lines"',
            'name = "order_line"',
            'name = "order_line"',
            "table 'order_line' does not exist in dataset 'shop' (PostgreSQL",
        ),
        (
            'columns = { note = "requests" }\ntext = ["note"]',
            'columns = { notes = "requests" }\ntext = ["notes"]',
            'columns = { notes = "requests" }',
            "column 'notes' does not exist in table 'calls'",
        ),
        (
            'dated_by = "fiscal_year_end"',
            'dated_by = "fiscal_year"',
            'dated_by = "fiscal_year"',
            "column 'fiscal_year' does not exist in table 'invoices'",
        ),
        (
            'name = "messages"',
            'name = "message"',
            'name = "message"',
            "table 'message' does not exist in dataset 'support' (MariaDB/MySQL",
        ),
    ],
)
def test_a_table_or_column_the_database_lacks_is_reported_at_its_line(
    connected, tmp_path, old, new, needle, message
):
    assert DATASETS.count(old) == 1
    path = write(tmp_path, DATASETS.replace(old, new))
    code, err = check(path)
    assert code == 2
    assert f"{path}:{line_of(path, needle)}: " in err and message in err, err


def test_an_unreachable_dataset_is_reported_at_its_url(connected, tmp_path, monkeypatch):
    monkeypatch.setenv("GALLRA_TEST_SUPPORT_URL", connected.urls["support"].replace("3306", "3399"))
    code, err = check(connected.policy_path)
    assert code == 2
    line = line_of(connected.policy_path, 'url_env = "GALLRA_TEST_SUPPORT_URL"')
    assert f":{line}: dataset[1].url_env: cannot reach dataset 'support' (MariaDB/MySQL" in err, err


def test_offline_check_does_not_connect(connected, monkeypatch):
    monkeypatch.setenv("GALLRA_TEST_SUPPORT_URL", connected.urls["support"].replace("3306", "3399"))
    out = io.StringIO()
    call_command("policy", "check", str(connected.policy_path), "--offline", stdout=out)
    assert ": ok" in out.getvalue()


@pytest.mark.parametrize(
    ("old", "new", "needle", "message"),
    [
        (
            'url_env = "GALLRA_TEST_CRM_URL"',
            'url = "postgresql://app:hemligt@db/crm"',
            "hemligt",
            "the url holds a password",
        ),
        (
            'url_env = "GALLRA_TEST_CRM_URL"',
            'url = "oracle://db/crm"',
            "oracle://",
            "must be a postgresql://, mysql:// (MariaDB) or sqlite:/// url",
        ),
        (
            'columns = { note = "requests" }',
            'columns = { note = "tickets" }',
            'columns = { note = "tickets" }',
            "names category 'tickets'",
        ),
        (
            'via = { table = "orders", column = "order_id" }',
            'via = { table = "lines", column = "order_id" }',
            'table = "lines"',
            "names table 'lines', which is not declared before it",
        ),
        (
            'set_null = ["delivery_address", "customer_id"]',
            'set_null = ["delivery_address"]',
            'set_null = ["delivery_address"]',
            "add 'customer_id' to `set_null`",
        ),
        (
            'set_null = ["gift_message"]',
            "",
            ("after", 'name = "order_lines"', "erase ="),
            '"overwrite" needs `set` or `set_null`',
        ),
        (
            'kept_by = "accounting-records"',
            'kept_by = "correspondence-and-sales"',
            'kept_by = "correspondence-and-sales"',
            "does not override erasure",
        ),
        (
            'identity = { buyer_email = "email" }',
            'identity = { buyer = "email" }',
            'identity = { buyer = "email" }',
            "column 'buyer' must also be listed in `columns`",
        ),
        (
            'identity = { buyer_email = "email" }',
            "",
            ("header", 'name = "invoices"'),
            "needs an `identity` column",
        ),
        (
            'identity = { buyer_email = "email" }',
            'identity = { buyer_email = "phone" }',
            'identity = { buyer_email = "phone" }',
            "identity",
        ),
        (
            'name = "calls"',
            'name = "calls; DROP TABLE x"',
            "DROP TABLE",
            "is not a table or column name",
        ),
    ],
)
def test_an_inconsistent_declaration_is_reported_at_its_line(tmp_path, old, new, needle, message):
    assert DATASETS.count(old) == 1
    path = write(tmp_path, DATASETS.replace(old, new))
    code, err = check(path)
    assert code == 2, err
    assert f"{path}:{line_of(path, needle)}: " in err and message in err, err
