"""Envelope encryption of what a customer entrusts to the provider (P1: documents, passwords).

Each customer has a random 256-bit data key, stored only wrapped (AES-256-GCM) under the
master key from the key file, in its own table (`CustomerKey`) that the database backup
leaves out. Sealed values carry the customer's ref as associated data, so a ciphertext moved
to another customer does not open.

Crypto-shredding: when a customer is deleted its key row is deleted first (overwritten on
SQLite, vacuumed on PostgreSQL). From then on its documents and credentials are ciphertext
that nothing opens, in this database and in every backup of it (docs/backups.md).

Master key rotation: `gallra keys rotate` puts a new master key in the key file, keeps the
old one as retired, and rewraps each data key. A key names the master key that wraps it
(`master`, a short digest), and a process that meets a master it does not know reads the key
file again, so running processes carry on while keys are rewrapped. Other apps keep keys
wrapped by the master key too (the logins' monthly pseudonym keys, the outbox's sealed mail):
each registers them as `WrappedKeys`, so that `gallra keys` rewraps and counts them all and
no retired master key is dropped while it still wraps anything.
"""

from __future__ import annotations

import hashlib
import os
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.dispatch import Signal
from django.utils.translation import ngettext

from gallra import config

NONCE_BYTES = 12
# Sent once destroyed keys are committed (with `now`): copies of the keys must go too.
keys_destroyed = Signal()


class KeyDestroyed(Exception):
    """The customer's data key is gone: what was sealed under it cannot be opened any more."""


def current_keys() -> config.Keys:
    if settings.GALLRA_KEYS is None:
        raise ImproperlyConfigured(
            f"no key file at {settings.GALLRA_KEY_FILE}: run `gallra init` "
            "or set GALLRA_MASTER_KEY, GALLRA_PSEUDONYM_KEY and GALLRA_SECRET_KEY"
        )
    return settings.GALLRA_KEYS


def master_key() -> bytes:
    return current_keys().master_key


def master_id(key: bytes) -> str:
    """A name for a master key that gives nothing of it away."""
    return hashlib.sha256(b"gallra-master:" + key).hexdigest()[:16]


def _master(wanted: str) -> bytes:
    for key in (current_keys().master_key, *current_keys().retired_master_keys):
        if master_id(key) == wanted:
            return key
    # Rotated by another process since this one started: read the key file again.
    settings.GALLRA_KEYS = config.load_keys(settings.GALLRA_KEY_FILE) or settings.GALLRA_KEYS
    for key in (current_keys().master_key, *current_keys().retired_master_keys):
        if master_id(key) == wanted:
            return key
    raise ImproperlyConfigured(
        f"the master key {wanted} is not in {settings.GALLRA_KEY_FILE} (nor retired there)"
    )


def _label(customer_ref: str) -> bytes:
    return b"customer-key:" + customer_ref.encode()


def wrap_key(key: bytes, label: bytes) -> tuple[str, bytes]:
    """(master id, `key` wrapped under the current master key, bound to `label`).

    Store the master id with it: `unwrap_key` needs it once the master key is rotated.
    """
    master = master_key()
    nonce = os.urandom(NONCE_BYTES)
    return master_id(master), nonce + AESGCM(master).encrypt(nonce, key, label)


def unwrap_key(master: str, wrapped: bytes, label: bytes) -> bytes:
    """A key wrapped by `wrap_key` under the master key named `master` (current or retired)."""
    wrapped = bytes(wrapped)
    aead = AESGCM(_master(master))
    return aead.decrypt(wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], label)


def wrapping_master(wrapped: bytes, label: bytes) -> str | None:
    """Which known master key (current or retired) wrapped this key, for a key stored without
    the name of its master; None when none of them opens it."""
    wrapped = bytes(wrapped)
    for key in (current_keys().master_key, *current_keys().retired_master_keys):
        try:
            AESGCM(key).decrypt(wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], label)
        except InvalidTag:
            continue
        return master_id(key)
    return None


def wrap(key: bytes, customer_ref: str) -> tuple[str, bytes]:
    """(master id, the data key wrapped under the current master key)."""
    return wrap_key(key, _label(customer_ref))


def unwrap(master: str, wrapped: bytes, customer_ref: str) -> bytes:
    return unwrap_key(master, wrapped, _label(customer_ref))


