"""`passwd` and `ldap` sources: which of the registry's user accounts still exist on the servers.

A registry account belongs to a source once a sync has seen its username there. When the
source no longer holds it, the account is closed as of the first day a sync missed it, and
stays closed as of that day however late the next sync runs; the closed-account rule then
deletes its data a year later (P15). An account that sync closed and that comes back is
opened again, and the report says so. Accounts the registry does not know are reported, never
invented: they have no person or customer to belong to.

A source that cannot be read, or that answers with no accounts at all while it held some,
closes nothing: the sync fails (an empty directory is far likelier a fault than every user
leaving on the same night).
"""

from __future__ import annotations

import contextlib
import ssl
import subprocess
from collections import defaultdict
from datetime import date, datetime
from pathlib import Path

from django.db import transaction
from django.utils.translation import gettext as _

from gallra.evidence.log import append
from gallra.policy.model import Source
from gallra.registry.models import Account
from gallra.sync.models import SourceAccount
from gallra.sync.results import (
    AccountChange,
    AccountsReport,
    Outcome,
    SourceResult,
    SourceUnavailable,
)

CHUNK = 1000
PAGE = 500  # LDAP entries per page (the paged results control)
TIMEOUT = 30  # seconds for an LDAP answer or getent


def describe(source: Source) -> str:
    if source.kind == "ldap":
        return f"source {source.id} (LDAP {source.url} {source.base_dn})"
    where = "getent passwd" if source.getent else f"passwd file {source.passwd_path()}"
    return f"source {source.id} ({where})"


def sync_accounts(source: Source, at: date, *, now: datetime, actor: str) -> SourceResult:
    """Open and close the registry's accounts as the source holds them, on day `at`."""
    result = SourceResult(source.id, source.kind, describe(source))
    try:
        present = read_usernames(source)
        with transaction.atomic():
            result.accounts = _apply(source, present, at, now, actor, result.name)
    except SourceUnavailable as exc:
        result.outcome, result.error = Outcome.UNAVAILABLE, str(exc)
    return result


# -- reading the source ---------------------------------------------------------------------


def read_usernames(source: Source) -> set[str]:
    """The usernames the source holds now; SourceUnavailable when it cannot say."""
    return _ldap(source) if source.kind == "ldap" else _passwd(source)


def _passwd(source: Source) -> set[str]:
    name = describe(source)
    if source.getent:
        try:
            done = subprocess.run(  # noqa: S603 (a fixed argv; getent from the PATH, as NSS)
                ["getent", "passwd"],  # noqa: S607
                capture_output=True,
                timeout=TIMEOUT,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise SourceUnavailable(f"{name}: {exc}") from exc
        if done.returncode != 0:
            said = done.stderr.decode(errors="replace").strip().splitlines()[:1]
            raise SourceUnavailable(
                f"{name}: getent passwd exited with {done.returncode} {' '.join(said)}".strip()
            )
        text = done.stdout.decode("utf-8", errors="replace")
    else:
        try:
            text = Path(source.passwd_path()).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            why = getattr(exc, "strerror", None) or str(exc)
            raise SourceUnavailable(f"{name}: cannot read it: {why}") from exc
    names = set()
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#") or line[0] in "+-":
            continue  # NIS compat lines ("+", "-"): `getent = true` reads what they include
        parts = line.split(":")
        if len(parts) != 7 or not parts[0] or not parts[2].isdigit():
            raise SourceUnavailable(
                _(
                    "%(source)s: line %(n)d is not a passwd entry "
                    "(name:password:uid:gid:comment:home:shell)"
                )
                % {"source": name, "n": number}
            )
        if source.uid_min <= int(parts[2]) <= source.uid_max:
            names.add(parts[0])
    return names


def _ldap(source: Source) -> set[str]:
    import ldap3
    from ldap3.core.exceptions import LDAPException

    name = describe(source)
    password = None
    if source.password_file:
        try:
            password = Path(source.password_file).read_text(encoding="utf-8").rstrip("\r\n")
        except (OSError, UnicodeDecodeError) as exc:
            why = getattr(exc, "strerror", None) or str(exc)
            raise SourceUnavailable(
                f"{name}: cannot read password_file {source.password_file}: {why}"
            ) from exc
    tls = None
    if source.url.startswith("ldaps://"):
        tls = ldap3.Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=source.ca_file or None)
    attribute = source.username_attribute
    names: set[str] = set()
    conn = None
    try:
        server = ldap3.Server(source.url, connect_timeout=5, get_info=ldap3.NONE, tls=tls)
        conn = ldap3.Connection(
            server,
            user=source.bind_dn or None,
            password=password,
            read_only=True,
            receive_timeout=TIMEOUT,
            raise_exceptions=True,
            auto_bind=True,
        )
        entries = conn.extend.standard.paged_search(
            search_base=source.base_dn,
            search_filter=source.filter,
            attributes=[attribute],
            paged_size=PAGE,
            generator=True,
        )
        for entry in entries:
            if entry.get("type") != "searchResEntry":
                continue
            values = entry["attributes"].get(attribute) or []
            names.update([values] if isinstance(values, str) else map(str, values))
    except (LDAPException, OSError, ssl.SSLError) as exc:
        said = " ".join(str(exc).split()) or type(exc).__name__
        raise SourceUnavailable(f"{name}: {said}") from exc
    finally:
        if conn is not None:
            with contextlib.suppress(LDAPException, OSError):
                conn.unbind()
    return names


