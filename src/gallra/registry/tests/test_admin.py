"""The registry admin: Swedish by default, and what is sealed never shows, in clear or not."""

from __future__ import annotations

import ast
import base64
import datetime as dt
import gettext
import re
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.functional import Promise

from gallra.registry.models import (
    RECORD_MODELS,
    Account,
    Agreement,
    Credential,
    Customer,
    CustomerKey,
    Person,
    TechnicalDocument,
)

pytestmark = pytest.mark.django_db

SECRET = "Hemligt-Lösen-123"
CONTENT = "serverns rotlösenord finns i valvet"
LOCALE = Path(settings.BASE_DIR) / "locale" / "sv" / "LC_MESSAGES"


@pytest.fixture
def data():
    today = timezone.localdate()
    active = Customer.objects.create(ref="K-1", name="Björk & Gran AB", org_number="556677-8899")
    Agreement.objects.create(ref="A-1", customer=active, start=dt.date(2020, 1, 1))
    Agreement.objects.create(
        ref="A-2", customer=active, start=dt.date(2019, 1, 1), end=dt.date(2019, 12, 31)
    )
    ended = Customer.objects.create(ref="K-2", name="Lärkan HB")
    Agreement.objects.create(
        ref="A-3", customer=ended, start=dt.date(2018, 1, 1), end=dt.date(2023, 6, 30)
    )
    Agreement.objects.create(
        ref="A-4", customer=ended, start=dt.date(2018, 1, 1), end=dt.date(2022, 6, 30)
    )
    ending = Customer.objects.create(ref="K-3", name="Sundets Bageri AB")
    Agreement.objects.create(
        ref="A-5", customer=ending, start=dt.date(2018, 1, 1), end=today + dt.timedelta(days=30)
    )
    person = Person.objects.create(
        ref="P-1",
        customer=active,
        first_name="Åsa",
        last_name="Lindqvist",
        email="asa.lindqvist@example.se",
        is_user=True,
    )
    Person.objects.create(ref="P-2", customer=ended, first_name="Olle", last_name="Berg")
    account = Account.objects.create(
        ref="U-1", person=person, username="asal", home="/home/asal", opened=dt.date(2020, 1, 1)
    )
    credential = Credential.objects.create(
        ref="C-1",
        customer=active,
        account=account,
        system="mail.example.se",
        username="asal",
        secret=active.seal(SECRET),
        created=dt.date(2020, 1, 2),
    )
    document = TechnicalDocument.objects.create(
        ref="D-1",
        customer=active,
        title="Serverdokumentation",
        created=dt.date(2020, 1, 3),
        content=active.seal(CONTENT),
    )
    return {
        "active": active,
        "ended": ended,
        "ending": ending,
        "person": person,
        "account": account,
        "credential": credential,
        "document": document,
    }


def url(model, view: str, *args) -> str:
    return reverse(f"admin:registry_{model._meta.model_name}_{view}", args=args)


def page(client, address: str, **extra) -> str:
    response = client.get(address, **extra)
    assert response.status_code == 200, address
    return response.content.decode()


def forms_of(sealed: bytes) -> list[str]:
    """Every way a ciphertext could leak into a page."""
    sealed = bytes(sealed)
    return [
        sealed.hex(),
        sealed.hex().upper(),
        base64.b64encode(sealed).decode(),
        base64.urlsafe_b64encode(sealed).decode(),
        repr(sealed)[2:-1],
        sealed.decode("latin-1"),
    ]


def assert_not_leaked(html: str, clear: str, sealed: bytes) -> None:
    assert clear not in html
    assert clear.encode().hex() not in html
    for form in forms_of(sealed):
        assert form not in html


def all_admin_pages(client, data) -> list[str]:
    credential, document, customer = data["credential"], data["document"], data["active"]
    addresses = [
        url(Customer, "changelist"),
        url(Customer, "change", customer.pk),
        url(Customer, "delete", customer.pk),
        url(Customer, "history", customer.pk),
        url(Credential, "changelist"),
        url(Credential, "change", credential.pk),
        url(Credential, "history", credential.pk),
        url(Credential, "delete", credential.pk),
        url(Credential, "add"),
        url(TechnicalDocument, "changelist"),
        url(TechnicalDocument, "change", document.pk),
        url(TechnicalDocument, "history", document.pk),
        url(TechnicalDocument, "delete", document.pk),
        url(Account, "change", data["account"].pk),
        url(Person, "change", data["person"].pk),
        reverse("admin:index"),
        reverse("admin:app_list", args=["registry"]),
    ]
    pages = [page(client, a) for a in addresses]
    pages += [page(client, a, HTTP_ACCEPT_LANGUAGE="en") for a in addresses]
    return pages


