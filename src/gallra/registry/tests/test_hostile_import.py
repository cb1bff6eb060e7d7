"""Issue 16, item 7: hostile JSON given to `gallra import`.

Nesting thousands of levels deep, a 5,000-digit number, `1e999999999`, NaN and Infinity, a
NUL character, lone surrogates, control characters in one-line fields, huge strings,
duplicate keys and wrong types: each is answered with the problem list (path, line, what is
wrong), exit status 2, and the database exactly as it was (every table's rows, digested).
"""

from __future__ import annotations

import copy
import hashlib
import io
import json
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command

from gallra.registry import jsonstream, models
from gallra.registry.importing import SPECS, ImportFailed, import_document, import_file

EXAMPLE = Path(__file__).resolve().parents[4] / "examples" / "import-example.json"
pytestmark = pytest.mark.django_db


def example() -> dict:
    return json.loads(EXAMPLE.read_text())


def database_state() -> tuple[dict[str, int], str]:
    """Every table's row count and one digest of all its rows, in primary-key order."""
    counts, digest = {}, hashlib.sha256()
    for model in apps.get_models():
        rows = list(model.objects.order_by("pk").values_list())
        counts[model._meta.db_table] = len(rows)
        digest.update(model._meta.db_table.encode())
        for row in rows:
            digest.update(
                repr(tuple(bytes(v) if isinstance(v, memoryview) else v for v in row)).encode()
            )
    return counts, digest.hexdigest()


@pytest.fixture
def stored():
    """The example already imported: a refused file must leave it exactly as it is."""
    import_file(EXAMPLE)
    state = database_state()
    assert state[0]["registry_customer"] == 2
    return state


def refused(tmp_path: Path, content: bytes | str) -> list[str]:
    path = tmp_path / "hostile.json"
    path.write_bytes(
        content.encode("utf-8", "surrogatepass") if isinstance(content, str) else content
    )
    with pytest.raises(ImportFailed) as failed:
        import_file(path)
    return [said(p) for p in failed.value.problems]


def said(problem) -> str:
    """`path: line N: what`: the problem without its record's name (test_import_every_problem.py
    tests that), as the expectations below are written."""
    line = [] if problem.line is None else [f"line {problem.line}"]
    return ": ".join([problem.path, *line, str(problem.message)])


def customer(**fields: str) -> str:
    """The example's second customer, with its keys set to raw JSON text (a line each)."""
    data = example()["customers"][1]
    for key in fields:
        data[key] = f"@@{key}@@"
    text = json.dumps(data, indent=1)
    for key, raw in fields.items():
        text = text.replace(f'"@@{key}@@"', raw)
    return text


def document(customer_text: str) -> str:
    return '{"prospects": [], "customers": [\n' + customer_text + "\n]}"


