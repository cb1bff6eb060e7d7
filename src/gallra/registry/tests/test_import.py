"""`gallra import`: the example round-trips; bad input is named by its path and stores nothing."""

import copy
import io
import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from gallra.registry import models
from gallra.registry.importing import ImportFailed, import_document, import_file

EXAMPLE = Path(__file__).resolve().parents[4] / "examples" / "import-example.json"


def example() -> dict:
    return json.loads(EXAMPLE.read_text())


def snapshot() -> dict:
    """Everything the registry holds, to prove a failed import changed nothing."""
    return {
        model.record_type: sorted(tuple(str(v) for v in row) for row in model.objects.values_list())
        for model in models.RECORD_MODELS
    }


def test_example_round_trips(db):
    data = example()
    report = import_file(EXAMPLE)
    assert report.changed() == report.total > 0

    for c in data["customers"]:
        customer = models.Customer.objects.get(ref=c["ref"])
        assert (customer.name, customer.kind, customer.org_number) == (
            c["name"],
            c["kind"],
            c["org_number"],
        )
        for a in c["agreements"]:
            agreement = models.Agreement.objects.get(ref=a["ref"], customer=customer)
            assert agreement.start == date.fromisoformat(a["start"])
            assert agreement.end == (a["end"] and date.fromisoformat(a["end"]))
        for p in c["people"]:
            person = models.Person.objects.get(ref=p["ref"], customer=customer)
            assert person.first_name == p["first_name"] and person.last_name == p["last_name"]
            assert person.email == p["email"]
            assert person.postal_address == (p.get("postal_address") or "")
            assert person.mobile == (p.get("mobile") or "")
            assert sorted(person.roles) == sorted(p["roles"])
        for a in c.get("accounts", []):
            account = models.Account.objects.get(ref=a["ref"])
            assert account.person.ref == a["person"] and account.username == a["username"]
            assert account.closed == (a["closed"] and date.fromisoformat(a["closed"]))
        for r in c.get("requests", []):
            request = models.CustomerRequest.objects.get(ref=r["ref"], customer=customer)
            assert (request.kind, request.text) == (r["kind"], r["text"])
        for d in c.get("documents", []):
            document = models.TechnicalDocument.objects.get(ref=d["ref"], customer=customer)
            assert d["content"].encode() not in bytes(document.content)
            assert customer.unseal(document.content).decode() == d["content"]
        for k in c.get("credentials", []):
            credential = models.Credential.objects.get(ref=k["ref"], customer=customer)
            assert k["secret"].encode() not in bytes(credential.secret)
            assert customer.unseal(credential.secret).decode() == k["secret"]
        for i in c.get("invoices", []):
            invoice = models.Invoice.objects.get(ref=i["ref"], customer=customer)
            assert invoice.amount == Decimal(str(i["amount"]))
            assert invoice.fiscal_year_end == date.fromisoformat(i["fiscal_year_end"])
            assert invoice.billing_contact.ref == i["billing_contact"]
            assert invoice.buyer_name == i.get("buyer_name", c["name"])
    quote = models.Quote.objects.get(ref=data["quotes"][0]["ref"])
    assert quote.prospect.ref == data["quotes"][0]["prospect"]
    for m in data["correspondence"]:
        message = models.Correspondence.objects.get(ref=m["ref"])
        linked = message.customer or message.prospect
        assert linked.ref == (m.get("customer") or m.get("prospect"))
    for h in data["holds"]:
        hold = models.Hold.objects.get(ref=h["ref"])
        assert h["target"].endswith(hold.target_ref) and hold.reason == h["reason"]
    assert models.Hold.objects.get(ref="H-2").target_type == "invoice"  # found by bare ref


def test_importing_the_same_file_twice_changes_nothing(db):
    import_file(EXAMPLE)
    before = snapshot()
    report = import_file(EXAMPLE)
    assert report.changed() == 0
    assert all(c["unchanged"] == sum(c.values()) for c in report.counts.values())
    assert snapshot() == before


def test_an_edited_file_updates_only_what_changed(db):
    import_file(EXAMPLE)
    data = example()
    data["customers"][0]["people"][0]["email"] = "astrid@ny-adress.example"
    data["customers"][0]["credentials"][0]["secret"] = "ett-nytt-lösenord"
    data["customers"][1]["agreements"].append({"ref": "AG-1002-2", "start": "2026-01-01"})
    report = import_document(data)
    assert report.counts["person"]["updated"] == 1
    assert report.counts["credential"]["updated"] == 1
    assert report.counts["agreement"]["created"] == 1
    assert report.changed() == 3
    customer = models.Customer.objects.get(ref="C-1001")
    credential = models.Credential.objects.get(ref="K-6001")
    assert customer.unseal(credential.secret).decode() == "ett-nytt-lösenord"
    assert models.Person.objects.get(ref="P-2001").email == "astrid@ny-adress.example"