def test_customer_list_shows_status(admin_client, data):
    html = page(admin_client, url(Customer, "changelist"))
    assert "Björk &amp; Gran AB" in html
    assert "Lärkan HB" in html
    rows = {ref: row for ref, row in re.findall(r">(K-\d)</a>(.*?)</tr>", html, re.S)}
    assert "aktiv" in rows["K-1"]
    assert "aktiv" in rows["K-3"]  # its only agreement ends in the future
    assert "avslutad 2023-06-30" in rows["K-2"]  # the last of its agreements

    english = page(admin_client, url(Customer, "changelist"), HTTP_ACCEPT_LANGUAGE="en")
    rows = {ref: row for ref, row in re.findall(r">(K-\d)</a>(.*?)</tr>", english, re.S)}
    assert "active" in rows["K-1"]
    assert "ended" in rows["K-2"]


def test_customer_status_filter(admin_client, data):
    html = page(admin_client, url(Customer, "changelist") + "?status=ended")
    assert "Lärkan HB" in html
    assert "Björk &amp; Gran AB" not in html
    html = page(admin_client, url(Customer, "changelist") + "?status=active")
    assert "Björk &amp; Gran AB" in html and "Sundets Bageri AB" in html
    assert "Lärkan HB" not in html


def test_swedish_by_default_english_on_request(admin_client, data):
    swedish = page(admin_client, url(Customer, "changelist"))
    assert "Kunder" in swedish
    assert "Välj kund att ändra" in swedish
    english = page(admin_client, url(Customer, "changelist"), HTTP_ACCEPT_LANGUAGE="en")
    assert "Customers" in english
    assert "Select customer to change" in english
    assert "Kunder" not in english

    index = page(admin_client, reverse("admin:index"))
    for name in ("Register", "Avtal", "Personer", "Användarkonton", "Bevarandespärrar", "Fakturor"):
        assert name in index


def test_customer_page_has_inlines(admin_client, data):
    html = page(admin_client, url(Customer, "change", data["active"].pk))
    assert 'value="A-1"' in html
    assert 'value="asa.lindqvist@example.se"' in html
    # The ref is bound to the customer's key: not editable once the customer exists.
    assert 'name="ref"' not in html


def test_sealed_values_never_shown(admin_client, data):
    credential, document = data["credential"], data["document"]
    credential_page = page(admin_client, url(Credential, "change", credential.pk))
    assert "•••••• (krypterad)" in credential_page
    assert 'type="password"' in credential_page
    document_page = page(admin_client, url(TechnicalDocument, "change", document.pk))
    assert "Serverdokumentation" in document_page
    assert f"{len(bytes(document.content))}" in document_page  # the sealed size
    for html in all_admin_pages(admin_client, data):
        assert_not_leaked(html, SECRET, credential.secret)
        assert_not_leaked(html, CONTENT, document.content)
        for form in forms_of(CustomerKey.objects.get(customer_ref=data["active"].ref).wrapped):
            assert form not in html


def test_credential_list_shows_placeholder(admin_client, data):
    html = page(admin_client, url(Credential, "changelist"))
    assert "mail.example.se" in html
    assert "•••••• (krypterad)" in html
    english = page(admin_client, url(Credential, "changelist"), HTTP_ACCEPT_LANGUAGE="en")
    assert "•••••• (encrypted)" in english


def credential_post(credential, **changes) -> dict:
    post = {
        "ref": credential.ref,
        "customer": credential.customer_id,
        "account": credential.account_id or "",
        "system": credential.system,
        "username": credential.username,
        "created": credential.created.isoformat(),
        "new_secret": "",
    }
    post.update(changes)
    return post


def test_new_secret_is_sealed(admin_client, data):
    credential = data["credential"]
    new = "Nytt-Lösen-456!"
    response = admin_client.post(
        url(Credential, "change", credential.pk), credential_post(credential, new_secret=new)
    )
    assert response.status_code == 302, response.content.decode()
    credential.refresh_from_db()
    stored = bytes(credential.secret)
    assert new.encode() not in stored
    assert data["active"].unseal(stored).decode() == new

    html = page(admin_client, url(Credential, "change", credential.pk))
    assert_not_leaked(html, new, stored)


def test_empty_secret_keeps_the_old_one(admin_client, data):
    credential = data["credential"]
    response = admin_client.post(
        url(Credential, "change", credential.pk),
        credential_post(credential, system="ny.example.se"),
    )
    assert response.status_code == 302
    credential.refresh_from_db()
    assert credential.system == "ny.example.se"
    assert data["active"].unseal(credential.secret).decode() == SECRET


