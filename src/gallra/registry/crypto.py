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


def _encrypt(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def _decrypt(key: bytes, sealed: bytes, aad: bytes) -> bytes:
    return AESGCM(key).decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], aad)


def new_wrapped_customer_key(customer_ref: str) -> bytes:
    return _encrypt(master_key(), AESGCM.generate_key(256), b"customer-key:" + customer_ref.encode())


def customer_key(wrapped_key: bytes, customer_ref: str) -> bytes:
    return _decrypt(master_key(), wrapped_key, b"customer-key:" + customer_ref.encode())


def seal(wrapped_key: bytes, customer_ref: str, plaintext: str | bytes) -> bytes:
    data = plaintext.encode() if isinstance(plaintext, str) else plaintext
    return _encrypt(customer_key(wrapped_key, customer_ref), data, customer_ref.encode())


def unseal(wrapped_key: bytes, customer_ref: str, sealed: bytes) -> bytes:
    return _decrypt(customer_key(wrapped_key, customer_ref), sealed, customer_ref.encode())


class CustomerCipher:
    """Seals many values for one customer without unwrapping its key each time (import)."""

    def __init__(self, wrapped_key: bytes, customer_ref: str) -> None:
        self.aad = customer_ref.encode()
        self.aead = AESGCM(customer_key(wrapped_key, customer_ref))

    def seal(self, plaintext: str) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self.aead.encrypt(nonce, plaintext.encode(), self.aad)

    def unseal(self, sealed: bytes) -> bytes:
        sealed = bytes(sealed)
        return self.aead.decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], self.aad)