def test_sections_may_come_in_any_order(db):
    data = example()
    reordered = {key: data[key] for key in ["holds", "correspondence", "quotes", "prospects"]}
    reordered["customers"] = data["customers"]
    import_document(reordered)
    assert models.Quote.objects.get(ref="Q-1").prospect.ref == "PR-1"
    assert models.Correspondence.objects.get(ref="M-2").customer.ref == "C-1001"


def _broken(edit):
    data = example()
    edit(data)
    return data


def _parent(data, path):
    for key in path[:-1]:
        data = data[key]
    return data


def _set(path, value):
    return lambda data: _parent(data, path).__setitem__(path[-1], value)


def _delete(path):
    return lambda data: _parent(data, path).__delitem__(path[-1])


def _append(path, item):
    return lambda data: _parent(data, path)[path[-1]].append(item)


BAD_INPUT = {
    "wrong type": (
        _set(["customers", 0, "people", 1, "first_name"], 42),
        "customers[0].people[1].first_name: must be a string, not a number",
    ),
    "not an e-mail address": (
        _set(["customers", 1, "people", 0, "email"], "doris.ek(at)example.se"),
        "customers[1].people[0].email: 'doris.ek(at)example.se' is not an e-mail address",
    ),
    "bad date": (
        _set(["customers", 0, "agreements", 0, "start"], "2021-02-30"),
        "customers[0].agreements[0].start: '2021-02-30' is not a date in the form YYYY-MM-DD",
    ),
    "date in another form": (
        _set(["customers", 0, "accounts", 0, "opened"], "1/3/2021"),
        "customers[0].accounts[0].opened: '1/3/2021' is not a date",
    ),
    "unknown reference to a person": (
        _set(["customers", 0, "accounts", 1, "person"], "P-9999"),
        "customers[0].accounts[1].person: no person 'P-9999' in this customer",
    ),
    "person of another customer": (
        _set(["customers", 1, "invoices", 0, "billing_contact"], "P-2002"),
        "customers[1].invoices[0].billing_contact: no person 'P-2002' in this customer",
    ),
    "unknown prospect": (
        _set(["quotes", 0, "prospect"], "PR-404"),
        "quotes[0].prospect: no prospect with ref 'PR-404'",
    ),
    "hold on nothing": (
        _set(["holds", 0, "target"], "customer:C-404"),
        "holds[0].target: no customer with ref 'C-404'",
    ),
    "duplicate ref in one customer": (
        _set(["customers", 0, "requests", 1, "ref"], "R-4001"),
        "customers[0].requests[1]: duplicate ref 'R-4001'",
    ),
    "duplicate ref across customers": (
        _set(["customers", 1, "accounts", 0, "ref"], "A-3001"),
        "customers[1].accounts[0]: duplicate ref 'A-3001'",
    ),
    "duplicate customer": (
        _append(["customers"], {"ref": "C-1001", "name": "Kopia AB"}),
        "customers[2]: duplicate ref 'C-1001'",
    ),
    "a person without a customer": (
        lambda d: d.update(people=[{"ref": "P-1", "first_name": "A", "last_name": "B"}]),
        "people: unknown section",
    ),
    "missing required key": (
        _delete(["customers", 0, "people", 0, "last_name"]),
        "customers[0].people[0].last_name: required key is missing",
    ),
    "unknown key": (
        _set(["customers", 0, "people", 0, "personnummer"], "19121212-1212"),
        "customers[0].people[0].personnummer: unknown key",
    ),
    "bad role": (
        _set(["customers", 0, "people", 0, "roles"], ["admin"]),
        "customers[0].people[0].roles: must be a list of: user, contact, billing_contact",
    ),
    "bad amount": (
        _set(["customers", 0, "invoices", 0, "amount"], "12,50"),
        "customers[0].invoices[0].amount: '12,50' is not an amount",
    ),
    "bad organisation number": (
        _set(["customers", 0, "org_number"], "559900-0015"),
        "customers[0].org_number: '559900-0015' is not a Swedish organisation number",
    ),
    "children not an array": (
        _set(["customers", 0, "agreements"], {"ref": "AG-1"}),
        "customers[0].agreements: must be an array, not an object",
    ),
    "agreement ends before it starts": (
        _set(["customers", 1, "agreements", 0, "end"], "2019-04-30"),
        "customers[1].agreements[0].end: ends before it starts",
    ),
}


