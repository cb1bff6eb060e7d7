"""Issue 19: `gallra import` lists every problem of a file in one run.

A second provider imported 300 customers and was shown 5 problems, then, with those fixed,
2 more: a record with a problem skipped the checks across records, and duplicates and
unknown references were only looked for once everything else was right. Here a file with a
problem of every stage (a syntax error in one record, an organisation number and a
personnummer with a wrong check digit, a duplicate ref, a reference to a customer that is
nowhere, a value longer than its database column, an agreement that ends before it starts)
is refused with all of them at once, each named once with path, line and record, nothing
stored; and with exactly those fixed, the same file imports.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation
from pydantic import ValidationError

from gallra import idnumbers
from gallra.policy.model import Organisation
from gallra.policy.sentences import translated
from gallra.registry import importing, jsonstream, models
from gallra.registry.importing import SPECS, ImportFailed, import_document, import_file

pytestmark = pytest.mark.django_db
EXAMPLE = Path(__file__).resolve().parents[4] / "examples" / "import-example.json"
LONG_EMAIL = "a" * 60 + "@" + ".".join(c * 60 for c in "bcde") + ".se"  # 307 characters


def rows() -> dict[str, int]:
    """Rows in every registry table, the customers' keys included."""
    counted = {m.record_type: m.objects.count() for m in models.RECORD_MODELS}
    counted["customer key"] = models.CustomerKey.objects.count()
    return counted


def customers(fixed: bool) -> list[dict]:
    person = {"ref": "P-1", "first_name": "Anna", "last_name": "Ek", "roles": ["contact"]}
    return [
        {
            "ref": "C-1",
            "name": "Ett AB",
            "org_number": "556016-0680" if fixed else "556016-0681",  # check digit
            "agreements": [
                {"ref": "AG-1", "start": "2024-05-01", "end": None if fixed else "2024-04-30"}
            ],
            # 307 characters: Django's validator takes it, the database column (254) does not
            "people": [{**person, "email": "anna@ett.example" if fixed else LONG_EMAIL}],
            "accounts": [
                {"ref": "A-1", "person": "P-1", "username": "anna", "opened": "2024-05-01"}
            ],
        },
        {
            "ref": "C-2",
            "name": "Doris Ek",
            "kind": "private",
            "org_number": "19121212-1212" if fixed else "19121212-1213",  # check digit
        },
        {
            "ref": "C-3",
            "name": "Tre AB",
            "people": [{**person, "ref": "P-3" if fixed else "P-1"}],  # P-1 is C-1's
        },
        {"ref": "C-4", "name": "@@NAME@@"},  # written without its quotes: a syntax error
    ]


def document(fixed: bool) -> str:
    data = {
        "customers": customers(fixed),
        "prospects": [{"ref": "PR-1", "name": "Erik", "created": "2026-01-02"}],
        "quotes": [
            {"ref": "Q-1", "customer": "C-1" if fixed else "C-404", "created": "2026-01-02"},
            {"ref": "Q-2", "customer": "C-4", "created": "2026-01-03"},  # the broken record
        ],
    }
    text = json.dumps(data, indent=1)
    return text.replace('"@@NAME@@"', '"Fyra AB"' if fixed else "Fyra AB")


def line_of(text: str, needle: str, after: str = "") -> int:
    start = text.index(after) if after else 0
    return text.count("\n", 0, text.index(needle, start)) + 1


