"""Writing to the evidence log and checking it.

`append()` is the only way entries are made. Call it inside the transaction that does the
work, so that a deletion and the entry proving it commit together or not at all. Pass refs
(the provider's record keys) and counts only, never names, e-mail addresses or content: the
log outlives the records it names, and must not become a copy of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from django.db import transaction
from django.db.models import Max, Min
from django.utils import timezone

from gallra.evidence.models import GENESIS, Anchor, ChainHead, Entry

CHUNK = 2000
PRUNED = "evidence_entry"  # the record type of a pruning's own entry (action "delete")


def append(
    action: str,
    *,
    actor: str,
    at: datetime,
    rule: str = "",
    record_type: str = "",
    refs: Sequence[str] = (),
    customers: Iterable[str] = (),
    count: int | None = None,
    data: dict[str, Any] | None = None,
) -> Entry:
    """Add one entry to the end of the chain and return it.

    `at` is the caller's `now` (timezone-aware). `count` defaults to the number of refs.
    Customers are stored sorted, each once.
    `data` holds further non-personal facts, such as {"kept_until": "2032-12-31"}: strings,
    integers, booleans and None, in lists and dicts (no floats: they do not survive every
    database's JSON type unchanged, and the hash must).
    """
    if isinstance(refs, str) or isinstance(customers, str):
        raise TypeError("refs and customers are lists of refs, not a single string")
    if at.tzinfo is None:
        raise ValueError("evidence times must be timezone-aware")
    refs = [_ref(r) for r in refs]
    customer_refs = sorted({_ref(c) for c in customers})
    if any("|" in c for c in customer_refs):
        raise ValueError("a customer ref cannot contain '|'")
    entry = Entry(
        at=at.astimezone(UTC),
        actor=actor,
        action=action,
        rule=rule,
        record_type=record_type,
        count=len(refs) if count is None else count,
        refs=refs,
        customers=f"|{'|'.join(customer_refs)}|" if customer_refs else "",
        data=_plain(data or {}, "data"),
    )
    for name in ("actor", "action", "rule", "record_type"):
        value, field = getattr(entry, name), Entry._meta.get_field(name)
        if not isinstance(value, str) or len(value) > field.max_length:
            raise ValueError(f"{name} must be a string of at most {field.max_length} characters")
    if not actor or not action:
        raise ValueError("actor and action are required")
    if not isinstance(entry.count, int) or entry.count < 0:
        raise ValueError("count must be a whole number, zero or more")

    # savepoint=False: a failure here fails the caller's transaction too, so its work cannot
    # commit without its entry.
    with transaction.atomic(savepoint=False):
        head = _locked_head()
        entry.seq = head.seq + 1
        entry.prev_hash = head.hash
        entry.hash = entry.compute_hash()
        entry.save(force_insert=True)
        head.seq, head.hash = entry.seq, entry.hash
        head.save(update_fields=["seq", "hash"])
    return entry


def _locked_head() -> ChainHead:
    """The chain head, locked until the transaction ends; made on first use."""
    head = ChainHead.objects.select_for_update().filter(pk=1).first()
    if head is None:
        # Two first appenders may race here: one inserts, the other waits for it to commit,
        # then inserts nothing and locks the row the first one made.
        ChainHead.objects.bulk_create([ChainHead(pk=1)], ignore_conflicts=True)
        head = ChainHead.objects.select_for_update().get(pk=1)
        if head.seq == 0 and Entry.objects.exists():
            raise RuntimeError("the evidence chain head is missing: run `gallra evidence verify`")
    return head


def _ref(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise TypeError(f"a ref must be a non-empty string, not {value!r}")
    return value


def _plain(value: Any, path: str) -> Any:
    """A JSON value that every database returns exactly as given, so its hash stays valid."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, list | tuple):
        return [_plain(v, f"{path}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise TypeError(f"{path}: keys must be strings")
        return {k: _plain(v, f"{path}.{k}") for k, v in value.items()}
    raise TypeError(f"{path}: {type(value).__name__} is not allowed (use a string)")


# -- pruning: the log's own rule (docs/evidence.md) ---------------------------------------


class PruneRefused(Exception):
    """The entries to prune do not verify: pruning them would hide the break."""


def prunable(before: date) -> tuple[int, int]:
    """(the last seq a pruning of the entries made before `before` would remove, how many).

    The log is pruned from its start only: an entry goes when it and every entry before it
    were made before that day (Europe/Stockholm), so the kept entries stay one chain.
    """
    start = Anchor.objects.filter(pk=1).values_list("seq", flat=True).first() or 0
    cutoff = datetime.combine(before, time.min, timezone.get_default_timezone())
    through = Entry.objects.filter(seq__gt=start, at__lt=cutoff).aggregate(n=Max("seq"))["n"]
    if through is None:
        return start, 0
    younger = Entry.objects.filter(seq__gt=start, seq__lte=through, at__gte=cutoff)
    first_young = younger.aggregate(n=Min("seq"))["n"]
    if first_young is not None:
        through = first_young - 1
    return through, Entry.objects.filter(seq__gt=start, seq__lte=through).count()


def prune(before: date, *, actor: str, at: datetime, rule: str, on: date) -> int:
    """Remove the entries made before `before` (see `prunable`), move the anchor to the last
    one and record the pruning as an entry of its own; returns how many went.

    All in one transaction holding the chain head: the deletion, the anchor and the entry that
    names it commit together. The entries to go are checked first, up to the first kept one:
    a broken chain is refused (PruneRefused), since pruning it would leave no trace of the break.
    """
    with transaction.atomic():
        head = _locked_head()
        anchor = Anchor.objects.select_for_update().filter(pk=1).first()
        start, last_hash = (anchor.seq, anchor.hash) if anchor else (0, GENESIS)
        through, count = prunable(before)
        if not count:
            return 0
        seq, through_hash = start, ""
        for entry in Entry.objects.filter(seq__gt=start, seq__lte=through + 1).order_by("seq"):
            problem = _link_problem(entry, seq, last_hash)
            if problem:
                raise PruneRefused(f"entry {seq + 1}: {problem}")
            seq, last_hash = entry.seq, entry.hash
            if seq == through:
                through_hash = entry.hash
        if through == head.seq and head.hash != through_hash:
            raise PruneRefused(f"entry {through}: its hash differs from the chain head's")
        going = Entry.objects.filter(seq__gt=start, seq__lte=through)
        going._raw_delete(going.db)
        Anchor.objects.update_or_create(
            pk=1,
            defaults={
                "seq": through,
                "hash": through_hash,
                "rule": rule,
                "pruned_on": on,
                "before": before,
            },
        )
        append(
            "delete",
            actor=actor,
            at=at,
            rule=rule,
            record_type=PRUNED,
            count=count,
            data={
                "deletion_date": on.isoformat(),
                "before": before.isoformat(),
                "through_seq": through,
                "through_hash": through_hash,
            },
        )
    return count


# -- checking ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    count: int  # entries checked
    head: str  # the last good entry's hash (GENESIS for an empty log)
    bad_seq: int | None = None  # the first bad entry; None when ok or the head row is missing
    problem: str = ""
    # The entries pruned under the log's rule, checked from their anchor on: through_seq,
    # rule, on (the day of the pruning), before (entries made before this day went).
    pruned: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "count": self.count,
            "head": self.head,
            "bad_seq": self.bad_seq,
            "problem": self.problem,
            "pruned": self.pruned,
        }


def verify() -> VerifyResult:
    """Walk the whole chain in seq order from its anchor, recompute every hash, and report the
    first break.

    Needs no lock, so enforcement can go on meanwhile: entries appended during the walk are
    checked too, because the chain head is read after the entries it should account for; a
    pruning during the walk is met by walking again from the new anchor.
    """
    for _ in range(3):
        anchor = Anchor.objects.filter(pk=1).first()
        result = _verify_from(anchor)
        now = Anchor.objects.filter(pk=1).first()
        if result.ok or _anchor_key(now) == _anchor_key(anchor):
            break
    return result


def _anchor_key(anchor: Anchor | None) -> tuple | None:
    return (anchor.seq, anchor.hash) if anchor else None


def _verify_from(anchor: Anchor | None) -> VerifyResult:
    start, start_hash = (anchor.seq, anchor.hash) if anchor else (0, GENESIS)
    pruned = None
    if anchor:
        pruned = {
            "through_seq": anchor.seq,
            "rule": anchor.rule,
            "on": anchor.pruned_on.isoformat(),
            "before": anchor.before.isoformat(),
        }
    result = _walk(start, start_hash)
    if result.ok and anchor is not None:
        proof = (
            Entry.objects.filter(action="delete", record_type=PRUNED, seq__gt=start)
            .order_by("-seq")
            .first()
        )
        named = proof and (proof.data.get("through_seq"), proof.data.get("through_hash"))
        if named != (anchor.seq, anchor.hash):
            return VerifyResult(
                False,
                result.count,
                result.head,
                None,
                f"the anchor (entry {anchor.seq}) is not where the last pruning left it: "
                "entries were removed from the start",
                pruned,
            )
    return VerifyResult(
        result.ok, result.count, result.head, result.bad_seq, result.problem, pruned
    )


def _walk(start: int, start_hash: str) -> VerifyResult:
    checked, last_seq, last_hash = 0, start, start_hash
    entries = Entry.objects.order_by("seq")
    while True:
        found = False
        for entry in entries.filter(seq__gt=last_seq).iterator(chunk_size=CHUNK):
            found = True
            problem = _link_problem(entry, last_seq, last_hash)
            if problem:
                return VerifyResult(False, checked, last_hash, last_seq + 1, problem)
            checked, last_seq, last_hash = checked + 1, entry.seq, entry.hash
        head = ChainHead.objects.filter(pk=1).first()
        # A head ahead of the entries read may just be an append that committed meanwhile:
        # read on until no new entries turn up.
        if head is None or head.seq <= last_seq or not found:
            break

    if head is None:
        if checked:
            return VerifyResult(False, checked, last_hash, None, "the chain head row is missing")
        return VerifyResult(True, 0, GENESIS)
    if head.seq > last_seq:
        return VerifyResult(
            False,
            checked,
            last_hash,
            last_seq + 1,
            f"missing: the chain head records {head.seq} entries, the last stored is "
            f"{last_seq} (removed from the end)",
        )
    if head.seq < last_seq:
        return VerifyResult(
            False,
            checked,
            last_hash,
            head.seq + 1,
            f"not recorded by the chain head, which ends at {head.seq} (added outside gallra)",
        )
    if head.hash != last_hash:
        return VerifyResult(
            False,
            checked,
            last_hash,
            last_seq,
            "its hash differs from the chain head's (the last entry was replaced)",
        )
    return VerifyResult(True, checked, head.hash)


def _link_problem(entry: Entry, prev_seq: int, prev_hash: str) -> str:
    if entry.seq != prev_seq + 1:
        return f"missing (removed; the next stored entry is {entry.seq})"
    follows = entry.prev_hash == prev_hash
    intact = entry.compute_hash() == entry.hash
    if follows and not intact:
        return "content does not match its hash (altered)"
    if not follows and not intact:
        return "neither its content nor its link matches (moved, replaced or altered)"
    if not follows:
        return (
            f"its prev_hash is not entry {prev_seq}'s hash "
            f"(entry {prev_seq} was replaced, or entries were removed or reordered)"
        )
    return ""


def entry_as_dict(entry: Entry) -> dict[str, Any]:
    """An entry with everything needed to re-check its hash: its content and both hashes."""
    return {**entry.hashed_content(), "prev_hash": entry.prev_hash, "hash": entry.hash}