@pytest.mark.parametrize("case", BAD_INPUT, ids=list(BAD_INPUT))
def test_bad_input_is_named_and_stores_nothing(db, case):
    import_file(EXAMPLE)  # something already stored, which must stay as it is
    before = snapshot()
    edit, expected = BAD_INPUT[case]
    with pytest.raises(ImportFailed) as failed:
        import_document(_broken(edit))
    messages = [f"{p.path}: {p.message}" for p in failed.value.problems]
    assert any(m.startswith(expected) for m in messages), messages
    assert snapshot() == before


def test_bad_input_into_an_empty_registry_stores_nothing(db):
    data = _broken(_set(["holds", 1, "target"], "F-404"))  # the last thing the file names
    with pytest.raises(ImportFailed) as failed:
        import_document(data)
    problem = failed.value.problems[0]
    assert f"{problem.path}: {problem.message}".startswith("holds[1].target: no record")
    assert all(not model.objects.exists() for model in models.RECORD_MODELS)


TEXT_INPUT = {
    "truncated JSON": (EXAMPLE.read_bytes()[:900], "customers[0]", "truncated"),
    "not JSON at all": (b"ref;name\nC-1;Bolaget AB\n", "", "expected a JSON object"),
    "empty file": (b"", "", "the file is empty"),
    "top level is an array": (b'[{"ref": "C-1"}]', "", "expected a JSON object"),
    "syntax error": (
        b'{"customers": [{"ref": "C-1",\n "name": Bolaget}]}',
        "customers[0].name",
        "the JSON is broken here",
    ),
    "not UTF-8": ('{"customers": [{"ref": "C-1", "name": "Åre"}]}'.encode("latin-1"), "", "UTF-8"),
}


@pytest.mark.parametrize("case", TEXT_INPUT, ids=list(TEXT_INPUT))
def test_unreadable_files_are_rejected_with_where(db, tmp_path, case):
    import_file(EXAMPLE)
    before = snapshot()
    content, path, words = TEXT_INPUT[case]
    bad = tmp_path / "bad.json"
    bad.write_bytes(content)
    with pytest.raises(ImportFailed) as failed:
        import_file(bad)
    problem = failed.value.problems[0]
    assert problem.path == path and words in problem.message, str(problem)
    assert snapshot() == before


def test_all_problems_are_reported_at_once(db):
    data = example()
    data["customers"][0]["people"][0]["email"] = "nope"
    data["customers"][1]["agreements"][0]["start"] = "igår"
    data["prospects"][0]["created"] = None
    with pytest.raises(ImportFailed) as failed:
        import_document(data)
    paths = [p.path for p in failed.value.problems]
    assert paths == [
        "customers[0].people[0].email",
        "customers[1].agreements[0].start",
        "prospects[0].created",
    ]


def test_command_exit_codes_and_messages(db, tmp_path):
    out, err = io.StringIO(), io.StringIO()
    call_command("import", str(EXAMPLE), stdout=out, stderr=err)
    assert "23 of 23 records created or updated" in out.getvalue()

    bad = tmp_path / "bad.json"
    broken = copy.deepcopy(example())
    broken["customers"][0]["people"][0]["email"] = "inte-en-adress"
    bad.write_text(json.dumps(broken))
    with pytest.raises(CommandError) as failed:
        call_command("import", str(bad), stdout=out, stderr=err)
    assert failed.value.returncode == 2
    assert (
        f"{bad}: customers[0].people[0].email: line 1: person P-2001: 'inte-en-adress' is not an "
        "e-mail address"
    ) in err.getvalue()


def test_large_customer_spans_many_chunks(db):
    """More children than one query may name: still one customer, all rows, no duplicates."""
    people = [
        {"ref": f"P-{i}", "first_name": "Test", "last_name": f"Person {i}", "roles": ["user"]}
        for i in range(2500)
    ]
    accounts = [
        {"ref": f"A-{i}", "person": f"P-{i}", "username": f"u{i}", "opened": "2024-01-01"}
        for i in range(2500)
    ]
    data = {
        "customers": [{"ref": "C-1", "name": "Stort AB", "people": people, "accounts": accounts}]
    }
    import_document(data)
    assert models.Person.objects.filter(customer__ref="C-1").count() == 2500
    assert models.Account.objects.filter(person__customer__ref="C-1").count() == 2500
    assert import_document(data).changed() == 0