def test_a_problem_of_every_stage_is_listed_in_one_run_and_the_fixed_file_imports(tmp_path):
    import_file(EXAMPLE)  # stored before: must stay exactly as it is
    before = rows()
    path = tmp_path / "kunder.json"
    text = document(fixed=False)
    path.write_text(text)

    with pytest.raises(ImportFailed) as failed:
        import_file(path)

    problems = failed.value.problems
    found = {p.path: p for p in problems}
    assert len(found) == len(problems) == failed.value.total == 7, [str(p) for p in problems]
    expected = {
        "customers[0].org_number": (
            "customer C-1",
            line_of(text, "556016-0681"),
            "'556016-0681' is not a Swedish organisation number: the check digit",
        ),
        "customers[0].agreements[0].end": (
            "agreement AG-1",
            line_of(text, '"end": "2024-04-30"'),
            "ends before it starts: 2024-04-30 is before 2024-05-01",
        ),
        "customers[0].people[0].email": (
            "person P-1",
            line_of(text, LONG_EMAIL),
            "is 307 characters long; at most 254 fit",
        ),
        "customers[1].org_number": (
            "customer C-2",
            line_of(text, "19121212-1213"),
            "'19121212-1213' is not a personnummer: the check digit",
        ),
        "customers[2].people[0]": ("person P-1", None, "duplicate ref 'P-1'"),
        "customers[3].name": (
            "customer C-4",
            line_of(text, "Fyra AB"),
            "the JSON is broken here: a value is missing, or is not JSON",
        ),
        "quotes[0].customer": (
            "quote Q-1",
            line_of(text, '"ref": "Q-1"') - 1,  # found after the file: where its record begins
            "no customer with ref 'C-404', in this file or in gallra",
        ),
    }
    assert set(found) == set(expected)
    for where, (record, line, words) in expected.items():
        problem = found[where]
        assert (problem.record, problem.line) == (record, line), str(problem)
        assert problem.message.startswith(words), str(problem)
    assert str(found["customers[0].people[0].email"]) == (
        f"customers[0].people[0].email: line {expected['customers[0].people[0].email'][1]}: "
        "person P-1: is 307 characters long; at most 254 fit"
    )
    assert rows() == before  # nothing stored, nothing half-stored

    path.write_text(document(fixed=True))
    report = import_file(path)
    assert report.counts["customer"]["created"] == 4
    assert models.Quote.objects.get(ref="Q-2").customer.name == "Fyra AB"
    assert models.Person.objects.get(ref="P-3").customer.ref == "C-3"


def test_the_command_lists_them_all_with_file_and_exit_2(tmp_path):
    path = tmp_path / "kunder.json"
    path.write_text(document(fixed=False))
    err = io.StringIO()
    with pytest.raises(CommandError) as failed:
        call_command("import", str(path), stdout=io.StringIO(), stderr=err)
    assert failed.value.returncode == 2
    assert str(failed.value) == "nothing was imported: 7 problems"
    lines = err.getvalue().splitlines()
    assert len(lines) == 7 and all(line.startswith(f"{path}: ") for line in lines)
    assert not any(m.objects.exists() for m in models.RECORD_MODELS)


def test_what_only_the_database_would_refuse_is_found_first():
    """Every length the checks let through fits the column: nothing reaches the database
    that it refuses (PostgreSQL would end the transaction with its error, not a list)."""
    for kind, spec in SPECS.items():
        model = models.BY_RECORD_TYPE[kind]
        for key, check in spec.items():
            columns = {f.name: f for f in model._meta.get_fields()}
            if key not in columns:  # a reference (`person`, `account`) or roles: no column
                continue
            field = columns[key]
            longest = getattr(field, "max_length", None)
            if not longest or key in ("ref", "kind", "reason", "currency", "org_number"):
                continue
            fits = "x" * longest if key not in ("email", "sender", "mobile") else None
            if fits is not None:
                assert check(fits) == fits, (kind, key)
                with pytest.raises(ValueError):
                    check("x" * (longest + 1))
    with pytest.raises(ValueError):
        importing.C.ref("R" * 101)
    assert importing.C.ref("R" * 100)
    with pytest.raises(ValueError):  # the column is PostgreSQL's integer
        importing.C.uid(2**31)
    assert importing.C.uid(2**31 - 1) == 2**31 - 1


def test_the_longest_values_the_checks_take_are_stored_on_every_database():
    data = json.loads(EXAMPLE.read_text())
    person = data["customers"][0]["people"][0]
    person["email"] = "a" * 63 + "@" + ".".join(c * 60 for c in "bcd") + ".example"  # 254
    data["customers"][0]["accounts"][0]["uid"] = 2**31 - 1
    data["customers"][0]["name"] = "N" * 200
    import_document(data)
    assert models.Person.objects.get(ref=person["ref"]).email == person["email"]

    data["customers"][0]["accounts"][0]["uid"] = 2**31  # PostgreSQL's integer ends before
    with pytest.raises(ImportFailed) as failed:
        import_document(data)
    assert [p.path for p in failed.value.problems] == ["customers[0].accounts[0].uid"]


