"""Each customer's data key: kept apart, shredded on deletion, rewrapped by a master rotation."""

import json
from datetime import UTC, date, datetime
from io import StringIO

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command

from gallra import config
from gallra.evidence.models import Entry
from gallra.policy.loading import current_policy
from gallra.registry import crypto
from gallra.registry.models import Agreement, Credential, Customer, CustomerKey, TechnicalDocument
from gallra.retention.enforcement import enforce

pytestmark = pytest.mark.django_db
NOW = datetime(2027, 6, 1, 12, tzinfo=UTC)


def customer_with_secrets(ref: str, ended: date | None = None) -> Customer:
    customer = Customer.objects.create(ref=ref, name=f"Kund {ref} AB")
    Agreement.objects.create(ref=f"AG-{ref}", customer=customer, start=date(2020, 1, 1), end=ended)
    created = date(2020, 2, 1)
    TechnicalDocument.objects.create(
        ref=f"D-{ref}",
        customer=customer,
        title="Nätverk",
        created=created,
        content=customer.seal("ritning"),
    )
    Credential.objects.create(
        ref=f"K-{ref}",
        customer=customer,
        system="vpn",
        created=created,
        secret=customer.seal("lösen-42"),
    )
    return customer


def test_a_customer_key_is_stored_apart_and_wrapped():
    customer = customer_with_secrets("C-1")
    key = CustomerKey.objects.get(customer_ref="C-1")
    assert key.master == crypto.master_id(crypto.master_key())
    assert len(bytes(key.wrapped)) == 12 + 32 + 16  # nonce, key, tag: never the bare key
    document = TechnicalDocument.objects.get(ref="D-C-1")
    assert customer.unseal(document.content) == b"ritning"
    assert b"ritning" not in bytes(document.content)


def test_enforcement_destroys_the_key_before_the_customer_goes():
    gone = customer_with_secrets("C-GONE", ended=date(2025, 1, 31))
    kept = customer_with_secrets("C-KEPT")
    sealed = bytes(TechnicalDocument.objects.get(ref="D-C-GONE").content)
    old_cipher = gone.cipher()  # as a copy taken before the deletion could have it

    enforce(current_policy(), at=NOW.date(), actor="test")

    assert not Customer.objects.filter(ref="C-GONE").exists()
    assert not CustomerKey.objects.filter(customer_ref="C-GONE").exists()
    with pytest.raises(crypto.KeyDestroyed):
        crypto.cipher_for("C-GONE")
    assert old_cipher.unseal(sealed) == b"ritning"  # the ciphertext itself was fine...
    entry = Entry.objects.get(action="customer_keys_destroyed")
    assert entry.refs == ["C-GONE"] and entry.data["why"] == "retention"
    delete = Entry.objects.get(action="delete", record_type="customer")
    assert entry.seq < delete.seq  # the key went first
    assert kept.unseal(TechnicalDocument.objects.get(ref="D-C-KEPT").content) == b"ritning"


def test_deleting_a_customer_in_the_admin_or_shell_shreds_its_key_too():
    customer = customer_with_secrets("C-2")
    customer.delete()
    assert not CustomerKey.objects.exists()
    assert Entry.objects.filter(action="customer_keys_destroyed", refs=["C-2"]).exists()


