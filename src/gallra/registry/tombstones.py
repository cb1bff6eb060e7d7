"""Nothing deleted comes back: the memory of what retention or an erasure deleted (P15, Art. 17).

A provider feeds gallra from its billing system every night. Once gallra deletes a customer,
the next import would create it again from the same export; an erasure would be undone the
same way. So every deleted record leaves a tombstone, and `import` (and `sync`) refuse to
create a record that has one, naming the rule, the day and the source that still holds it.

A tombstone holds a keyed digest of the record type and ref (the pseudonym key, so the digest
survives a rotation of the master key), the rule and the day: never the ref or the data. The
policy's deletion-memory rule ends it, like any other data (`forget`, run by `enforce`).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from gallra.evidence.log import append
from gallra.policy.model import Policy
from gallra.registry.models import Tombstone

ERASURE = "erasure"  # the rule of a tombstone left by a data-subject erasure
CHUNK = 1000  # digests per query, within every database's limit on parameters


def digest(record_type: str, ref: str) -> str:
    message = b"tombstone\0" + record_type.encode() + b"\0" + ref.encode()
    return hmac.new(settings.GALLRA_KEYS.pseudonym_key, message, hashlib.sha256).hexdigest()


def bury(
    record_type: str,
    refs: Iterable[str],
    *,
    rule: str,
    on: date,
    now: datetime,
    request: str = "",
) -> int:
    """Remember that these records were deleted. Call in the deleting transaction."""
    rows = [
        Tombstone(
            record_type=record_type,
            digest=digest(record_type, ref),
            rule=rule,
            request=request,
            deleted_on=on,
            created_at=now,
        )
        for ref in refs
    ]
    # A record deleted twice (restored from a backup, then deleted again) keeps its first day.
    Tombstone.objects.bulk_create(rows, batch_size=CHUNK, ignore_conflicts=True)
    return len(rows)


@dataclass(frozen=True)
class Buried:
    """Why a record may not come back: the rule (or erasure) and the day it was deleted."""

    record_type: str
    ref: str
    rule: str
    deleted_on: date
    request: str = ""

    def reason(self, source: str) -> str:
        if self.rule == ERASURE:
            said = _("erased on request %(request)s on %(day)s") % {
                "request": self.request or "-",
                "day": self.deleted_on.isoformat(),
            }
        else:
            said = _("deleted under rule %(rule)s on %(day)s") % {
                "rule": self.rule,
                "day": self.deleted_on.isoformat(),
            }
        return _("%(said)s; it is still in %(source)s; delete it there") % {
            "said": said,
            "source": source,
        }


def buried(record_type: str, refs: Iterable[str]) -> dict[str, Buried]:
    """The refs among `refs` that gallra deleted, each with why."""
    by_digest = {digest(record_type, ref): ref for ref in refs}
    found: dict[str, Buried] = {}
    digests = list(by_digest)
    for start in range(0, len(digests), CHUNK):
        rows = Tombstone.objects.filter(
            record_type=record_type, digest__in=digests[start : start + CHUNK]
        ).values_list("digest", "rule", "deleted_on", "request")
        for d, rule, deleted_on, request in rows:
            ref = by_digest[d]
            found[ref] = Buried(record_type, ref, rule, deleted_on, request)
    return found


def due(policy: Policy, at: date) -> int:
    """How many tombstones the deletion-memory rule ends on `at`."""
    return Tombstone.objects.filter(deleted_on__lte=_threshold(policy, at)).count()


def forget(policy: Policy, at: date, *, now: datetime, actor: str) -> dict:
    """End the memory the deletion-memory rule has run out for, with one evidence entry."""
    rule = policy.deletion_memory_rule()
    with transaction.atomic():
        going = Tombstone.objects.filter(deleted_on__lte=_threshold(policy, at))
        deleted = going._raw_delete(going.db)
        if deleted:
            append(
                "delete",
                actor=actor,
                at=now,
                rule=rule.id,
                record_type="tombstone",
                count=deleted,
                data={"deletion_date": at.isoformat()},
            )
    return {"rule": rule.id, "deleted": deleted}


def _threshold(policy: Policy, at: date) -> date:
    return policy.deletion_memory_rule().threshold(at)
