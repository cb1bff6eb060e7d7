"""`gallra scan PATH`: unexpected personal data in files, with file, line and kind."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from gallra.registry.models import Customer, Person

pytestmark = pytest.mark.django_db


def scan(*args) -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("scan", *args, stdout=out)
    except CommandError as exc:
        return exc.returncode, out.getvalue()
    return 0, out.getvalue()


@pytest.fixture
def docs(tmp_path):
    folder = tmp_path / "dokumentation"
    (folder / "nät").mkdir(parents=True)
    (folder / "nät" / "brandvägg.md").write_text(
        "# Brandvägg\n\nRegler för 10.0.0.0/8.\nKontakt hos kunden: Anna Berg, pnr 19121212-1212\n"
    )
    (folder / "README.md").write_text("Inget personligt här, version 1.2.3.\n")
    (folder / "bild.png").write_bytes(b"\x89PNG\r\n\x1a\n\0\0 19121212-1212")
    return folder


def test_a_personnummer_pasted_into_documentation_is_reported_where_it_is(docs):
    customer = Customer.objects.create(ref="C-1", name="Kund AB")
    Person.objects.create(ref="P-1", customer=customer, first_name="Anna", last_name="Berg")
    code, out = scan(str(docs))
    assert code == 1
    lines = out.splitlines()
    where = str(docs / "nät" / "brandvägg.md")
    assert f"{where}:4:21: name: An******g" in lines
    assert f"{where}:4:36: personnummer: 19**********2" in lines  # not the network 10.0.0.0/8
    assert lines[-1] == "2 findings in 1 file"
    assert "1212-1212" not in out  # masked unless --show


def test_json_and_show_and_kind(docs):
    code, out = scan(str(docs), "--format", "json", "--show", "--kind", "personnummer")
    assert code == 1
    assert [(h["line"], h["kind"], h["text"]) for h in json.loads(out)] == [
        (4, "personnummer", "19121212-1212")
    ]


def test_a_clean_folder_passes_and_a_missing_path_is_an_error(docs, tmp_path):
    assert scan(str(docs / "README.md"))[0] == 0
    assert scan(str(tmp_path / "finns-inte"))[0] == 2
