"""Access grants (P3): "no access between users without explicit agreement".

A grant names the home's owner, the grantee, the agreement that allows it and the last day
it holds. `grant` gives the grantee's uid an ACL entry on the owner's home and everything in
it (and a default entry, so new files carry it too); read-only means `rX`, otherwise `rwX`.
The grant ends, and its entries are removed, when the first of these comes:

- its `until` date has passed;
- its agreement has ended (the agreement is the owner's customer's);
- either account is closed, or the grantee's customer's last agreement has ended;
- it is revoked (`gallra homes revoke`), or an account or the agreement is deleted.

`enforce` calls `remove_ended_grants` before it deletes anything, so no account or
agreement goes while a grant still names it. A grant's row goes when it ends; the evidence
log keeps its history (refs, dates and whether the entries were removed from the disk).
"""

from __future__ import annotations

import logging
import os
import stat
from datetime import date, datetime

from django.db import transaction
from django.db.models.signals import pre_delete
from django.dispatch import receiver
from django.utils import timezone

from gallra.evidence.log import append
from gallra.homes import acl
from gallra.homes.audit import expected_uid
from gallra.homes.models import AccessGrant, ended_on
from gallra.registry.models import Account, Agreement

log = logging.getLogger(__name__)


class GrantError(Exception):
    """Bad input for a grant or revocation: nothing was changed."""


def find_account(name: str, role: str) -> Account:
    """An account by its ref, else by its username when only one account has it."""
    account = Account.objects.select_related("person__customer").filter(ref=name).first()
    if account is not None:
        return account
    found = list(Account.objects.select_related("person__customer").filter(username=name)[:5])
    if len(found) == 1:
        return found[0]
    if found:
        refs = ", ".join(a.ref for a in found)
        raise GrantError(
            f"{role} {name!r}: several accounts have this username ({refs}): give the account's ref"
        )
    raise GrantError(f"{role} {name!r}: no account with this ref or username")


def _customers(*accounts: Account) -> list[str]:
    return [a.person.customer.ref for a in accounts]


def _real_home(owner: Account) -> str:
    if not owner.home:
        raise GrantError(f"owner {owner.ref} has no home directory in the registry")
    home = os.path.normpath(owner.home)
    try:
        st = os.lstat(home)
    except FileNotFoundError:
        raise GrantError(f"owner {owner.ref}: home directory {home} does not exist") from None
    if not stat.S_ISDIR(st.st_mode):
        raise GrantError(f"owner {owner.ref}: {home} is not a directory (a symlink or a file)")
    return home


def grant(
    owner_name: str,
    grantee_name: str,
    agreement_ref: str,
    until: date,
    *,
    read_only: bool,
    at: date,
    now: datetime,
    actor: str,
) -> AccessGrant:
    """Let the grantee into the owner's home until `until`, under the agreement; with evidence."""
    owner = find_account(owner_name, "owner")
    grantee = find_account(grantee_name, "grantee")
    if owner.pk == grantee.pk:
        raise GrantError(f"owner and grantee are the same account ({owner.ref})")
    agreement = Agreement.objects.select_related("customer").filter(ref=agreement_ref).first()
    if agreement is None:
        raise GrantError(f"--agreement {agreement_ref!r}: no agreement with this ref")
    if agreement.customer_id != owner.person.customer_id:
        raise GrantError(
            f"--agreement {agreement.ref} is customer {agreement.customer.ref}'s; the home's "
            f"owner {owner.ref} belongs to customer {owner.person.customer.ref}, whose agreement "
            "it must be"
        )
    if agreement.start > at:
        raise GrantError(f"--agreement {agreement.ref} starts on {agreement.start}, after today")
    if agreement.end is not None and agreement.end < at:
        raise GrantError(f"--agreement {agreement.ref} ended on {agreement.end}")
    if until < at:
        raise GrantError(f"--until {until} is in the past (today is {at})")
    if agreement.end is not None and until > agreement.end:
        raise GrantError(
            f"--until {until} is after agreement {agreement.ref} ends ({agreement.end})"
        )
    for role, account in (("owner", owner), ("grantee", grantee)):
        if account.closed is not None and account.closed <= at:
            raise GrantError(f"{role} {account.ref} was closed on {account.closed}")
    existing = AccessGrant.objects.filter(owner=owner, grantee=grantee).first()
    if existing is not None:
        raise GrantError(
            f"{grantee.ref} already has access to {owner.ref}'s home ({existing.ref}, until "
            f"{existing.until}): `gallra homes revoke {owner.ref} {grantee.ref}` first"
        )
    uid = expected_uid(grantee)
    if uid is None:
        raise GrantError(
            f"grantee {grantee.ref} has no uid in the registry and there is no user "
            f"{grantee.username!r} on this host: set the account's uid"
        )
    if uid == expected_uid(owner):
        raise GrantError(f"owner and grantee are the same user on the host (uid {uid})")
    home = _real_home(owner)

    with transaction.atomic():
        made = AccessGrant.objects.create(
            owner=owner,
            grantee=grantee,
            agreement=agreement,
            until=until,
            read_only=read_only,
            grantee_uid=uid,
        )
        try:
            acl.modify_tree(home, f"u:{uid}:{made.perms},d:u:{uid}:{made.perms}")
        except acl.AclError as exc:
            _strip(home, uid)  # what did get applied, as far as possible
            raise acl.AclError(
                f"nothing granted: the ACL could not be applied to {home}: {exc}"
            ) from exc
        append(
            "homes.grant",
            actor=actor,
            at=now,
            record_type="account",
            refs=[owner.ref, grantee.ref],
            customers=_customers(owner, grantee),
            data={
                "grant": made.ref,
                "owner": owner.ref,
                "grantee": grantee.ref,
                "agreement": agreement.ref,
                "until": until.isoformat(),
                "read_only": read_only,
            },
        )
    return made


