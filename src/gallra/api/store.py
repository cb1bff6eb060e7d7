"""The API's duplicate marks as a retention store (own_data `duplicate_marks`): the mark of
each login event received through the API goes under the rule, counted from the day it was
received (a sender's retry comes within hours; a mark is not needed after)."""

from __future__ import annotations

from datetime import date

from django.db.models import QuerySet
from django.utils.translation import ngettext

from gallra.api.models import ApiEventSeen
from gallra.policy.model import Policy
from gallra.retention.own import OwnDataStore, made_before


class ApiEventMarkStore(OwnDataStore):
    id = "api_event_marks"
    kind = "duplicate_marks"
    record_type = "api_event_mark"

    def due(self, policy: Policy, at: date) -> QuerySet:
        before = made_before(policy, self.kind, at)
        if before is None:
            return ApiEventSeen.objects.none()
        return ApiEventSeen.objects.filter(received__lt=before)

    def said(self, n: int) -> str:
        return ngettext(
            "%(rule)s: %(n)s mark of a login event received through the API",
            "%(rule)s: %(n)s marks of login events received through the API",
            n,
        )
