"""Crypto-shredding reaches into the backups, and a restore brings back nothing erased."""

import base64
import shutil
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag
from django.db import transaction

from gallra import config
from gallra.backups import dump, keys
from gallra.backups.restic import restic
from gallra.backups.restore import restore
from gallra.backups.runs import run_backup
from gallra.evidence.log import verify as verify_evidence
from gallra.evidence.models import Entry
from gallra.registry import crypto, tombstones
from gallra.registry.models import (
    Agreement,
    Credential,
    Customer,
    CustomerKey,
    Person,
    TechnicalDocument,
)
from gallra.retention.enforcement import enforce
from gallra.subjects import registry_store
from gallra.subjects.identity import Identity

pytestmark = pytest.mark.django_db(transaction=True)  # the online backup needs no open transaction
T0 = datetime(2026, 11, 20, 2, tzinfo=UTC)
T1 = T0 + timedelta(days=1)


def customer(ref: str, ended: date | None) -> Customer:
    c = Customer.objects.create(ref=ref, name=f"Kund {ref} AB")
    Agreement.objects.create(ref=f"AG-{ref}", customer=c, start=date(2020, 1, 1), end=ended)
    made = date(2021, 1, 1)
    TechnicalDocument.objects.create(
        ref=f"D-{ref}", customer=c, title="Nät", created=made, content=c.seal(f"ritning {ref}")
    )
    Credential.objects.create(
        ref=f"K-{ref}", customer=c, system="vpn", created=made, secret=c.seal(f"lösen {ref}")
    )
    return c


@pytest.fixture
def history(repository, policy):
    """A backup; a day later one customer reaches deletion and one person is erased."""
    kept = customer("C-KEEP", ended=None)
    customer("C-GONE", ended=date(2025, 6, 30))  # deleted a year after: 2026-06-30
    Person.objects.create(
        ref="P-ERASE",
        customer=kept,
        first_name="Erik",
        last_name="Raderad",
        email="erik.raderad@kund.example",
    )
    before = run_backup(policy, now=T0, at=T0)
    enforce(policy, at=T1.date(), actor="enforce", now=lambda: T1)
    with transaction.atomic():
        registry_store.erase(
            policy,
            Identity.of("erik.raderad@kund.example"),
            at=T1.date(),
            now=T1,
            actor="test",
            request_ref="SR-1",
        )
    return before


def test_right_after_a_key_is_destroyed_an_older_snapshot_holds_only_ciphertext(history):
    assert not Customer.objects.filter(ref="C-GONE").exists()
    # The keys backup was renewed the moment the key went: one snapshot, without it.
    assert len(keys.snapshots()) == 1
    backed = {k["customer_ref"] for k in keys.read_snapshot()["keys"]}
    assert backed == {"C-KEEP"}

    with tempfile.TemporaryDirectory() as scratch:
        restic("restore", history.snapshot, "--target", scratch)
        copy = dump.find_copy(Path(scratch))
        with dump.opened_copy(copy) as db:
            cursor = db.cursor()
            cursor.execute("SELECT count(*) FROM registry_customerkey")
            assert cursor.fetchone()[0] == 0  # the database snapshot never holds keys
            rows = {}
            for table, column in (
                ("registry_technicaldocument", "content"),
                ("registry_credential", "secret"),
            ):
                cursor.execute(
                    f"SELECT c.ref, t.{column} FROM {table} t "  # noqa: S608
                    "JOIN registry_customer c ON c.id = t.customer_id"
                )
                rows |= {(ref, column): bytes(value) for ref, value in cursor.fetchall()}
    # The deleted customer's document and password are in the old snapshot ...
    assert {("C-GONE", "content"), ("C-GONE", "secret")} <= rows.keys()
    # ... and no key anywhere opens them: not the live database, not any keys backup.
    candidates = list(CustomerKey.objects.all()) + [
        CustomerKey(
            customer_ref=k["customer_ref"],
            master=k["master"],
            wrapped=base64.b64decode(k["wrapped"]),
        )
        for s in keys.snapshots()
        for k in keys.read_snapshot(s["id"])["keys"]
    ]
    for column in ("content", "secret"):
        for key in candidates:
            cipher = crypto.CustomerCipher(
                crypto.unwrap(key.master, key.wrapped, key.customer_ref), "C-GONE"
            )
            with pytest.raises(InvalidTag):
                cipher.unseal(rows[("C-GONE", column)])
    # The customer that stays still opens with today's key: the snapshot is usable.
    assert crypto.cipher_for("C-KEEP").unseal(rows[("C-KEEP", "content")]) == b"ritning C-KEEP"


