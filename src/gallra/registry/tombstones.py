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
from django.db import connection, transaction
from django.utils.translation import gettext as _

from gallra.evidence.log import append
from gallra.policy.model import Policy
from gallra.registry.models import Tombstone

ERASURE = "erasure"  # the rule of a tombstone left by a data-subject erasure
CHUNK = 1000  # digests per query, within every database's limit on parameters


def digest(record_type: str, ref: str) -> str:
    message = b"tombstone\0" + record_type.encode() + b"\0" + ref.encode()
    return hmac.new(settings.GALLRA_KEYS.pseudonym_key, message, hashlib.sha256).hexdigest()


def digests(record_type: str, refs: Iterable[str]) -> list[str]:
    """`digest` of each ref, sorted: the key and the type are hashed in once, not per ref."""
    prefix = b"tombstone\0" + record_type.encode() + b"\0"
    start = hmac.new(settings.GALLRA_KEYS.pseudonym_key, prefix, hashlib.sha256)
    out = []
    for ref in refs:
        h = start.copy()
        h.update(ref.encode())
        out.append(h.hexdigest())
    return sorted(out)


def bury(
    record_type: str,
    refs: Iterable[str],
    *,
    rule: str,
    on: date,
    now: datetime,
    request: str = "",
) -> int:
    """Remember that these records were deleted. Call in the deleting transaction.

    One prepared INSERT for all of them (enforce buries hundreds of thousands in a run):
    building a model instance per tombstone took longer than the deletion itself.
    """
    ops = connection.ops
    day, made = ops.adapt_datefield_value(on), ops.adapt_datetimefield_value(now)
    # In digest order: the unique index takes them in one sweep, not page by random page.
    found = digests(record_type, refs)
    table = ops.quote_name(Tombstone._meta.db_table)
    columns = "record_type, digest, rule, request, deleted_on, created_at"
    # A record deleted twice (restored from a backup, then deleted again) keeps its first day.
    conflict = "ON CONFLICT (record_type, digest) DO NOTHING"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":  # one statement, the digests as one array
            cursor.execute(
                f"INSERT INTO {table} ({columns}) SELECT %s, d, %s, %s, %s, %s "  # noqa: S608
                f"FROM unnest(%s::varchar[]) AS d {conflict}",
                [record_type, rule, request, day, made, found],
            )
        else:  # SQLite runs a prepared statement per row in C, in this process
            rows = [(record_type, d, rule, request, day, made) for d in found]
            sql = f"INSERT INTO {table} ({columns}) VALUES (%s, %s, %s, %s, %s, %s) {conflict}"  # noqa: S608
            cursor.executemany(sql, rows)
    return len(found)


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