def test_add_credential_needs_and_seals_a_secret(admin_client, data):
    customer = data["active"]
    post = {
        "ref": "C-2",
        "customer": customer.pk,
        "account": "",
        "system": "vpn",
        "username": "",
        "created": "2024-01-01",
        "new_secret": "",
    }
    response = admin_client.post(url(Credential, "add"), post)
    assert response.status_code == 200  # the form again, with an error
    assert not Credential.objects.filter(ref="C-2").exists()

    response = admin_client.post(url(Credential, "add"), {**post, "new_secret": "VPN-lösen-789"})
    assert response.status_code == 302
    stored = bytes(Credential.objects.get(ref="C-2").secret)
    assert b"VPN" not in stored
    assert customer.unseal(stored).decode() == "VPN-lösen-789"


def test_credential_cannot_move_customer_without_new_secret(admin_client, data):
    credential = data["credential"]
    post = credential_post(credential, customer=data["ended"].pk, account="")
    response = admin_client.post(url(Credential, "change", credential.pk), post)
    assert response.status_code == 200
    credential.refresh_from_db()
    assert credential.customer_id == data["active"].pk


def test_credential_account_must_belong_to_customer(admin_client, data):
    credential = data["credential"]
    post = credential_post(credential, customer=data["ended"].pk, new_secret="x-y-z-123456")
    response = admin_client.post(url(Credential, "change", credential.pk), post)
    assert response.status_code == 200
    credential.refresh_from_db()
    assert credential.customer_id == data["active"].pk


def test_document_content_is_sealed(admin_client, data):
    document = data["document"]
    new = "brandväggen släpper bara in port 22 från kontoret"
    post = {
        "ref": document.ref,
        "customer": document.customer_id,
        "title": document.title,
        "created": document.created.isoformat(),
        "new_content": new,
    }
    response = admin_client.post(url(TechnicalDocument, "change", document.pk), post)
    assert response.status_code == 302, response.content.decode()
    document.refresh_from_db()
    stored = bytes(document.content)
    assert new.encode() not in stored
    assert data["active"].unseal(stored).decode() == new
    html = page(admin_client, url(TechnicalDocument, "change", document.pk))
    assert_not_leaked(html, new, stored)

    response = admin_client.post(
        url(TechnicalDocument, "change", document.pk), {**post, "new_content": ""}
    )
    assert response.status_code == 302
    document.refresh_from_db()
    assert data["active"].unseal(document.content).decode() == new  # kept


def test_search_by_email_finds_the_person(admin_client, data):
    html = page(admin_client, url(Person, "changelist") + "?q=asa.lindqvist@example.se")
    assert "Lindqvist" in html
    assert "Berg" not in html
    html = page(admin_client, url(Customer, "changelist") + "?q=asa.lindqvist@example.se")
    assert "Björk &amp; Gran AB" in html
    assert "Lärkan HB" not in html
    html = page(admin_client, url(Customer, "changelist") + "?q=556677-8899")
    assert "Björk &amp; Gran AB" in html


def test_holds_ordered_by_until(admin_client, data):
    from gallra.registry.models import Hold

    Hold.objects.create(
        ref="H-late",
        target_type="customer",
        target_ref="K-2",
        reason="legal",
        until=dt.date(2031, 1, 1),
    )
    Hold.objects.create(ref="H-open", target_type="customer", target_ref="K-2", reason="legal")
    Hold.objects.create(
        ref="H-soon",
        target_type="customer",
        target_ref="K-2",
        reason="negotiation",
        until=dt.date(2030, 1, 1),
    )
    html = page(admin_client, url(Hold, "changelist"))
    assert html.index("H-soon") < html.index("H-late") < html.index("H-open")
    assert "pågående förhandling" in html


@pytest.mark.parametrize("model", RECORD_MODELS, ids=lambda m: m.record_type)
def test_every_model_has_list_and_add_page(admin_client, data, model):
    page(admin_client, url(model, "changelist"))
    page(admin_client, url(model, "add"))
    page(admin_client, url(model, "changelist"), HTTP_ACCEPT_LANGUAGE="en")


# --- translations ------------------------------------------------------------------------------