# Each class: (raw JSON file text, the problem expected, as "path: line N: words").
DEEP = 5000
HOSTILE = {
    "deep arrays in a customer": (
        '{"customers": [' + "[" * DEEP + "]" * DEEP + "]}",
        "customers[0]" + "[0]" * 16 + ": line 1: nested deeper than 16 levels",
    ),
    "deep objects in a field": (
        '{"customers": [{"ref": "C-9", "name": ' + '{"a": ' * DEEP + "1" + "}" * DEEP + "}]}",
        "customers[0].name" + ".a" * 15 + ": line 1: nested deeper than 16 levels",
    ),
    "just too deep, on line 3": (
        '{"prospects": [\n{"ref": "PR-9", "name": "X", "created": "2026-01-01",\n"note": '
        + "[" * 17
        + "]" * 17
        + "}]}",
        "prospects[0].note" + "[0]" * 15 + ": line 3: nested deeper than 16 levels",
    ),
    "deep inside a hold": (
        '{"holds": [{"ref": "H-9", "target": ' + "[" * 1200 + "]" * 1200 + "}]}",
        "holds[0].target" + "[0]" * 15 + ": line 1: nested deeper than 16 levels",
    ),
    "a 5,000-digit integer": (
        document(
            customer(
                accounts='[{"ref": "A-9", "person": "P-2004", "username": "u", '
                '"opened": "2026-01-01", "uid": ' + "9" * 5000 + "}]"
            )
        ),
        "customers[0].accounts[0].uid: line ",
    ),
    "a 5,000-digit negative integer": (
        '{"customers": [{"ref": "C-9", "name": -' + "1" * 5000 + "}]}",
        "customers[0].name: line 1: a number of 5,001 digits (at most 40)",
    ),
    "a 5,000-digit decimal": (
        '{"customers": [{"ref": "C-9", "name": "X", "invoices": [{"ref": "I-9", "number": '
        '"9", "issued": "2026-01-01", "fiscal_year_end": "2026-12-31", "amount": 0.'
        + "0" * 5000
        + "1}]}]}",
        "customers[0].invoices[0].amount: line 1: a number of 5,003 characters (at most 40)",
    ),
    "41 digits": (
        '{"customers": [{"ref": "C-9", "name": "X", "accounts": [], "people": [], "kind": '
        + "1" * 41
        + "}]}",
        "customers[0].kind: line 1: a number of 41 digits (at most 40)",
    ),
    "1e999999999 as an amount": (
        document(
            customer(
                invoices='[{"ref": "I-9", "number": "9", "issued": "2026-01-01", '
                '"fiscal_year_end": "2026-12-31", "amount": 1e999999999}]'
            )
        ),
        "customers[0].invoices[0].amount: line ",
    ),
    "-1e999999999 and 1e-999999999": (
        '{"prospects": [{"ref": "PR-9", "name": "X", "created": -1e999999999}, {"ref": '
        '"PR-8", "name": "Y", "created": 1e-999999999}]}',
        "prospects[0].created: line 1: -1e999999999 is out of range for a number",
    ),
    "1E+400 as a user id": (
        '{"customers": [{"ref": "C-9", "name": "X", "people": [{"ref": "P-9", "first_name": '
        '"A", "last_name": "B"}], "accounts": [{"ref": "A-9", "person": "P-9", "username": '
        '"u", "opened": "2026-01-01", "uid": 1E+400}]}]}',
        "customers[0].accounts[0].uid: line 1: 1E+400 is out of range for a number",
    ),
    "1e999999999 as a string amount": (
        '{"customers": [{"ref": "C-9", "name": "X", "invoices": [{"ref": "I-9", "number": '
        '"9", "issued": "2026-01-01", "fiscal_year_end": "2026-12-31", "amount": '
        '"1e999999999"}]}]}',
        "customers[0].invoices[0].amount: line 1: '1e999999999' is not an amount: write digits",
    ),
    "NaN as an amount": (
        document(
            customer(
                invoices='[{"ref": "I-9", "number": "9", "issued": "2026-01-01", '
                '"fiscal_year_end": "2026-12-31", "amount": NaN}]'
            )
        ),
        "customers[0].invoices[0].amount: line ",
    ),
    "Infinity as a date": (
        '{"prospects": [{"ref": "PR-9", "name": "X", "created": "2026-01-01", '
        '"last_activity": Infinity}]}',
        "prospects[0].last_activity: line 1: Infinity is not a number JSON allows",
    ),
    "-Infinity as a user id": (
        '{"customers": [{"ref": "C-9", "name": "X", "accounts": [{"uid": -Infinity}]}]}',
        "customers[0].accounts[0].uid: line 1: -Infinity is not a number JSON allows",
    ),
    "NaN as a string amount": (
        '{"customers": [{"ref": "C-9", "name": "X", "invoices": [{"ref": "I-9", "number": '
        '"9", "issued": "2026-01-01", "fiscal_year_end": "2026-12-31", "amount": "NaN"}]}]}',
        "customers[0].invoices[0].amount: line 1: 'NaN' is not an amount: write digits",
    ),
    "NUL in a ref": (
        '{"customers": [{"ref": "C-9\\u0000", "name": "X"}]}',
        "customers[0].ref: line 1: the text holds a NUL character",
    ),
    "NUL in a name": (
        document(customer(name='"Bolaget\\u0000 AB"')),
        "customers[0].name: line 4: the text holds a NUL character",
    ),
    "NUL in a key": (
        '{"customers": [{"ref": "C-9", "name": "X", "n\\u0000ame": "Y"}]}',
        'customers[0]."n\\u0000ame": line 1: the key holds a NUL character',
    ),
    "NUL in a secret": (
        '{"customers": [{"ref": "C-9", "name": "X", "credentials": [{"ref": "K-9", "system": '
        '"s", "secret": "\\u0000", "created": "2026-01-01"}]}]}',
        "customers[0].credentials[0].secret: line 1: the text holds a NUL character",
    ),
    "NUL in a role": (
        '{"customers": [{"ref": "C-9", "name": "X", "people": [{"ref": "P-9", "first_name": '
        '"A", "last_name": "B", "roles": ["user\\u0000"]}]}]}',
        "customers[0].people[0].roles[0]: line 1: the text holds a NUL character",
    ),
    "NUL in a hold's target": (
        '{"holds": [{"ref": "H-9", "target": "customer:C-1001\\u0000", "reason": "legal"}]}',
        "holds[0].target: line 1: the text holds a NUL character",
    ),
    "a lone high surrogate": (
        '{"customers": [{"ref": "C-9", "name": "A\\ud800B"}]}',
        "customers[0].name: line 1: the text holds a lone surrogate",
    ),
    "a lone low surrogate in an e-mail": (
        '{"prospects": [{"ref": "PR-9", "name": "X", "created": "2026-01-01", "email": '
        '"a\\udfff@b.example"}]}',
        "prospects[0].email: line 1: the text holds a lone surrogate",
    ),
    "two high surrogates in a key": (
        '{"customers": [{"ref": "C-9", "name": "X", "\\ud83d\\ud83d": 1}]}',
        'customers[0]."\\ud83d\\ud83d": line 1: the key holds a lone surrogate',
    ),
    "a line feed in a name": (
        '{"customers": [{"ref": "C-9", "name": "Bolaget\\nAB"}]}',
        "customers[0].name: line 1: holds a line break ('\\n' at character 8): this field is one "
        "line",
    ),
    "a carriage return in a first name": (
        document(customer(people='[{"ref": "P-9", "first_name": "Anna\\r", "last_name": "B"}]')),
        "customers[0].people[0].first_name: line 14: holds a line break ('\\r' at character 5)",
    ),
    "a tab in a username": (
        '{"customers": [{"ref": "C-9", "name": "X", "people": [{"ref": "P-9", "first_name": '
        '"A", "last_name": "B"}], "accounts": [{"ref": "A-9", "person": "P-9", "username": '
        '"ro\\tot", "opened": "2026-01-01"}]}]}',
        "customers[0].accounts[0].username: line 1: holds a control character ('\\t' at "
        "character 3)",
    ),
    "an escape in a document's title": (
        '{"customers": [{"ref": "C-9", "name": "X", "documents": [{"ref": "D-9", "title": '
        '"\\u001b[31mred", "created": "2026-01-01", "content": "c"}]}]}',
        "customers[0].documents[0].title: line 1: holds a control character ('\\x1b' at "
        "character 1)",
    ),
    "a line separator in a subject": (
        '{"correspondence": [{"ref": "M-9", "received": "2026-01-01", "subject": "a\\u2028b"}]}',
        "correspondence[0].subject: line 1: holds a line break ('\\u2028' at character 2)",
    ),
    "DEL in a ref": (
        '{"customers": [{"ref": "C-9\\u007f", "name": "X"}]}',
        "customers[0].ref: line 1: 'C-9\\x7f' holds a control character or line break ('\\x7f' at "
        "character 4); a ref is 1 to 100 characters",
    ),
    "a bell in a free text": (
        '{"prospects": [{"ref": "PR-9", "name": "X", "created": "2026-01-01"}], "quotes": '
        '[{"ref": "Q-9", "prospect": "PR-9", "created": "2026-01-01", "description": '
        '"ding\\u0007"}]}',
        "quotes[0].description: line 1: holds a control character ('\\x07' at character 5)",
    ),
    "a content of a million and one characters": (
        '{"customers": [{"ref": "C-9", "name": "X", "documents": [{"ref": "D-9", "title": '
        '"t", "created": "2026-01-01", "content": "' + "x" * 1_000_001 + '"}]}]}',
        "customers[0].documents[0].content: line 1: is 1,000,001 characters long; at most "
        "1,000,000 fit",
    ),
    "a name of 201 characters": (
        '{"customers": [{"ref": "C-9", "name": "' + "Å" * 201 + '"}]}',
        "customers[0].name: line 1: is 201 characters long; at most 200 fit",
    ),
    "a note of two million characters": (
        '{"holds": [{"ref": "H-9", "target": "C-1001", "reason": "legal", "note": "'
        + "n" * 2_000_000
        + '"}]}',
        "holds[0].note: line 1: is 2,000,000 characters long; at most 1,000,000 fit",
    ),
    "a huge e-mail is not echoed": (
        '{"prospects": [{"ref": "PR-9", "name": "X", "created": "2026-01-01", "email": "'
        + "a" * 100_000
        + '"}]}',
        "prospects[0].email: line 1: is 100,000 characters long; at most 254 fit",
    ),
    "a key twice in a customer": (
        document(customer(name='"Ett AB", "name": "Ett annat AB"')),
        "customers[0].name: line 4: this key appears more than once in the object",
    ),
    "a key twice in a person, on its own line": (
        '{"customers": [{"ref": "C-9", "name": "X", "people": [\n{"ref": "P-9", "first_name": '
        '"A",\n"last_name": "B",\n"last_name": "C"}]}]}',
        "customers[0].people[0].last_name: line 4: this key appears more than once",
    ),
    "a ref twice in a prospect": (
        '{"prospects": [{"ref": "PR-9", "name": "X", "created": "2026-01-01", "ref": "PR-8"}]}',
        "prospects[0].ref: line 1: this key appears more than once in the object",
    ),
    "brackets in a string, as a customer": (
        '{"customers": ["' + "[" * 40 + '"]}',
        "customers[0]: line 1: must be an object, not a string",
    ),
    "a section twice": (
        '{"prospects": [], "prospects": []}',
        "prospects: line 1: this section appears twice",
    ),
}


