"""The one thing the public forms keep: which form time stamps were used, by their random
nonce (nothing about the visitor), for as long as a time stamp is valid."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class UsedFormToken(models.Model):
    plain_fields = ("id", "nonce", "issued")

    nonce = models.CharField(_("nonce"), max_length=32, unique=True)
    issued = models.DateTimeField(_("issued"), db_index=True)

    class Meta:
        verbose_name = _("used form time stamp")
        verbose_name_plural = _("used form time stamps")

    def __str__(self) -> str:
        return self.nonce
