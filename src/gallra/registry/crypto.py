"""Envelope encryption of what a customer entrusts to the provider (P1: documents, passwords).

Each customer has a random 256-bit data key, stored only wrapped (AES-256-GCM) under the
master key from the key file. Sealed values carry the customer's ref as associated data,
so a ciphertext moved to another customer does not open.
"""

from __future__ import annotations

import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

NONCE_BYTES = 12


def master_key() -> bytes:
    keys = settings.GALLRA_KEYS
    if keys is None:
        raise ImproperlyConfigured(
            f"no key file at {settings.GALLRA_KEY_FILE}: run `gallra init` "
            "or set GALLRA_MASTER_KEY, GALLRA_PSEUDONYM_KEY and GALLRA_SECRET_KEY"
        )
    return keys.master_key


def _key_label(customer_ref: str) -> bytes:
    return b"customer-key:" + customer_ref.encode()


class CustomerCipher:
    """Seals and opens values under one customer's data key."""

    def __init__(self, key: bytes, customer_ref: str) -> None:
        self.aad = customer_ref.encode()
        self.aead = AESGCM(key)

    @classmethod
    def from_wrapped(cls, wrapped_key: bytes, customer_ref: str) -> CustomerCipher:
        master = AESGCM(master_key())
        wrapped_key = bytes(wrapped_key)
        key = master.decrypt(
            wrapped_key[:NONCE_BYTES], wrapped_key[NONCE_BYTES:], _key_label(customer_ref)
        )
        return cls(key, customer_ref)

    def seal(self, plaintext: str | bytes) -> bytes:
        data = plaintext.encode() if isinstance(plaintext, str) else plaintext
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self.aead.encrypt(nonce, data, self.aad)

    def unseal(self, sealed: bytes) -> bytes:
        sealed = bytes(sealed)
        return self.aead.decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], self.aad)


def new_customer_key(customer_ref: str) -> tuple[bytes, CustomerCipher]:
    """A fresh data key: (the key wrapped for storage, a cipher that uses it)."""
    key = AESGCM.generate_key(256)
    nonce = os.urandom(NONCE_BYTES)
    wrapped = nonce + AESGCM(master_key()).encrypt(nonce, key, _key_label(customer_ref))
    return wrapped, CustomerCipher(key, customer_ref)