@pytest.mark.parametrize("case", HOSTILE, ids=list(HOSTILE))
def test_hostile_json_is_named_and_stores_nothing(stored, tmp_path, case):
    content, expected = HOSTILE[case]
    problems = refused(tmp_path, content)
    assert any(p.startswith(expected) for p in problems), problems
    assert all(len(p) < 600 for p in problems), "a problem echoes the hostile value"
    assert database_state() == stored


def test_every_refusal_in_a_file_is_listed_at_once(stored, tmp_path):
    content = (
        '{"prospects": [\n{"ref": "PR-9", "name": "X", "created": NaN},\n'
        '{"ref": "PR-8\\u0000", "name": "Y", "created": "2026-01-01"},\n'
        '{"ref": "PR-7", "name": "Z", "name": "Z", "created": "2026-01-01"},\n'
        '{"ref": "PR-6", "name": "W\\nV", "created": "2026-01-01"}]}'
    )
    assert refused(tmp_path, content) == [
        "prospects[0].created: line 2: NaN is not a number JSON allows",
        "prospects[1].ref: line 3: the text holds a NUL character (\\u0000), which no database "
        "column stores",
        "prospects[2].name: line 4: this key appears more than once in the object",
        "prospects[3].name: line 5: holds a line break ('\\n' at character 2): this field is one "
        "line",
    ]
    assert database_state() == stored