def test_master_key_rotation_while_another_process_still_runs(settings):
    first = customer_with_secrets("C-1")
    old_keys = settings.GALLRA_KEYS  # what a process started before the rotation holds
    old_master = crypto.master_id(old_keys.master_key)

    call_command("keys", "rotate", stdout=StringIO())

    new_master = crypto.master_id(settings.GALLRA_KEYS.master_key)
    assert new_master != old_master
    stored = json.loads(settings.GALLRA_KEY_FILE.read_text())
    assert len(stored["retired_master_keys"]) == 1
    assert set(CustomerKey.objects.values_list("master", flat=True)) == {new_master}
    assert first.unseal(TechnicalDocument.objects.get(ref="D-C-1").content) == b"ritning"
    entry = Entry.objects.get(action="master_key_rotated")
    assert entry.count == 1 and entry.data["master"] == new_master

    # The old process: opens keys rewrapped under the new master (it reads the file again),
    # and the customer it creates is wrapped under its own, now retired, master.
    settings.GALLRA_KEYS = old_keys
    assert first.unseal(TechnicalDocument.objects.get(ref="D-C-1").content) == b"ritning"
    settings.GALLRA_KEYS = old_keys
    late = customer_with_secrets("C-LATE")
    assert CustomerKey.objects.get(customer_ref="C-LATE").master == old_master

    # Back in the new process: the retired master is still needed, so it is kept ...
    settings.GALLRA_KEYS = config.load_keys(settings.GALLRA_KEY_FILE)
    call_command("keys", "drop-retired", stdout=StringIO())
    assert len(json.loads(settings.GALLRA_KEY_FILE.read_text())["retired_master_keys"]) == 1
    assert late.unseal(TechnicalDocument.objects.get(ref="D-C-LATE").content) == b"ritning"
    # ... until a rerun of rotate has rewrapped the straggler (no new master is made).
    call_command("keys", "rotate", stdout=StringIO())
    assert crypto.master_id(settings.GALLRA_KEYS.master_key) == new_master
    assert set(CustomerKey.objects.values_list("master", flat=True)) == {new_master}
    call_command("keys", "drop-retired", stdout=StringIO())
    assert json.loads(settings.GALLRA_KEY_FILE.read_text())["retired_master_keys"] == []
    assert late.unseal(TechnicalDocument.objects.get(ref="D-C-LATE").content) == b"ritning"

    # The old master is gone from the key file: what it wrapped opens no more.
    with pytest.raises(ImproperlyConfigured, match=old_master):
        crypto.unwrap(old_master, bytes(60), "C-1")


def test_rotation_seals_waiting_mail_again_and_keeps_its_master_until_then(settings, mailoutbox):
    from gallra.outbox import delivery
    from gallra.outbox import mail as outbox
    from gallra.outbox.models import Mail

    hello = outbox.Message("Hej Anna", "Ditt ärende", ("anna.berg@kund.example",))
    old_keys = settings.GALLRA_KEYS
    old_master = crypto.master_id(old_keys.master_key)
    outbox.queue(hello, kind="contact", now=NOW, ref="R-1")  # the relay is down: it waits

    out = StringIO()
    call_command("keys", "rotate", stdout=out)
    new_master = crypto.master_id(settings.GALLRA_KEYS.master_key)
    assert f"master key {new_master}: 1 key rewrapped" in out.getvalue()
    assert f"{new_master} (current): 1 mail waiting in the outbox" in out.getvalue()

    # A process started before the rotation queues one more under the old master key:
    # drop-retired keeps that key while the mail waits, a rerun of rotate seals it again.
    settings.GALLRA_KEYS = old_keys
    outbox.queue(hello, kind="contact", now=NOW, ref="R-2")
    settings.GALLRA_KEYS = config.load_keys(settings.GALLRA_KEY_FILE)
    out = StringIO()
    call_command("keys", "status", "--format", "json", stdout=out)
    assert json.loads(out.getvalue())["wrapped"]["outbox_mails"] == {
        new_master: 1,
        old_master: 1,
    }
    call_command("keys", "drop-retired", stdout=StringIO())
    assert len(json.loads(settings.GALLRA_KEY_FILE.read_text())["retired_master_keys"]) == 1
    call_command("keys", "rotate", stdout=StringIO())
    call_command("keys", "drop-retired", stdout=StringIO())
    assert json.loads(settings.GALLRA_KEY_FILE.read_text())["retired_master_keys"] == []

    settings.GALLRA_KEYS = config.load_keys(settings.GALLRA_KEY_FILE)
    assert delivery.deliver(now=NOW).sent == 2  # neither given up: both open
    assert sorted(m.subject for m in mailoutbox) == ["Hej Anna", "Hej Anna"]
    assert not Mail.objects.exists()