class CustomerCipher:
    """Seals and opens values under one customer's data key."""

    def __init__(self, key: bytes, customer_ref: str) -> None:
        self.aad = customer_ref.encode()
        self.aead = AESGCM(key)

    def seal(self, plaintext: str | bytes) -> bytes:
        data = plaintext.encode() if isinstance(plaintext, str) else plaintext
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self.aead.encrypt(nonce, data, self.aad)

    def unseal(self, sealed: bytes) -> bytes:
        sealed = bytes(sealed)
        return self.aead.decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], self.aad)


def new_customer_key(customer_ref: str):
    """A fresh data key: (an unsaved CustomerKey row, a cipher that uses it)."""
    from gallra.registry.models import CustomerKey

    key = AESGCM.generate_key(256)
    master, wrapped = wrap(key, customer_ref)
    row = CustomerKey(customer_ref=customer_ref, master=master, wrapped=wrapped)
    return row, CustomerCipher(key, customer_ref)


def cipher_for(customer_ref: str) -> CustomerCipher:
    """The customer's cipher; KeyDestroyed when its key has been shredded."""
    from gallra.registry.models import CustomerKey

    row = CustomerKey.objects.filter(customer_ref=customer_ref).first()
    if row is None:
        raise KeyDestroyed(f"the data key of customer {customer_ref} has been destroyed")
    return CustomerCipher(unwrap(row.master, row.wrapped, customer_ref), customer_ref)


def destroy_keys(customer_refs: Iterable[str], *, now: datetime, actor: str, why: str) -> int:
    """Shred the customers' data keys, with an evidence entry. Returns how many went."""
    from gallra.evidence.log import append
    from gallra.registry.models import CustomerKey

    refs = sorted(set(customer_refs))
    if not refs:
        return 0
    with transaction.atomic():
        if connection.vendor == "sqlite":  # overwrite the freed pages, not just unlink them
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA secure_delete = ON")
        rows = CustomerKey.objects.filter(customer_ref__in=refs)
        gone = sorted(rows.values_list("customer_ref", flat=True))
        rows._raw_delete(rows.db)
        if gone:
            append(
                "customer_keys_destroyed",
                actor=actor,
                at=now,
                record_type="customer",
                refs=gone,
                customers=gone,
                data={"why": why},
            )
            transaction.on_commit(lambda: _after_destruction(now))
    return len(gone)


def _after_destruction(now: datetime) -> None:
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        with connection.cursor() as cursor:  # reclaim the dead rows that still held the keys
            cursor.execute("VACUUM registry_customerkey")
    keys_destroyed.send(sender=CustomerCipher, now=now)  # backups: renew the keys snapshot


def rewrap(batch: int = 500) -> int:
    """Rewrap every data key not under the current master key; safe to rerun. Returns count."""
    from gallra.registry.models import CustomerKey

    current = master_id(master_key())
    done = 0
    while True:
        with transaction.atomic():
            rows = list(
                CustomerKey.objects.select_for_update()
                .exclude(master=current)
                .order_by("pk")[:batch]
            )
            for row in rows:
                key = unwrap(row.master, row.wrapped, row.customer_ref)
                row.master, row.wrapped = wrap(key, row.customer_ref)
            CustomerKey.objects.bulk_update(rows, ["master", "wrapped"])
        done += len(rows)
        if len(rows) < batch:
            return done


@dataclass(frozen=True)
class WrappedKeys:
    """Keys an app keeps wrapped by the master key, registered so that `gallra keys` knows them.

    `count()` says how many each master key (by `master_id`) wraps; `rewrap(batch)` rewraps
    every one not under the current master key, in transactions of `batch`, safe to rerun,
    and returns how many it rewrapped; `describe(n)` names n of them for `keys status`.
    """

    id: str  # the key of their counts in `keys status --format json`
    count: Callable[[], dict[str, int]]
    rewrap: Callable[[int], int]
    describe: Callable[[int], str]


_wrapped: dict[str, WrappedKeys] = {}


def register_wrapped_keys(keys: WrappedKeys) -> None:
    """Called from an AppConfig.ready(): the registry imports none of the apps above it."""
    _wrapped[keys.id] = keys


def wrapped_keys() -> list[WrappedKeys]:
    """Every kind of key wrapped by the master key, the customers' own first."""
    return list(_wrapped.values())


def customer_key_counts() -> dict[str, int]:
    from gallra.registry.models import CustomerKey

    return dict(Counter(CustomerKey.objects.values_list("master", flat=True)))


def _customer_keys(n: int) -> str:
    return ngettext("%(n)s customer key", "%(n)s customer keys", n) % {"n": n}


CUSTOMER_KEYS = WrappedKeys("customer_keys", customer_key_counts, rewrap, _customer_keys)