def test_an_item_larger_than_the_limit_is_refused_without_reading_it_whole(
    stored, tmp_path, monkeypatch
):
    monkeypatch.setattr(jsonstream, "MAX_ITEM_BYTES", 1 << 20)  # 64 MiB in use; 1 MiB here
    content = '{"customers": [{"ref": "C-9", "name": "' + "x" * (3 << 20) + '"}]}'
    assert refused(tmp_path, content) == [
        "customers[0]: line 1: larger than 1 MiB; split it (a text this long is no record)"
    ]
    assert database_state() == stored


# Every key of one record of each kind, given each JSON type: refused with the key's path (or
# taken where the type is right), never a crash.
WRONG = [None, True, 0, -1, 1.5, "", "x", [], [[]], {}, {"a": []}]
RECORDS = {
    "customer": ["customers", 1],
    "agreement": ["customers", 1, "agreements", 0],
    "person": ["customers", 0, "people", 0],
    "account": ["customers", 0, "accounts", 0],
    "request": ["customers", 0, "requests", 0],
    "document": ["customers", 0, "documents", 0],
    "credential": ["customers", 0, "credentials", 0],
    "invoice": ["customers", 1, "invoices", 0],
    "prospect": ["prospects", 0],
    "quote": ["quotes", 0],
    "correspondence": ["correspondence", 0],
    "hold": ["holds", 0],
}