def read_po(path: Path) -> dict[str, str]:
    """msgid -> msgstr of a .po file (the header under ""; a msgid with a context as
    "context\x04msgid", as gettext keys it; a plural entry as "msgid\x00plural" -> its forms
    joined by "\x00", as the .mo file keys it); fails on fuzzy entries."""
    entries: dict[str, str] = {}
    msgid: list[str] | None = None
    plural: list[str] = []
    forms: dict[int, list[str]] = {}
    context: list[str] = []
    current: list[str] = []

    def flush() -> None:
        if msgid is not None:
            prefix = "".join(context) + "\x04" if context else ""
            key = "".join(msgid) + ("\x00" + "".join(plural) if plural else "")
            entries[prefix + key] = "\x00".join("".join(forms[n]) for n in sorted(forms))

    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#~"):
            continue
        if line.startswith("#"):
            assert not (line.startswith("#,") and "fuzzy" in line), f"fuzzy entry at {number}"
            continue
        keyword, _, rest = line.partition(" ")
        if keyword == "msgctxt":
            flush()
            msgid, context = None, []
            current, line = context, rest
        elif keyword == "msgid":
            if msgid is not None:  # a new entry without a context
                flush()
                context = []
            msgid, plural, forms = [], [], {}
            current, line = msgid, rest
        elif keyword == "msgid_plural":
            current, line = plural, rest
        elif keyword == "msgstr" or keyword.startswith("msgstr["):
            n = int(keyword[7:-1]) if keyword != "msgstr" else 0
            current, line = forms.setdefault(n, []), rest
        else:
            assert line.startswith('"'), f"cannot read line {number}: {line}"
        current.append(ast.literal_eval(line))
    flush()
    return entries


def test_po_is_complete_and_mo_compiled_from_it():
    entries = read_po(LOCALE / "django.po")
    entries.pop("")  # the header
    assert len(entries) > 50
    untranslated = [m for m, s in entries.items() if not all(s.split("\x00"))]
    assert not untranslated
    with (LOCALE / "django.mo").open("rb") as f:
        compiled = gettext.GNUTranslations(f)

    def translated(key: str) -> str:
        if "\x00" not in key:
            return compiled.gettext(key)
        singular, plural = key.split("\x00")
        return "\x00".join(compiled.ngettext(singular, plural, n) for n in (1, 2))

    stale = {m: s for m, s in entries.items() if translated(m) != s}
    assert not stale, "run msgfmt -o django.mo django.po"


def lazy_strings():
    """Every translatable string gallra's own models, apps and settings declare."""
    for config in apps.get_app_configs():
        if not config.name.startswith("gallra."):
            continue
        yield config.verbose_name
        for model in config.get_models():
            yield model._meta.verbose_name
            yield model._meta.verbose_name_plural
            for field in model._meta.get_fields():
                if not hasattr(field, "verbose_name"):
                    continue
                yield field.verbose_name
                if field.help_text:
                    yield field.help_text
                for _value, label in field.choices or ():
                    yield label
    for _code, name in settings.LANGUAGES:
        yield name


def test_every_model_string_is_translated():
    entries = read_po(LOCALE / "django.po")
    with translation.override("en"):
        # Only marked strings: a name Django derives from a field's name is not translatable.
        msgids = {str(s) for s in lazy_strings() if isinstance(s, Promise)}
    assert len(msgids) > 50
    missing = {m for m in msgids if not entries.get(m)}
    assert not missing, "run makemessages -l sv, translate, then msgfmt"


def test_swedish_names():
    with translation.override("sv"):
        assert str(Customer._meta.verbose_name_plural) == "kunder"
        assert str(Agreement._meta.verbose_name) == "avtal"
        assert str(Account._meta.verbose_name) == "användarkonto"
        assert str(Credential._meta.verbose_name) == "inloggningsuppgift"
        assert str(TechnicalDocument._meta.verbose_name) == "teknisk dokumentation"
    with translation.override("en"):
        assert str(Customer._meta.verbose_name_plural) == "customers"


def test_document_upload_is_sealed(admin_client, data):
    from django.core.files.uploadedfile import SimpleUploadedFile

    document = data["document"]
    post = {
        "ref": document.ref,
        "customer": document.customer_id,
        "title": document.title,
        "created": document.created.isoformat(),
        "new_content": "",
        "upload": SimpleUploadedFile("drift.txt", "nätverksritning v2".encode()),
    }
    response = admin_client.post(url(TechnicalDocument, "change", document.pk), post)
    assert response.status_code == 302, response.content.decode()
    document.refresh_from_db()
    assert data["active"].unseal(document.content).decode() == "nätverksritning v2"


def test_hold_needs_an_existing_record(admin_client, data):
    from gallra.registry.models import Hold

    post = {"ref": "H-1", "target_type": "customer", "target_ref": "K-99", "reason": "legal"}
    post |= {"until": "", "note": ""}
    assert admin_client.post(url(Hold, "add"), post).status_code == 200
    assert not Hold.objects.exists()
    assert admin_client.post(url(Hold, "add"), {**post, "target_ref": "K-2"}).status_code == 302
    assert Hold.objects.get(ref="H-1").target_ref == "K-2"
