"""Failed staff logins as a retention store (own_data `form_guard`): the lockout counts them
for a quarter of an hour (views.py); the rule ends what no later login swept away."""

from __future__ import annotations

from datetime import date

from django.db.models import QuerySet
from django.utils.translation import ngettext

from gallra.policy.model import Policy
from gallra.retention.own import OwnDataStore, made_before
from gallra.staff.models import LoginFailure


class LoginFailureStore(OwnDataStore):
    id = "staff_login_failures"
    kind = "form_guard"
    record_type = "staff_login_failure"

    def due(self, policy: Policy, at: date) -> QuerySet:
        before = made_before(policy, self.kind, at)
        if before is None:
            return LoginFailure.objects.none()
        return LoginFailure.objects.filter(at__lt=before)

    def said(self, n: int) -> str:
        return ngettext(
            "%(rule)s: %(n)s failed staff login", "%(rule)s: %(n)s failed staff logins", n
        )