@pytest.mark.parametrize("kind", RECORDS)
def test_wrong_types_in_every_field_are_named_never_a_crash(db, kind):
    import_file(EXAMPLE)
    before = database_state()
    where = RECORDS[kind]
    for key in [*SPECS[kind], *(["agreements", "people"] if kind == "customer" else [])]:
        for value in WRONG:
            data = example()
            record = data
            for step in where:
                record = record[step]
            record[key] = copy.deepcopy(value)
            try:
                import_document(data)
            except ImportFailed as exc:
                # Named where it is, or where it leads (a ref of the wrong type: the records
                # that name the right one no longer find it).
                assert exc.problems and all(p.path for p in exc.problems), (key, value)
                assert database_state() == before, (key, value)
            else:
                import_file(EXAMPLE)  # taken: put the example back as it was
                before = database_state()


def test_the_command_answers_with_the_problem_list_and_exit_2(stored, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(
        '{"customers": [\n{"ref": "C-9", "name": NaN},\n' + "[" * DEEP + "]" * DEEP + "]}"
    )
    err = io.StringIO()
    with pytest.raises(CommandError) as failed:
        call_command("import", str(bad), stdout=io.StringIO(), stderr=err)
    assert failed.value.returncode == 2
    assert str(failed.value) == "nothing was imported: 2 problems"
    assert err.getvalue().splitlines() == [
        f"{bad}: customers[0].name: line 2: customer C-9: NaN is not a number JSON allows",
        f"{bad}: customers[1]{'[0]' * 16}: line 3: nested deeper than 16 levels",
    ]
    assert database_state() == stored


def test_a_clean_file_still_imports_whole(db):
    """The checks refuse the hostile, not the ordinary: multi-line fields keep their lines."""
    data = example()
    data["customers"][0]["documents"][0]["content"] = "rad ett\r\n\trad två\n" + "x" * 999_980
    report = import_document(data)
    assert report.changed() == report.total == 23
    document = models.TechnicalDocument.objects.get(ref=data["customers"][0]["documents"][0]["ref"])
    assert document.customer.unseal(document.content).decode().startswith("rad ett\r\n\trad två")
