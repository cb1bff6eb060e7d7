"""The outbox's mail as gallra's own data (retention/own.py): the outbox is a service every layer
uses, and retention imports none of them, so its store is registered here, at the top."""

from __future__ import annotations

from datetime import date

from django.db.models import QuerySet
from django.utils.translation import ngettext

from gallra.outbox.models import Mail
from gallra.policy.model import Policy
from gallra.retention.own import OwnDataStore, made_before


class OutboxStore(OwnDataStore):
    """Mail the outbox never delivered: delivery gives up after three days (outbox/delivery.py)
    when a deliverer runs; this rule ends what is left when none did."""

    id = kind = "outbox"
    record_type = "queued_mail"
    ref_field = "ref"  # the request a mail is about (DSR-...), never personal

    def due(self, policy: Policy, at: date) -> QuerySet:
        before = made_before(policy, self.kind, at)
        return Mail.objects.filter(queued__lt=before) if before else Mail.objects.none()

    def said(self, n: int) -> str:
        return ngettext(
            "%(rule)s: %(n)s mail that was never delivered",
            "%(rule)s: %(n)s mails that were never delivered",
            n,
        )
