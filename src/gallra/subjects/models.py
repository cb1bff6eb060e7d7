"""Data-subject requests (GDPR Art. 12, 15-21) as cases with a deadline and proof.

A request is answered within one month of receipt (Art. 12(3)); the deadline moves by up to
two more months only when the subject was told why within the first month. Every such date is
a period of Regulation 1182/71 (`gallra.policy.periods.months_from`): a month that ends on a
weekend or a Swedish public holiday ends on the next working day. Nothing is
released or erased before the subject's identity is verified. Erasure reaches several
stores (gallra and each connected dataset); `StoreStep` records, per store, whether it is
done, so that a failed store keeps the request open and a rerun does only what remains.
"""

from __future__ import annotations

import hashlib
from datetime import date, timedelta

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gallra.policy.periods import months_from


def deadline(received: date, extension_months: int = 0) -> date:
    """The last day to answer a request received on `received`: one month, plus the
    extension, all counted from receipt (Art. 12(3); 1182/71 Art. 3). The one source of every
    due date gallra stores or shows."""
    return months_from(received, 1 + extension_months)


class SubjectRequest(models.Model):
    class Kind(models.TextChoices):
        ACCESS = "access", _("access (Art. 15)")
        PORTABILITY = "portability", _("portability (Art. 20)")
        RECTIFICATION = "rectification", _("rectification (Art. 16)")
        ERASURE = "erasure", _("erasure (Art. 17)")
        RESTRICTION = "restriction", _("restriction (Art. 18)")
        OBJECTION = "objection", _("objection (Art. 21)")

    class Status(models.TextChoices):
        RECEIVED = "received", _("received, identity not verified")
        VERIFIED = "verified", _("identity verified")
        IN_PROGRESS = "in_progress", _("partly done")
        DONE = "done", _("done")
        REFUSED = "refused", _("refused")

    OPEN = (Status.RECEIVED, Status.VERIFIED, Status.IN_PROGRESS)

    ref = models.CharField(_("reference"), max_length=30, unique=True)
    kind = models.CharField(_("type"), max_length=20, choices=Kind.choices)
    email = models.EmailField(_("e-mail"))
    name = models.CharField(_("name"), max_length=200, blank=True)
    username = models.CharField(_("username"), max_length=100, blank=True)
    personnummer = models.CharField(_("personnummer"), max_length=13, blank=True)
    received = models.DateField(_("received"))
    due = models.DateField(_("due"))
    extension_months = models.PositiveSmallIntegerField(_("extended by (months)"), default=0)
    extension_reason = models.TextField(_("reason for the extension"), blank=True)
    extension_told_on = models.DateField(_("subject told of the extension"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.RECEIVED
    )
    verified_at = models.DateTimeField(_("identity verified"), null=True, blank=True)
    verified_how = models.CharField(_("verified how"), max_length=300, blank=True)
    verified_by = models.CharField(_("verified by"), max_length=150, blank=True)
    # Rectification: the identity attribute to change and its new value.
    change_field = models.CharField(_("field to change"), max_length=20, blank=True)
    change_value = models.CharField(_("new value"), max_length=200, blank=True)
    # Objection: the category whose processing the subject objects to.
    category = models.CharField(_("data category"), max_length=100, blank=True)
    note = models.TextField(_("note"), blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    answer = models.JSONField(_("answer"), default=dict, blank=True)

    # Not personal: refs, kinds, dates, states, staff user names, the name of the field to
    # change and a policy category. Personal: who asked and every free text (kept out).
    plain_fields = (
        *("id", "ref", "kind", "received", "due", "extension_months", "extension_told_on"),
        *("status", "verified_at", "verified_by", "change_field", "category", "closed_at"),
    )

    class Meta:
        verbose_name = _("data-subject request")
        verbose_name_plural = _("data-subject requests")
        ordering = ["due", "received", "pk"]  # refs are random: ties go by date of receipt
        indexes = [models.Index(fields=["status", "due"]), models.Index(fields=["email"])]

    def __str__(self) -> str:
        return f"{self.ref} ({self.get_kind_display()})"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN

    @property
    def is_verified(self) -> bool:
        return self.verified_at is not None

    def is_overdue(self, today: date | None = None) -> bool:
        return self.is_open and self.due < (today or timezone.localdate())

    def first_due(self) -> date:
        """The end of the first month: the last day to tell the subject of an extension."""
        return deadline(self.received)


class VerificationLink(models.Model):
    """A one-time link mailed to the subject's address on record. Only its hash is stored."""

    request = models.ForeignKey(SubjectRequest, models.CASCADE, related_name="links")
    token_hash = models.CharField(max_length=64, unique=True)
    sent_to = models.EmailField()
    created = models.DateTimeField()
    expires = models.DateTimeField()
    used = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("verification link")
        verbose_name_plural = _("verification links")

    def __str__(self) -> str:
        return f"{self.request.ref}: {self.sent_to}"

    @staticmethod
    def hash(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()


class StoreStep(models.Model):
    """How far a request got in one store ("gallra" or a dataset id)."""

    class Status(models.TextChoices):
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    request = models.ForeignKey(SubjectRequest, models.CASCADE, related_name="steps")
    store = models.CharField(_("store"), max_length=100)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    detail = models.TextField(_("detail"), blank=True)
    at = models.DateTimeField(_("at"))
    result = models.JSONField(default=dict, blank=True)

    plain_fields = ("id", "request", "store", "status", "at")  # not: detail, result

    class Meta:
        verbose_name = _("store step")
        verbose_name_plural = _("store steps")
        constraints = [
            models.UniqueConstraint(fields=["request", "store"], name="one_step_per_store")
        ]

    def __str__(self) -> str:
        return f"{self.store}: {self.status}"


class Restriction(models.Model):
    """Art. 18: while active, the subject's data is only stored."""

    email = models.EmailField(_("e-mail"), db_index=True)
    request = models.ForeignKey(SubjectRequest, models.PROTECT, related_name="restrictions")
    since = models.DateTimeField(_("since"))
    lifted = models.DateTimeField(_("lifted"), null=True, blank=True)
    lifted_by = models.CharField(_("lifted by"), max_length=150, blank=True)

    class Meta:
        verbose_name = _("restriction")
        verbose_name_plural = _("restrictions")

    def __str__(self) -> str:
        return f"{self.request.ref} ({self.since:%Y-%m-%d})"


class Objection(models.Model):
    """Art. 21: an objection to processing of one category, and what came of it."""

    class Outcome(models.TextChoices):
        UPHELD = "upheld", _("upheld: processing stopped and data erased")
        NOT_APPLICABLE = "not_applicable", _("not applicable to the legal basis")

    email = models.EmailField(_("e-mail"), db_index=True)
    request = models.ForeignKey(SubjectRequest, models.PROTECT, related_name="objections")
    category = models.CharField(_("data category"), max_length=100)
    legal_basis = models.CharField(_("legal basis"), max_length=40)
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices)
    at = models.DateTimeField(_("recorded"))

    class Meta:
        verbose_name = _("objection")
        verbose_name_plural = _("objections")

    def __str__(self) -> str:
        return f"{self.request.ref}: {self.category}"


class ExportFile(models.Model):
    """The ZIP that answers an access or portability request, made by a job rather than in the
    request (gallra/background.py): sealed under the master key like the outbox's mail, kept
    KEPT for staff to download and hand over, then deleted by the daily run."""

    KEPT = timedelta(days=7)

    request = models.OneToOneField(SubjectRequest, models.CASCADE, related_name="export_file")
    made = models.DateTimeField(_("made"))
    key_id = models.CharField(_("key"), max_length=16)
    sealed = models.BinaryField(_("sealed content"))

    plain_fields = ("id", "request", "made", "key_id")  # not: sealed

    class Meta:
        verbose_name = _("export file")
        verbose_name_plural = _("export files")

    def __str__(self) -> str:
        return f"{self.request.ref}: {self.made:%Y-%m-%d %H:%M}"
