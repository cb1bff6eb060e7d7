"""What a queued mail says, sealed with AES-256-GCM under a key derived from the instance's
master key (HKDF; its own key, so the outbox shares no key with the registry). A master key
replaced by `gallra keys rotate` still opens what it sealed while it is kept as retired."""

from __future__ import annotations

import hashlib
import json
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from gallra import config

NONCE_BYTES = 12


class Unreadable(Exception):
    """The key that sealed it is gone, or the content was changed."""


def _masters() -> list[bytes]:
    keys = settings.GALLRA_KEYS
    if keys is None:
        raise ImproperlyConfigured("no keys: run `gallra init` (the outbox seals mail with them)")
    return [keys.master_key, *keys.retired_master_keys]


def key_id(master: bytes) -> str:
    return hashlib.sha256(b"gallra-outbox-key:" + master).hexdigest()[:16]


def _key(master: bytes) -> bytes:
    return HKDF(SHA256(), 32, salt=None, info=b"gallra outbox v1").derive(master)


def seal(content: dict, kind: str) -> tuple[str, bytes]:
    """(key id, nonce + ciphertext) of `content` as JSON; the kind is bound to it."""
    master = _masters()[0]
    nonce = os.urandom(NONCE_BYTES)
    data = json.dumps(content, ensure_ascii=False).encode()
    return key_id(master), nonce + AESGCM(_key(master)).encrypt(nonce, data, kind.encode())


def unseal(wanted: str, blob: bytes, kind: str) -> dict:
    for attempt in range(2):
        for master in _masters():
            if key_id(master) == wanted:
                try:
                    data = AESGCM(_key(master)).decrypt(
                        blob[:NONCE_BYTES], blob[NONCE_BYTES:], kind.encode()
                    )
                except InvalidTag:
                    raise Unreadable("the sealed content does not open (changed?)") from None
                return json.loads(data)
        if attempt == 0:  # rotated by another process since this one started
            reread = config.load_keys(settings.GALLRA_KEY_FILE)
            settings.GALLRA_KEYS = reread or settings.GALLRA_KEYS
    raise Unreadable(f"the master key {wanted} is no longer in the key file")
