"""Adding staff and enrolling their second factor: what `gallra staff` and `gallra init` do."""

from __future__ import annotations

import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gallra.evidence import log
from gallra.policy.model import Policy
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


def add(
    policy: Policy, username: str, role_ids: list[str], *, email: str = "", actor: str
) -> tuple[object, str, str]:
    """Create a staff member in the policy's roles: (user, password, TOTP secret).

    The password is random and shown once; the staff member changes it in the admin, where
    the password policy applies.
    """
    known = {r.id for r in policy.role}
    unknown = [r for r in role_ids if r not in known]
    if unknown:
        raise StaffError(
            _("unknown role %(role)r: the policy has %(known)s")
            % {"role": unknown[0], "known": ", ".join(sorted(known))}
        )
    users = get_user_model()
    if users.objects.filter(username=username).exists():
        raise StaffError(_("staff user %(user)r exists already") % {"user": username})
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
    return user, password, secret


def set_password(user, password: str, *, actor: str) -> None:
    """A new password for `user`, if the password policy (AUTH_PASSWORD_VALIDATORS) accepts
    it: ValidationError, naming each reason, if not. Sessions logged in with the old one end."""
    validate_password(password, user)
    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        log.append("staff_password_set", actor=actor, at=timezone.now(), refs=[f"staff:{user.pk}"])
