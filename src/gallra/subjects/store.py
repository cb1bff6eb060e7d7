"""Closed data-subject requests as a retention store: each goes under its rule (own_data
`subject_requests`, trigger "last_activity"), counted from the day it was closed.

An open request never goes, nor one whose restriction (Art. 18) is still in force: the
restriction is the request's work still going on, and its lifting is the request's last
activity. With a request go its verification links, store steps, lifted restrictions and
objections; its evidence entries (refs and dates only) stay under the evidence log's rule.
"""

from __future__ import annotations

from datetime import date

from django.db.models import QuerySet
from django.utils.translation import ngettext

from gallra.policy.model import Policy
from gallra.retention.own import OwnDataStore, made_before
from gallra.subjects.models import Objection, Restriction, SubjectRequest


class SubjectRequestStore(OwnDataStore):
    id = kind = "subject_requests"
    record_type = "subject_request"
    ref_field = "ref"  # DSR-...: random, never personal

    def due(self, policy: Policy, at: date) -> QuerySet:
        before = made_before(policy, self.kind, at)
        if before is None:
            return SubjectRequest.objects.none()
        still_restricted = Restriction.objects.filter(lifted__isnull=True).values("request")
        lifted_later = Restriction.objects.filter(lifted__gte=before).values("request")
        return (
            SubjectRequest.objects.exclude(status__in=SubjectRequest.OPEN)
            .filter(closed_at__lt=before)
            .exclude(pk__in=still_restricted)
            .exclude(pk__in=lifted_later)
        )

    def delete_rows(self, pks: list) -> int:
        # Objections and restrictions protect their request: they go first (all lifted).
        Objection.objects.filter(request__in=pks).delete()
        Restriction.objects.filter(request__in=pks, lifted__isnull=False).delete()
        return (
            SubjectRequest.objects.filter(pk__in=pks).delete()[1].get(SubjectRequest._meta.label, 0)
        )

    def said(self, n: int) -> str:
        return ngettext(
            "%(rule)s: %(n)s closed data-subject request",
            "%(rule)s: %(n)s closed data-subject requests",
            n,
        )
