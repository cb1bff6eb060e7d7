"""The evidence log: what gallra did, as a chain of entries that cannot be edited unnoticed.

An entry names what was done (action, rule, record type), by whom (actor), when, and to which
records (refs: the provider's own keys) and customers. It never holds personal data: no
names, no e-mail addresses, no content. A deletion is proved by its refs, not by a copy of
what was deleted.

Each entry's hash covers its content and the previous entry's hash, so changing, removing or
reordering any entry breaks every hash after it. `ChainHead` remembers the last entry, so
removing entries from the end breaks the chain too. `gallra.evidence.log` writes and checks it.

The log has an end too (its policy rule, docs/evidence.md): it is pruned from its start, and
`Anchor` keeps the last pruned entry's seq and hash, from which the rest is checked.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

# The prev_hash of the first entry.
GENESIS = "0" * 64


def format_at(at: datetime) -> str:
    """The one spelling of an entry's time that its hash covers: ISO 8601, UTC, microseconds."""
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def canonical_json(value: Any) -> str:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def chain_hash(prev_hash: str, content: dict[str, Any]) -> str:
    """sha256 (hex) of the previous entry's hash followed by this entry's canonical JSON."""
    return hashlib.sha256((prev_hash + canonical_json(content)).encode()).hexdigest()


class Entry(models.Model):
    seq = models.PositiveBigIntegerField(_("sequence number"), primary_key=True)
    at = models.DateTimeField(_("time"), db_index=True)
    actor = models.CharField(_("actor"), max_length=200)
    action = models.CharField(_("action"), max_length=50)
    rule = models.CharField(_("rule"), max_length=100, blank=True)
    record_type = models.CharField(_("record type"), max_length=30, blank=True)
    count = models.PositiveIntegerField(_("count"))
    refs = models.JSONField(_("record references"), default=list, blank=True)
    # "|C-1|C-2|": `customers__contains="|C-1|"` finds a customer's entries on any database.
    customers = models.TextField(_("customers"), blank=True)
    data = models.JSONField(_("details"), default=dict, blank=True)
    prev_hash = models.CharField(_("previous hash"), max_length=64)
    hash = models.CharField(_("hash"), max_length=64)

    # Not plain: `data`, which may hold what an authority asked about (a reveal's address
    # prefix, its reason) or a mail folder's name.
    plain_fields = (
        *("seq", "at", "actor", "action", "rule", "record_type", "count", "refs", "customers"),
        *("prev_hash", "hash"),
    )

    class Meta:
        verbose_name = _("evidence entry")
        verbose_name_plural = _("evidence entries")
        ordering = ["seq"]
        # The last entry of an action (the front page's daily checks), however long the log.
        indexes = [models.Index(fields=["action", "seq"], name="evidence_action_seq")]

    def __str__(self) -> str:
        return f"{self.seq} {self.action}"

    def save(self, *args, **kwargs) -> None:
        # Append-only: an entry is written once, by log.append(), and never changed.
        if not self._state.adding:
            raise ValueError("evidence entries cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("evidence entries cannot be deleted")

    def hashed_content(self) -> dict[str, Any]:
        """Everything the hash covers, as an auditor receives it from `gallra evidence export`."""
        return {
            "seq": self.seq,
            "at": format_at(self.at),
            "actor": self.actor,
            "action": self.action,
            "rule": self.rule,
            "record_type": self.record_type,
            "count": self.count,
            "refs": self.refs,
            "customers": self.customers,
            "data": self.data,
        }

    def compute_hash(self) -> str:
        return chain_hash(self.prev_hash, self.hashed_content())

    @property
    def customer_refs(self) -> list[str]:
        return self.customers.strip("|").split("|") if self.customers else []


class ChainHead(models.Model):
    """The last entry's seq and hash, in a single row.

    Appenders lock this row, so entries get seq 1, 2, 3… with no gaps even with several
    workers. It also anchors the tail: deleting the last entries leaves it pointing past them.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    seq = models.PositiveBigIntegerField(_("sequence number"), default=0)
    hash = models.CharField(_("hash"), max_length=64, default=GENESIS)

    class Meta:
        verbose_name = _("chain head")
        verbose_name_plural = _("chain head")
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="evidence_one_head")]

    def __str__(self) -> str:
        return f"{self.seq} {self.hash}"


class Anchor(models.Model):
    """Where the kept log starts: the seq and hash of the last entry pruned, in a single row.

    The first kept entry's prev_hash must be this hash, so the kept entries are checked as
    before; the pruning's own entry (action "delete", record type "evidence_entry") names the
    same seq and hash, so an anchor moved to hide more removed entries does not verify.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    seq = models.PositiveBigIntegerField(_("last pruned entry"))
    hash = models.CharField(_("its hash"), max_length=64)
    rule = models.CharField(_("rule"), max_length=100)
    pruned_on = models.DateField(_("pruned on"))
    before = models.DateField(_("entries from before"))

    class Meta:
        verbose_name = _("evidence anchor")
        verbose_name_plural = _("evidence anchor")
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="evidence_one_anchor")]

    def __str__(self) -> str:
        return f"{self.seq} {self.hash}"