# -- opening and closing --------------------------------------------------------------------


def _accounts(**lookup) -> list[tuple]:
    """(pk, ref, username, opened, closed, customer ref) of the accounts matching `lookup`
    (one list value, asked in chunks)."""
    ((key, values),) = lookup.items()
    values = list(values)
    found = []
    for start in range(0, len(values), CHUNK):
        found += Account.objects.filter(**{key: values[start : start + CHUNK]}).values_list(
            "pk", "ref", "username", "opened", "closed", "person__customer__ref"
        )
    return found


def _apply(
    source: Source, present: set[str], at: date, now: datetime, actor: str, name: str
) -> AccountsReport:
    report = AccountsReport(in_source=len(present))
    tracked = {r.account_ref: r for r in SourceAccount.objects.filter(source=source.id)}
    if not present and any(r.missed_since is None for r in tracked.values()):
        raise SourceUnavailable(
            _(
                "%(source)s answered with no accounts at all, while it held %(n)d: nothing is "
                "closed (check the source; an empty answer is taken for a fault)"
            )
            % {"source": name, "n": sum(r.missed_since is None for r in tracked.values())}
        )
    here = _accounts(username__in=present)
    report.matched = len(here)
    known = {row[2] for row in here}
    report.unknown = sorted(present - known)
    reopen: list[tuple] = []
    new_rows, changed_rows, seen = [], [], []
    for pk, ref, username, _opened, closed, customer in here:
        seen.append(ref)
        row = tracked.get(ref)
        if row is None:
            new_rows.append(
                SourceAccount(source=source.id, account_ref=ref, first_seen=at, last_seen=at)
            )
        elif row.missed_since is not None:  # back in the source
            if row.closed_by_sync is not None and closed == row.closed_by_sync:
                reopen.append((pk, ref, username, customer))
                closed = None
            row.missed_since = row.closed_by_sync = None
            row.last_seen = max(row.last_seen, at)
            changed_rows.append(row)
        if closed is not None:
            report.closed_elsewhere.append(username)
    gone = [ref for ref in tracked if ref not in set(seen)]
    still = {row[1]: row for row in _accounts(ref__in=gone)}
    close: dict[date, list[tuple]] = defaultdict(list)
    forget = []
    for ref in gone:
        row = tracked[ref]
        if ref not in still:  # the registry no longer has it: nothing to remember
            forget.append(row.pk)
            continue
        pk, _ref, username, opened, closed, customer = still[ref]
        if row.missed_since is None:
            row.missed_since = max(at, row.last_seen)  # never before a day it was seen
            changed_rows.append(row)
        if closed is None:
            day = max(row.missed_since, opened)
            row.closed_by_sync = day
            if row not in changed_rows:
                changed_rows.append(row)
            close[day].append((pk, ref, username, customer))
        elif row.closed_by_sync is not None:
            report.still_missing += 1

    SourceAccount.objects.bulk_create(new_rows, batch_size=CHUNK)
    for start in range(0, len(seen), CHUNK):
        SourceAccount.objects.filter(
            source=source.id, account_ref__in=seen[start : start + CHUNK], last_seen__lt=at
        ).update(last_seen=at)
    for row in changed_rows:
        row.save(update_fields=["last_seen", "missed_since", "closed_by_sync"])
    SourceAccount.objects.filter(pk__in=forget).delete()
    for day, accounts in sorted(close.items()):
        Account.objects.filter(pk__in=[a[0] for a in accounts]).update(closed=day, updated_at=now)
        report.closed += [AccountChange(a[1], a[2], day.isoformat()) for a in accounts]
        append(
            "account_closed",
            actor=actor,
            at=now,
            record_type="account",
            refs=[a[1] for a in accounts],
            customers=[a[3] for a in accounts],
            data={"source": source.id, "closed": day.isoformat(), "why": "missed by the source"},
        )
    if reopen:
        Account.objects.filter(pk__in=[a[0] for a in reopen]).update(closed=None, updated_at=now)
        report.reopened = [AccountChange(a[1], a[2], at.isoformat()) for a in reopen]
        append(
            "account_reopened",
            actor=actor,
            at=now,
            record_type="account",
            refs=[a[1] for a in reopen],
            customers=[a[3] for a in reopen],
            data={"source": source.id, "day": at.isoformat(), "why": "back in the source"},
        )
    return report


def forget_deleted_accounts(sender, record_type: str, refs: list[str], **kwargs) -> None:
    """Retention deleted these accounts: what sync remembered of them goes in the same batch."""
    if record_type != "account" or not refs:
        return
    for start in range(0, len(refs), CHUNK):
        SourceAccount.objects.filter(account_ref__in=refs[start : start + CHUNK]).delete()
