"""A mail waiting to go out. What it says, to whom and from whom is sealed (sealing.py): the
website keeps no personal data in clear (P20), and the row is deleted once the mail is
delivered or given up."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Mail(models.Model):
    # Not plain: `sealed` (a secret), `last_error` (a relay's words, addresses taken out).
    plain_fields = (
        *("id", "kind", "ref", "key_id", "composed", "queued", "next_attempt", "attempts"),
        "claimed_until",
    )

    kind = models.CharField(_("kind"), max_length=40)
    # A reference the mail is about (a request's DSR-...), for the evidence log; never personal.
    ref = models.CharField(_("reference"), max_length=64, blank=True)
    sealed = models.BinaryField(_("sealed content"))
    key_id = models.CharField(_("key"), max_length=16)
    # False: `sealed` holds what the kind's composer needs; it writes the mail at delivery.
    composed = models.BooleanField(_("composed"), default=True)
    queued = models.DateTimeField(_("queued"), db_index=True)
    next_attempt = models.DateTimeField(_("next attempt"), db_index=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    claimed_until = models.DateTimeField(_("claimed by a deliverer until"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("queued mail")
        verbose_name_plural = _("queued mails")
        ordering = ["next_attempt", "pk"]

    def __str__(self) -> str:
        return f"{self.kind} {self.ref or self.pk} ({self.attempts} attempts)"