def revoke(owner_name: str, grantee_name: str, *, now: datetime, actor: str) -> bool:
    """End a grant before its date. True when its entries were removed from the disk."""
    owner = find_account(owner_name, "owner")
    grantee = find_account(grantee_name, "grantee")
    found = AccessGrant.objects.filter(owner=owner, grantee=grantee).first()
    if found is None:
        raise GrantError(f"{grantee.ref} has no access grant to {owner.ref}'s home")
    return remove(found, why="revoked", now=now, actor=actor)


def remove(grant: AccessGrant, *, why: str, now: datetime, actor: str) -> bool:
    """Take the grant's entries off the disk, then the grant, with evidence.

    The row goes even when the disk cannot be changed (gallra running on another host, or
    not as root): the grant has ended all the same, and the next `homes audit` reports any
    entry left behind as a violation for `homes fix`.
    """
    removed, problem = _take_off_disk(grant)
    with transaction.atomic():
        grant._removing = True  # this function writes the evidence, not the signal below
        owner, grantee = grant.owner, grant.grantee
        ref = grant.ref
        grant.delete()
        _removed_evidence(ref, owner, grantee, why, removed, problem, now, actor)
    if not removed:
        log.warning("gallra: grant %s ended (%s) but its ACL stays: %s", ref, why, problem)
    return removed


def _take_off_disk(grant: AccessGrant) -> tuple[bool, str]:
    others = AccessGrant.objects.filter(owner_id=grant.owner_id, grantee_uid=grant.grantee_uid)
    if others.exclude(pk=grant.pk).exists():
        return True, ""  # another grant lets the same uid in: its entries stay
    try:
        home = _real_home(grant.owner)
    except GrantError as exc:
        return False, str(exc)
    try:
        acl.remove_tree(home, [f"u:{grant.grantee_uid}", f"d:u:{grant.grantee_uid}"])
    except acl.AclError as exc:
        return False, str(exc)
    return True, ""


def _strip(home: str, uid: int) -> None:
    try:
        acl.remove_tree(home, [f"u:{uid}", f"d:u:{uid}"])
    except acl.AclError:
        log.warning("gallra: could not take back a half-applied grant on %s", home)


def _removed_evidence(ref, owner, grantee, why, removed, problem, now, actor) -> None:
    data = {
        "grant": ref,
        "owner": owner.ref,
        "grantee": grantee.ref,
        "why": why,
        "acl_removed": removed,
    }
    if problem:
        data["problem"] = "home not found" if "does not exist" in problem else "acl not changed"
    append(
        "homes.grant_removed",
        actor=actor,
        at=now,
        record_type="account",
        refs=[owner.ref, grantee.ref],
        customers=_customers(owner, grantee),
        data=data,
    )


def ended(at: date) -> dict[str, list[AccessGrant]]:
    """The grants that no longer hold on `at`, by why (a grant is listed once)."""
    out: dict[str, list[AccessGrant]] = {}
    seen: set[int] = set()
    base = AccessGrant.objects.select_related(
        "owner__person__customer", "grantee__person__customer"
    )
    for why, q in ended_on(at).items():
        rows = [g for g in base.filter(q).order_by("pk") if g.pk not in seen]
        seen.update(g.pk for g in rows)
        if rows:
            out[why] = rows
    return out


def remove_ended_grants(at: date, now: datetime, actor: str) -> dict[str, int]:
    """`enforce`'s part (P3): end every grant that no longer holds on `at`. Never raises for
    one grant's disk: a grant that cannot be taken off the disk is logged and reported by the
    next audit."""
    counts = {}
    for why, grants in ended(at).items():
        for g in grants:
            remove(g, why=why, now=now, actor=actor)
        counts[why] = len(grants)
    return counts


@receiver(pre_delete, sender=AccessGrant)
def _deleted_with_its_record(sender, instance: AccessGrant, **kwargs) -> None:
    """An account or agreement deleted (an erasure, the admin) takes its grants with it."""
    if getattr(instance, "_removing", False):
        return
    removed, problem = _take_off_disk(instance)
    _removed_evidence(
        instance.ref,
        instance.owner,
        instance.grantee,
        "record_deleted",
        removed,
        problem,
        timezone.now(),
        "homes",
    )