def test_a_hold_target_of_a_ref_longer_than_the_column_is_a_problem_not_a_crash():
    data = json.loads(EXAMPLE.read_text())
    data["holds"][0]["target"] = "prospect:" + "P" * 150  # the column holds 100
    with pytest.raises(ImportFailed) as failed:
        import_document(data)
    assert [p.path for p in failed.value.problems] == ["holds[0].target"]
    assert "characters long; a ref is 1 to 100 characters" in failed.value.problems[0].message


def test_a_bad_value_used_in_several_places_is_one_problem_that_names_them():
    data = {
        "customers": [
            {
                "ref": "C:1",  # no ':' in a ref
                "name": "Ett AB",
                "people": [{"ref": "P-1", "first_name": "A", "last_name": "B"}],
                "accounts": [
                    {"ref": f"A-{i}", "person": "P-9", "username": f"u{i}", "opened": "2024-01-01"}
                    for i in range(3)
                ],
            }
        ],
        "quotes": [{"ref": f"Q-{i}", "customer": "C:1", "created": "2026-01-01"} for i in range(8)],
        "correspondence": [{"ref": "M-1", "received": "2026-01-01", "customer": "C-404"}],
        "holds": [{"ref": "H-1", "target": "customer:C-404", "reason": "legal"}],
    }
    with pytest.raises(ImportFailed) as failed:
        import_document(data)
    said = [str(p) for p in failed.value.problems]
    assert failed.value.total == len(said) == 3, said
    assert said[0] == (
        "customers[0].ref: line 1: customer 'C:1': 'C:1' holds ':' (at character 2); a ref is "
        "1 to 100 characters: letters, digits, spaces and punctuation, except ':' and control "
        "characters, and no space first or last (also at quotes[0].customer, quotes[1].customer, "
        "quotes[2].customer, quotes[3].customer, quotes[4].customer and 3 more places)"
    )
    assert said[1].startswith("customers[0].accounts[0].person: line 1: account A-0: no person")
    assert said[1].endswith(
        "(also at customers[0].accounts[1].person, customers[0].accounts[2].person)"
    )
    assert said[2].startswith("correspondence[0].customer: line 1: correspondence M-1: no customer")
    assert said[2].endswith("(also at holds[0].target)")


def test_what_waits_for_a_record_with_a_problem_is_no_problem_of_its_own():
    """A customer with a bad name, a person with a bad e-mail, a prospect with a space after
    its ref: what belongs to them or names them (accounts, invoices, a message, a quote, a
    hold) is not written, and not named: one problem, one fix."""
    data = json.loads(EXAMPLE.read_text())
    data["customers"][0]["name"] = 42
    data["customers"][1]["people"][0]["email"] = "doris(at)example.se"
    data["prospects"][0]["ref"] = "PR-1 "  # meant PR-1, as its quote, message and hold say
    with pytest.raises(ImportFailed) as failed:
        import_document(data)
    assert [p.path for p in failed.value.problems] == [
        "customers[0].name",
        "customers[1].people[0].email",
        "prospects[0].ref",
    ]
    assert not models.Customer.objects.exists()


def test_the_org_number_policy_check_refuses_is_refused_by_import_in_the_same_words(tmp_path):
    number = "556016-0681"
    shipped = (Path(importing.__file__).parents[1] / "policies" / "jufcorp.toml").read_text()
    head, tail = shipped.split("\n[organisation]\n", 1)  # JufCorp's: a Swedish company
    policy = tmp_path / "policy.toml"
    policy.write_text(f'{head}\n[organisation]\norg_number = "{number}"\n{tail}')
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("policy", "check", str(policy), stdout=io.StringIO(), stderr=err)
    said_by_policy = [
        line.split("organisation.org_number: ", 1)[1]
        for line in err.getvalue().splitlines()
        if "organisation.org_number: " in line
    ]

    data = {"customers": [{"ref": "C-1", "name": "Ett AB", "org_number": number}]}
    with pytest.raises(ImportFailed) as failed:
        import_document(data)
    (problem,) = failed.value.problems
    assert said_by_policy == [problem.message]
    assert problem.message.msgid == idnumbers.ORG_NUMBER_CHECK_DIGIT  # one wording, one source

    with pytest.raises(ValidationError) as refused:
        Organisation.model_validate(
            {"name": "X", "country": "SE", "accountable": "ceo", "org_number": number}
        )
    by_policy = refused.value.errors()[0]["ctx"]["error"].args[0]
    with translation.override("sv"):
        assert translated(by_policy) == translated(problem.message)
        assert translated(problem.message) != str(problem.message)  # it is translated


