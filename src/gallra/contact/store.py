"""The public forms' one-use time stamps as a retention store (own_data `form_guard`): a used
stamp's nonce goes under the rule, counted from the day the stamp was issued. guard.py also
drops them a day old as forms are posted; this rule ends them when no one posts."""

from __future__ import annotations

from datetime import date

from django.db.models import QuerySet
from django.utils.translation import ngettext

from gallra.contact.models import UsedFormToken
from gallra.policy.model import Policy
from gallra.retention.own import OwnDataStore, made_before


class UsedFormTokenStore(OwnDataStore):
    id = "form_tokens"
    kind = "form_guard"
    record_type = "used_form_token"

    def due(self, policy: Policy, at: date) -> QuerySet:
        before = made_before(policy, self.kind, at)
        if before is None:
            return UsedFormToken.objects.none()
        return UsedFormToken.objects.filter(issued__lt=before)

    def said(self, n: int) -> str:
        return ngettext(
            "%(rule)s: %(n)s used form time stamp", "%(rule)s: %(n)s used form time stamps", n
        )
