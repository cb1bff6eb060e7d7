"""Consent proofs as a retention store: each decision goes under its rule (own_data
`consent_proofs`, trigger "created": the day of the decision). The policy check keeps the
rule at least as long as any cookie a decision lets the site set (docs/retention.md)."""

from __future__ import annotations

from datetime import date

from django.db.models import QuerySet
from django.utils.translation import ngettext

from gallra.consent.models import ConsentDecision
from gallra.policy.model import Policy
from gallra.retention.own import OwnDataStore, made_before


class ConsentProofStore(OwnDataStore):
    id = kind = "consent_proofs"
    record_type = "consent_decision"  # no refs: a consent id is the visitor's identifier

    def due(self, policy: Policy, at: date) -> QuerySet:
        before = made_before(policy, self.kind, at)
        if before is None:
            return ConsentDecision.objects.none()
        return ConsentDecision.objects.filter(at__lt=before)

    def said(self, n: int) -> str:
        return ngettext("%(rule)s: %(n)s consent decision", "%(rule)s: %(n)s consent decisions", n)
