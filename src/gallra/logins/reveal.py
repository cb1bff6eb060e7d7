"""Answering an authority (P7): the full addresses of exactly the events it asks about.

Needs `threshold` escrow shares, a case number and the name of who asked. Only events in
the window that match the filter (network prefix or account) are opened; months whose
keys are destroyed stay closed, and the report says so. The evidence log records who
asked, why, the window and filter, and the ids and count of what was revealed, never the
addresses themselves.
"""

from __future__ import annotations

import csv
import ipaddress
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.db import transaction
from django.utils import timezone

from gallra.evidence.log import append
from gallra.logins import escrow
from gallra.logins.models import DestroyedMonth, Escrow, LoginEvent, SealingKey
from gallra.logins.partitions import next_month
from gallra.logins.sealing import (
    aad_for,
    embedded_ipv4,
    month_of,
    pseudonym_for,
    sealing_label,
)


class RevealRefused(Exception):
    """Nothing was revealed; the message says why."""


@dataclass(frozen=True)
class Request:
    """What an authority asked for, and who carries it out."""

    case: str
    requested_by: str
    actor: str
    start: datetime
    end: datetime
    reason: str = ""
    ip_prefix: str = ""
    account: str = ""


@dataclass
class Revealed:
    rows: list[dict] = field(default_factory=list)
    closed: Counter = field(default_factory=Counter)  # month -> events whose key is gone
    report_csv: Path | None = None
    report_text: Path | None = None


def reveal(ask: Request, shares: list[str], out: Path, now: datetime | None = None) -> Revealed:
    """Open the matching events, write the report into `out`, or RevealRefused."""
    now = now or timezone.now()
    start, end, account, ip_prefix = ask.start, ask.end, ask.account, ask.ip_prefix
    if not ask.case.strip():
        raise RevealRefused("a case number is required (--case)")
    if not ask.requested_by.strip():
        raise RevealRefused("say who asked (--requested-by), e.g. the authority and officer")
    if end <= start:
        raise RevealRefused("--to must be after --from")
    prefix = _prefix(ip_prefix) if ip_prefix else None

    keys = {e.pk: e for e in Escrow.objects.all()}
    current = Escrow.current()
    if current is None:
        raise RevealRefused("there is no escrow key: nothing was ever sealed")
    try:
        private = escrow.private_key_from_shares(shares, current.set_id, bytes(current.public_key))
    except escrow.ShareError as exc:
        with transaction.atomic():  # a failed attempt is evidence too
            _record(ask, now, [], Revealed(), refused=str(exc))
        raise RevealRefused(str(exc)) from None

    events = LoginEvent.objects.filter(at__gte=start, at__lt=end).order_by("at", "id")
    if account:
        events = events.filter(account=account) | events.filter(
            pseudonym__in=_pseudonyms(account, start, end)
        )
    candidates = list(events)
    if prefix is not None:
        candidates = [e for e in candidates if _may_match(e.network, prefix)]
    destroyed = set(DestroyedMonth.objects.values_list("month", flat=True))
    sealing = {
        k.pk: k for k in SealingKey.objects.filter(pk__in={e.sealed_with for e in candidates})
    }

    result = Revealed()
    opened: dict[int, AESGCM] = {}
    ids = []
    for event in candidates:
        month = month_of(event.at.astimezone(UTC))
        key = sealing.get(event.sealed_with)
        if key is None or month in destroyed or not event.sealed:
            result.closed[month.strftime("%Y-%m")] += 1
            continue
        if key.escrow_id != current.pk:
            result.closed[f"{month:%Y-%m} (older escrow key {keys[key.escrow_id].set_id})"] += 1
            continue
        aead = opened.get(key.pk)
        if aead is None:
            data_key = escrow.unwrap(
                key.wrapped, key.ephemeral_public, private, sealing_label(key.month)
            )
            aead = opened[key.pk] = AESGCM(data_key)
        sealed = bytes(event.sealed)
        try:
            address = aead.decrypt(sealed[:12], sealed[12:], aad_for(event.at, event.network))
        except InvalidTag:
            result.closed["tampered"] += 1
            continue
        text = address.decode()
        if prefix is not None and not _inside(text, prefix):
            continue  # opened to compare only; not reported
        ids.append(event.pk)
        result.rows.append(
            {
                "time_utc": event.at.astimezone(UTC).isoformat(),
                "outcome": event.outcome,
                "method": event.method,
                "service": event.service,
                "host": event.host,
                # A pseudonym matched only if it is the account asked about; else it stays hidden.
                "account": event.account or ask.account or (event.pseudonym and "(not an account)"),
                "ip": text,
                "network": event.network,
                "country": event.country,
            }
        )
    if not result.rows:
        why = _nothing_why(result, start, end)
        with transaction.atomic():
            _record(ask, now, [], result, refused=why)
        raise RevealRefused(why)
    out.mkdir(parents=True, exist_ok=True)
    stem = "reveal-" + "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in ask.case)
    result.report_csv = out / f"{stem}.csv"
    result.report_text = out / f"{stem}.txt"
    with open(result.report_csv, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(result.rows[0]))
        writer.writeheader()
        writer.writerows(result.rows)
    with transaction.atomic():
        entry = _record(ask, now, ids, result)
    result.report_text.write_text(_summary(ask, result, now, entry.pk))
    return result