def test_a_restore_replays_the_deletions_and_erasures_made_since(history):
    done = restore(history.snapshot[:8], now=T1 + timedelta(hours=2))

    assert done.taken == T0
    assert not Customer.objects.filter(ref="C-GONE").exists()
    assert not TechnicalDocument.objects.filter(ref="D-C-GONE").exists()
    assert not Person.objects.filter(ref="P-ERASE").exists()
    assert not Person.objects.filter(email="erik.raderad@kund.example").exists()
    keep = Customer.objects.get(ref="C-KEEP")
    document = TechnicalDocument.objects.get(ref="D-C-KEEP")
    assert keep.unseal(document.content) == b"ritning C-KEEP"
    assert set(CustomerKey.objects.values_list("customer_ref", flat=True)) == {"C-KEEP"}

    restored = Entry.objects.get(action="backup_restored")
    assert restored.data["replayed"]["subject.erase/person"] == 1
    assert restored.data["replayed"]["delete/customer"] == 1
    assert restored.data["journal_from"] == ["live", "keys snapshot"]
    assert restored.data["entries_lost"] > 0
    # The proof of each deletion is back in the log, marked as replayed, and the chain holds.
    again = Entry.objects.filter(
        action="subject.erase", data__replayed__snapshot=history.snapshot[:8]
    )
    assert again.get().refs == ["P-ERASE"]
    assert verify_evidence().ok
    # The snapshot predates the memory of those deletions: it is written again, so that the
    # next import from the billing system does not bring them back either.
    gone = tombstones.buried("customer", ["C-GONE", "C-KEEP"])
    assert list(gone) == ["C-GONE"] and gone["C-GONE"].rule == "customer-data-after-relationship"
    erased = tombstones.buried("person", ["P-ERASE"])["P-ERASE"]
    assert (erased.rule, erased.request) == (tombstones.ERASURE, "SR-1")


def test_a_server_without_its_keys_takes_them_from_the_keys_snapshot(history):
    CustomerKey.objects.all().delete()  # as on a new server with only the key file copied
    restore("latest", now=T1 + timedelta(hours=2))
    keep = Customer.objects.get(ref="C-KEEP")
    assert keep.unseal(TechnicalDocument.objects.get(ref="D-C-KEEP").content) == b"ritning C-KEEP"
    assert not Customer.objects.filter(ref="C-GONE").exists()


def test_a_restore_replays_the_mail_deletions_in_a_restored_maildir(
    repository, policy, homes, tmp_path, monkeypatch
):
    """The provider restores /home with its Maildirs too: the mail gallra deleted since the
    snapshot is deleted again, and its proof survives the restore of gallra's database."""
    from gallra.mailboxes.tests.conftest import MaildirStore, maildir_mailbox, message

    store = MaildirStore(homes / "anna" / "Maildir")
    old = datetime(2026, 7, 1, 10, tzinfo=UTC)  # older than the three months of P19 by T1
    store.add(message("gammal@test", old, "x@okand.example"), old)
    store.add(message("ny@test", T1 - timedelta(days=3), "x@okand.example"), T1 - timedelta(days=3))
    mailbox = maildir_mailbox(store)
    with_mail = policy.model_copy(update={"mailbox": [mailbox]})
    text = config.DEFAULT_POLICY.read_text(encoding="utf-8") + (
        f'\n[[mailbox]]\nid = "{mailbox.id}"\nkind = "maildir"\ncategory = "correspondence"\n'
        f'country = "SE"\npath = "{store.root}"\n'
    )
    (tmp_path / "policy.toml").write_text(text, encoding="utf-8")
    monkeypatch.setenv("GALLRA_POLICY", str(tmp_path / "policy.toml"))
    snapshot = run_backup(with_mail, now=T0, at=T0).snapshot
    enforce(with_mail, at=T1.date(), actor="enforce", now=lambda: T1)
    assert store.message_ids() == {"ny@test"}
    restic("restore", snapshot, "--target", str(tmp_path / "back"), "--include", str(store.root))
    shutil.rmtree(store.root)
    shutil.copytree(tmp_path / "back" / str(store.root).lstrip("/"), store.root)
    assert store.message_ids() == {"gammal@test", "ny@test"}  # the provider's own restore

    done = restore(snapshot[:8], now=T1 + timedelta(hours=2))
    assert store.message_ids() == {"ny@test"}
    assert done.places[mailbox.id] == {"reapplied": 1, "problems": []}
    mail = Entry.objects.filter(action="delete", record_type="mail").order_by("seq")
    assert [e.data["replayed"].get("removed_again") for e in mail] == [0, 1]
    assert verify_evidence().ok
