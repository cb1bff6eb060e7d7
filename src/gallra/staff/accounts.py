"""Adding staff and enrolling their second factor: what `gallra staff` and `gallra init` do."""

from __future__ import annotations

import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gallra.evidence import log
from gallra.policy.model import Policy
from gallra.retention import tasks
from gallra.staff import roles, totp
from gallra.staff.models import TwoFactor


class StaffError(ValueError):
    pass


def enrol(user, *, actor: str) -> str:
    """A new TOTP secret for `user` (the old one stops working); returns the secret."""
    secret = totp.new_secret()
    with transaction.atomic():
        TwoFactor.objects.update_or_create(
            user=user, defaults={"secret": secret, "created": timezone.now(), "last_step": 0}
        )
        log.append(
            "staff_two_factor_enrolled", actor=actor, at=timezone.now(), refs=[f"staff:{user.pk}"]
        )
    return secret


def _known_roles(policy: Policy, role_ids: list[str]) -> None:
    known = {r.id for r in policy.role}
    unknown = [r for r in role_ids if r not in known]
    if unknown:
        raise StaffError(
            _("unknown role %(role)r: the policy has %(known)s")
            % {"role": unknown[0], "known": ", ".join(sorted(known))}
        )


def add(
    policy: Policy, username: str, role_ids: list[str], *, email: str = "", actor: str
) -> tuple[object, str, str, dict[str, int]]:
    """Create a staff member in the policy's roles: (user, password, TOTP secret, the open
    manual tasks they were given per user name: those of their areas, tasks.follow_staff).

    The password is random and shown once; the staff member changes it in the admin, where
    the password policy applies.
    """
    _known_roles(policy, role_ids)
    users = get_user_model()
    if users.objects.filter(username=username).exists():
        raise StaffError(
            _(
                "staff user %(user)r exists already; to change their role: "
                "gallra staff role %(user)s ROLE"
            )
            % {"user": username}
        )
    password = secrets.token_urlsafe(18)
    with transaction.atomic():
        roles.sync(policy)
        user = users(username=username, email=email, is_staff=True)
        validate_password(password, user)
        user.set_password(password)
        user.save()
        user.groups.set(Group.objects.filter(name__in=role_ids))
        log.append(
            "staff_added",
            actor=actor,
            at=timezone.now(),
            refs=[f"staff:{user.pk}"],
            data={"roles": sorted(role_ids)},
        )
        secret = enrol(user, actor=actor)
    return user, password, secret, tasks.follow_staff(policy, timezone.now(), actor=actor)


def set_roles(
    policy: Policy, username: str, role_ids: list[str], *, actor: str
) -> tuple[object, list[str], dict[str, int]]:
    """Put a staff member in exactly these policy roles: (user, the roles they had, the open
    manual tasks handed out since, per user name). Groups made by hand are kept; the
    change is in the evidence log. Raises StaffError, changing nothing, for an unknown role
    or user."""
    if not role_ids:
        raise StaffError(_("name at least one role"))
    _known_roles(policy, role_ids)
    user = get_user_model().objects.filter(username=username, is_staff=True).first()
    if user is None:
        raise StaffError(_("no staff user %(user)r") % {"user": username})
    with transaction.atomic():
        roles.sync(policy)  # the groups exist, with today's permissions
        before = roles.of(user)
        user.groups.remove(*Group.objects.filter(gallra_role__isnull=False))
        user.groups.add(*Group.objects.filter(name__in=role_ids))
        log.append(
            "staff_role_set",
            actor=actor,
            at=timezone.now(),
            refs=[f"staff:{user.pk}"],
            data={"roles": sorted(set(role_ids)), "before": before},
        )
    return user, before, tasks.follow_staff(policy, timezone.now(), actor=actor)


def set_email(username: str, email: str, *, actor: str) -> object:
    """A staff member's e-mail address, where their task reminders go. Raises StaffError,
    changing nothing, for an unknown user or an address that is not one. The evidence
    entry says it changed, not what to (the log holds no addresses)."""
    users = get_user_model()
    try:
        validate_email(email)
        if len(email) > users._meta.get_field("email").max_length:
            raise ValidationError("too long")
    except ValidationError:
        raise StaffError(_("%(email)r is not an e-mail address") % {"email": email}) from None
    user = users.objects.filter(username=username, is_staff=True).first()
    if user is None:
        raise StaffError(_("no staff user %(user)r") % {"user": username})
    with transaction.atomic():
        user.email = email
        user.save(update_fields=["email"])
        log.append("staff_email_set", actor=actor, at=timezone.now(), refs=[f"staff:{user.pk}"])
    return user


def set_password(user, password: str, *, actor: str) -> None:
    """A new password for `user`, if the password policy (AUTH_PASSWORD_VALIDATORS) accepts
    it: ValidationError, naming each reason, if not. Sessions logged in with the old one end."""
    validate_password(password, user)
    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        log.append("staff_password_set", actor=actor, at=timezone.now(), refs=[f"staff:{user.pk}"])