def _filter_text(ask: Request) -> str:
    parts = [
        f"network {ask.ip_prefix}" if ask.ip_prefix else "",
        f"account {ask.account}" if ask.account else "",
    ]
    return ", ".join(p for p in parts if p) or "none"


def _prefix(text: str):
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise RevealRefused(f"--ip-prefix {text!r} is not an address or network") from None


def _may_match(network: str, prefix) -> bool:
    """Whether an event's truncated network can hold an address inside `prefix`.

    An IPv4 network may stand for an IPv6 address that carries that IPv4 address (6to4,
    Teredo, ...): asked for an IPv6 prefix, such an event is opened to compare.
    """
    if not network:
        return False
    stored = ipaddress.ip_network(network)
    if stored.version != prefix.version:
        return stored.version == 4
    return stored.overlaps(prefix)


def _inside(address: str, prefix) -> bool:
    """Whether `address`, or the IPv4 address it carries, is inside `prefix`."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:  # a host name from PAM
        return False
    if ip in prefix:
        return True
    if ip.version == 6 and prefix.version == 4:
        carried = embedded_ipv4(ip.packed)
        return carried is not None and ipaddress.IPv4Address(carried) in prefix
    return False


def _months(start: datetime, end: datetime) -> list[date]:
    month, last, out = month_of(start.astimezone(UTC)), month_of(end.astimezone(UTC)), []
    while month <= last:
        out.append(month)
        month = next_month(month)
    return out


def _pseudonyms(account: str, start: datetime, end: datetime) -> list[str]:
    found = [pseudonym_for(m, account) for m in _months(start, end)]
    return [p for p in found if p]


def _nothing_why(result: Revealed, start: datetime, end: datetime) -> str:
    if result.closed:
        months = ", ".join(sorted(result.closed))
        return (
            f"{sum(result.closed.values())} matching events can no longer be revealed: the keys "
            f"of {months} were destroyed when the policy's reveal period ended"
        )
    return f"no events match between {start.isoformat()} and {end.isoformat()}"


def _record(ask: Request, now: datetime, ids: list[int], result: Revealed, refused: str = ""):
    return append(
        "logins_revealed" if ids else "logins_reveal_refused",
        actor=ask.actor,
        at=now,
        rule="",
        record_type="login_event",
        refs=[f"login-event-{i}" for i in ids],
        data={
            "case": ask.case,
            "requested_by": ask.requested_by,
            "reason": ask.reason,
            "from": ask.start.isoformat(),
            "to": ask.end.isoformat(),
            "ip_prefix": ask.ip_prefix,
            "account_asked": bool(ask.account),
            "revealed": len(ids),
            "closed": dict(result.closed),
            "refused": refused,
        },
    )


def _summary(ask: Request, result: Revealed, now: datetime, entry_id: int) -> str:
    networks = Counter(r["network"] for r in result.rows)
    outcomes = Counter(r["outcome"] for r in result.rows)
    lines = [
        f"Reveal of sealed login addresses, case {ask.case}",
        "",
        f"Asked by:      {ask.requested_by}",
        f"Reason:        {ask.reason or '-'}",
        f"Carried out:   {now.astimezone(UTC):%Y-%m-%d %H:%M} UTC by {ask.actor}",
        f"Window:        {ask.start.isoformat()} to {ask.end.isoformat()}",
        f"Filter:        {_filter_text(ask)}",
        f"Evidence:      entry {entry_id} in gallra's evidence log",
        "",
        f"Events revealed: {len(result.rows)} "
        f"({', '.join(f'{n} {o}' for o, n in sorted(outcomes.items()))})",
        f"Networks:        {', '.join(f'{net} ({n})' for net, n in networks.most_common())}",
        f"First event:     {result.rows[0]['time_utc']}",
        f"Last event:      {result.rows[-1]['time_utc']}",
    ]
    if result.closed:
        lines.append(
            "Not revealable:  "
            + ", ".join(f"{n} in {m} (keys destroyed)" for m, n in sorted(result.closed.items()))
        )
    lines += ["", f"The events, one per line: {result.report_csv.name}", ""]
    return "\n".join(lines)