HOSTILE = {
    "binary": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe", "", "the file is not UTF-8"),
    "NUL bytes": (b"\x00" * 64, "", "expected a JSON object at the top level"),
    "deep JSON": (
        b'{"customers": [' + b"[" * 100_000 + b"]" * 100_000 + b"]}",
        "customers[0]" + "[0]" * 16,
        "nested deeper than 16 levels",
    ),
    "a huge line": (
        b'{"customers": [{"ref": "C-9", "name": "' + b"x" * (3 << 20) + b'"}]}',
        "customers[0]",
        "larger than 1 MiB; split it",
    ),
    "a huge line that is no JSON": (
        b'{"customers": [{"ref": "C-9", "name": x' + b"x" * (3 << 20) + b"}]}",
        "customers[0].name",
        "the JSON is broken here",
    ),
}


@pytest.mark.parametrize("case", HOSTILE, ids=list(HOSTILE))
def test_hostile_input_is_one_clear_problem_and_the_rest_is_still_read(tmp_path, monkeypatch, case):
    monkeypatch.setattr(jsonstream, "MAX_ITEM_BYTES", 1 << 20)
    import_file(EXAMPLE)
    before = rows()
    content, where, words = HOSTILE[case]
    if content.startswith(b'{"customers": ['):  # and after it, a record with a problem of its own
        content = content[:-2] + b', {"ref": "C-8", "name": "Ok AB", "kind": "big"}]}'
    path = tmp_path / "hostile.json"
    path.write_bytes(content)
    with pytest.raises(ImportFailed) as failed:
        import_file(path)
    problems = failed.value.problems
    assert problems[0].path == where and words in problems[0].message, str(problems[0])
    assert all(len(str(p)) < 600 for p in problems)
    if where:
        assert [str(p) for p in problems[1:]] == [
            "customers[1].kind: line 1: customer C-8: 'big' is not one of: company, private"
        ]
    assert rows() == before


def test_a_million_problems_are_counted_and_the_first_of_each_kind_listed(monkeypatch, tmp_path):
    """The cap (docs/import.md): PER_KIND of each kind listed, MAX_PROBLEMS in all, every
    one counted. Here with 3,000 bad e-mails and 3,000 bad dates, at the real limits."""
    n = 3000
    prospects = [
        {"ref": f"PR-{i}", "name": "X", "email": f"nr{i}(at)example.se", "created": "igår"}
        for i in range(n)
    ]
    path = tmp_path / "many.json"
    path.write_text(json.dumps({"prospects": prospects}))
    err = io.StringIO()
    with pytest.raises(CommandError) as failed:
        call_command("import", str(path), stdout=io.StringIO(), stderr=err)
    lines = err.getvalue().splitlines()
    per_kind = importing.PER_KIND
    assert len(lines) == 2 * per_kind + 2
    assert lines[-2:] == [
        f"{path}: prospects[*].email: {n - per_kind:,} more problems of this kind, not listed",
        f"{path}: prospects[*].created: {n - per_kind:,} more problems of this kind, not listed",
    ]
    assert str(failed.value) == (
        f"nothing was imported: {2 * n:,} problems, {2 * per_kind} of them listed"
    )

    monkeypatch.setattr(importing, "MAX_PROBLEMS", 25)  # and never more than MAX_PROBLEMS
    with pytest.raises(ImportFailed) as listed:
        import_file(path)
    assert len(listed.value.problems) == 25 and listed.value.total == 2 * n
    assert not models.Prospect.objects.exists()
