"""Staff roles follow the policy (P22): one Django group per `[[role]]`, with the permissions
of the areas the role answers for. Seeing personal data is a separate grant
(`personal_data = true` on the role); the accountable role may do everything, and is the only
one that may lift a legal hold or reveal a sealed address."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.db.models import Q

from gallra.evidence import log
from gallra.policy.model import Policy
from gallra.staff.models import RoleGroup

PERSONAL_DATA = "registry.view_personal_data"
LIFT_LEGAL_HOLD = "registry.lift_legal_hold"
REVEAL_ADDRESS = "logins.reveal_address"

# What each area of responsibility covers: the models its role may view, add, change, delete.
AREAS: dict[str, list[str]] = {
    "customer_data": [
        *("registry.customer", "registry.agreement", "registry.person", "registry.account"),
        *("registry.customerrequest", "registry.technicaldocument", "registry.credential"),
        *("registry.hold", "subjects.subjectrequest", "homes.accessgrant"),
    ],
    "correspondence": [
        "registry.prospect",
        "registry.quote",
        "registry.correspondence",
        "mailboxes.mailmessage",
    ],
    "logins": ["logins.loginalert", "logins.loginevent", "logins.ingesttoken"],
    "backups": ["backups.backuprun"],
    "website": ["consent.consentdecision"],
    "accounting": ["registry.invoice"],
}
# What every member of staff may do: look at the work and its proof, report a breach, and
# mark their manual tasks done.
EVERYONE = [
    "view_entry",
    "view_enforcementrun",
    "view_manualtask",
    "change_manualtask",
    "view_loginalert",
    "view_accessgrant",
    "view_backuprun",
    "view_incident",
    "add_incident",
    "view_duerecord",
]
CUSTOM = {PERSONAL_DATA, LIFT_LEGAL_HOLD, REVEAL_ADDRESS}
MODEL, CODENAME = "content_type__model", "codename"


def _permissions(names: Iterable[str], field: str) -> Q:
    """Permissions named "app.model" (field "content_type__model") or "app.codename"."""
    q = Q(pk__in=[])
    for name in names:
        app, rest = name.split(".")
        q |= Q(content_type__app_label=app, **{field: rest})
    return q


def permissions_for(policy: Policy, role: str) -> set[Permission]:
    everything = Permission.objects.all()
    if role == policy.organisation.accountable:
        return set(everything)
    areas = [a for a, r in policy.responsibilities.items() if r == role]
    models = [m for a in areas for m in AREAS.get(a, [])]
    chosen = (_permissions(models, MODEL) & ~_permissions(CUSTOM, CODENAME)) | Q(
        codename__in=EVERYONE
    )
    if any(r.id == role and r.personal_data for r in policy.role):
        chosen |= _permissions([PERSONAL_DATA], CODENAME)
    return set(everything.filter(chosen))


def sync(policy: Policy) -> list[tuple[str, int]]:
    """Make each role's group hold exactly its permissions; (role, number of permissions).
    Each group is marked as gallra's (RoleGroup), so `prune` may remove it when its role
    leaves the policy."""
    out = []
    for role in policy.role:
        group, _ = Group.objects.get_or_create(name=role.id)
        RoleGroup.objects.get_or_create(group=group)
        permissions = permissions_for(policy, role.id)
        group.permissions.set(permissions)
        out.append((role.id, len(permissions)))
    return out


@dataclass(frozen=True)
class Pruned:
    """What `prune` removed: each old role with the user names who were in it, and the
    active staff who are now in no role at all (superusers among them still may do
    everything)."""

    removed: dict[str, list[str]] = field(default_factory=dict)
    without_role: list[str] = field(default_factory=list)
    superusers: list[str] = field(default_factory=list)


def prune(policy: Policy, *, actor: str, now: datetime) -> Pruned:
    """Delete the groups sync made for roles the policy no longer has, with an evidence entry
    each naming the staff who lose it. Groups made by hand (unmarked) are left alone, even
    when named like an old role."""
    users = get_user_model()
    keep = {r.id for r in policy.role}
    removed: dict[str, list[str]] = {}
    affected: dict[int, object] = {}
    with transaction.atomic():
        for group in Group.objects.filter(gallra_role__isnull=False).exclude(name__in=keep):
            members = list(group.user_set.order_by(users.USERNAME_FIELD))
            removed[group.name] = [u.get_username() for u in members]
            affected.update((u.pk, u) for u in members)
            log.append(
                "staff_role_removed",
                actor=actor,
                at=now,
                refs=[f"staff:{u.pk}" for u in members],
                data={"role": group.name},
            )
            group.delete()
    left = [
        u
        for u in affected.values()
        if u.is_active and not u.groups.filter(gallra_role__isnull=False).exists()
    ]
    left.sort(key=lambda u: u.get_username())
    return Pruned(
        dict(sorted(removed.items())),
        [u.get_username() for u in left],
        [u.get_username() for u in left if u.is_superuser],
    )


def of(user) -> list[str]:
    """The policy roles `user` is in (gallra's groups only), sorted."""
    return sorted(user.groups.filter(gallra_role__isnull=False).values_list("name", flat=True))


def accountable_members(policy: Policy) -> list[str]:
    """Active staff in the accountable role: sync warns when there are none."""
    users = get_user_model().objects.filter(
        is_active=True, is_staff=True, groups__name=policy.organisation.accountable
    )
    return sorted(users.values_list(get_user_model().USERNAME_FIELD, flat=True))


def needs_two_factor(user) -> bool:
    """Two-factor login is mandatory for whoever can see personal data (P8)."""
    return user.is_superuser or user.has_perm(PERSONAL_DATA)
