"""Proof of each cookie decision a visitor made (GDPR Art. 7(1)), append-only.

A decision names a random consent id the visitor's browser made and keeps, never the
visitor: no IP address, no user agent, nothing else that could single them out.

Bounded (docs/consent.md#limits): a decision that repeats the consent id's last one of the
same day is not stored again, and a consent id stores at most CHANGES_PER_DAY decisions in
24 hours; a real visitor's decisions, changes of mind included, stay far below it.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ConsentDecision(models.Model):
    CHANGES_PER_DAY = 20

    class Action(models.TextChoices):
        ACCEPT_ALL = "accept_all", _("accepted all")
        REJECT_ALL = "reject_all", _("rejected all")
        CUSTOM = "custom", _("chose per category")
        WITHDRAW = "withdraw", _("withdrew consent")
        GPC = "gpc", _("Global Privacy Control: refused")

    consent_id = models.CharField(_("consent id"), max_length=36, db_index=True)
    action = models.CharField(_("action"), max_length=12, choices=Action.choices)
    categories = models.JSONField(_("choice per category"))
    services = models.JSONField(_("choice per service"), default=dict)
    banner_revision = models.PositiveIntegerField(_("banner revision"))
    policy_revision = models.PositiveIntegerField(_("policy version"))
    text_hash = models.CharField(_("hash of the text shown"), max_length=64)
    locale = models.CharField(_("language"), max_length=5)
    at = models.DateTimeField(_("time (UTC)"))

    # Not plain: `consent_id`, an online identifier of the visitor (GDPR recital 30).
    plain_fields = (
        *("id", "action", "categories", "services", "banner_revision", "policy_revision"),
        *("text_hash", "locale", "at"),
    )

    class Meta:
        verbose_name = _("consent decision")
        verbose_name_plural = _("consent decisions")
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.consent_id} {self.action} ({self.at:%Y-%m-%d %H:%M})"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise ValueError("a consent decision is proof: it is never changed")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        # Only its retention rule ends it, in bulk with evidence (store.py).
        raise ValueError("a consent decision is proof: it is never deleted")

    def same_choice(self, other: ConsentDecision) -> bool:
        """The same choice, made on the same banner (revision, text, language, policy)."""
        fields = (
            "action",
            "categories",
            "services",
            "banner_revision",
            "policy_revision",
            "text_hash",
            "locale",
        )
        return all(getattr(self, f) == getattr(other, f) for f in fields)
