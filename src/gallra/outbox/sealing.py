"""What a queued mail says, sealed with AES-256-GCM under a key derived from the instance's
master key (HKDF; its own key, so the outbox shares no key with the registry). A master key
replaced by `gallra keys rotate` still opens what it sealed while it is kept as retired, and
the rotation seals each waiting mail again under the new one (`reseal`, which the registry's
`gallra keys` calls: the outbox imports nothing above it)."""

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
from django.db import transaction
from django.db.models import Count

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


def counts() -> dict[bytes, int]:
    """How many waiting mails each known master key (current or retired) sealed."""
    from gallra.outbox.models import Mail

    by_id = {key_id(master): master for master in _masters()}
    found: dict[bytes, int] = {}
    for wanted, n in Mail.objects.order_by().values_list("key_id").annotate(n=Count("pk")):
        if wanted in by_id:  # under a key that is gone: given up at delivery, blocks nothing
            found[by_id[wanted]] = found.get(by_id[wanted], 0) + n
    return found


def reseal(batch: int = 500) -> int:
    """Seal every waiting mail not under the current master key again under it, so that the
    retired key can go; safe to rerun. Returns how many. A mail that does not open stays as
    it is (delivery gives it up)."""
    from gallra.outbox.models import Mail

    current = key_id(_masters()[0])
    done = 0
    after = 0
    while True:
        with transaction.atomic():
            mails = list(
                Mail.objects.select_for_update()
                .exclude(key_id=current)
                .filter(pk__gt=after)
                .order_by("pk")[:batch]
            )
            for mail in mails:
                try:
                    content = unseal(mail.key_id, bytes(mail.sealed), mail.kind)
                except Unreadable:
                    continue
                mail.key_id, mail.sealed = seal(content, mail.kind)
                mail.save(update_fields=["key_id", "sealed"])
                done += 1
        if len(mails) < batch:
            return done
        after = mails[-1].pk
