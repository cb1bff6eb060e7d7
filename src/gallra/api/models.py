"""Bearer tokens for the HTTP API. A token acts for one staff user, with that user's
permissions; only its SHA-256 is stored, so the database alone cannot be used to call the API.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gallra.evidence import log
from gallra.logins.tokens import digest

PREFIX = "gla_"
LAST_USED_STEP = timedelta(minutes=1)  # `last_used` is written at most this often per token


class TokenError(Exception):
    """A token cannot be made or revoked as asked; the message says why."""


class ApiToken(models.Model):
    name = models.CharField(_("name"), max_length=100)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.CASCADE,
        related_name="api_tokens",
        verbose_name=_("acts for"),
    )
    digest = models.CharField(max_length=64, unique=True)  # SHA-256 of the token
    created = models.DateTimeField(_("created"))
    last_used = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked = models.DateTimeField(_("revoked"), null=True, blank=True)

    plain_fields = ("id", "name", "user", "created", "last_used", "revoked")  # not: digest

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["name", "-created"]
        # A revoked token keeps its name in the list; a new one may take the name again.
        constraints = [
            models.UniqueConstraint(
                fields=["name"], condition=models.Q(revoked__isnull=True), name="api_token_name"
            )
        ]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def issue(cls, name: str, user, *, now: datetime, actor: str) -> str:
        """A new token for `user`, returned once; only its digest is kept."""
        if not name or len(name) > 100:
            raise TokenError("a token's name is 1 to 100 characters")
        if not user.is_active:
            raise TokenError(f"user {user.get_username()!r} is not active")
        token = PREFIX + secrets.token_urlsafe(32)
        with transaction.atomic():
            if cls.objects.filter(name=name, revoked__isnull=True).exists():
                raise TokenError(
                    f"an active token named {name!r} exists; revoke it or pick another name"
                )
            cls.objects.create(name=name, user=user, digest=digest(token), created=now)
            log.append(
                "api_token_created",
                actor=actor,
                at=now,
                record_type="api_token",
                refs=[name],
                data={"acts_for": user.get_username()},
            )
        return token

    @classmethod
    def revoke(cls, name: str, *, now: datetime, actor: str) -> None:
        with transaction.atomic():
            if not cls.objects.filter(name=name, revoked__isnull=True).update(revoked=now):
                raise TokenError(f"no active token named {name!r}")
            log.append(
                "api_token_revoked", actor=actor, at=now, record_type="api_token", refs=[name]
            )

    @classmethod
    def authenticate(cls, token: str, now: datetime) -> ApiToken | None:
        """The active token of an active user that `token` is, if any; notes its use."""
        found = (
            cls.objects.select_related("user")
            .filter(digest=digest(token), revoked__isnull=True, user__is_active=True)
            .first()
        )
        if found is not None and (
            found.last_used is None or now - found.last_used >= LAST_USED_STEP
        ):
            cls.objects.filter(pk=found.pk).update(last_used=now)
            found.last_used = now
        return found


class ApiEventSeen(models.Model):
    """The id of each login event already stored through the API, so a retried post is
    harmless (as logins.WebEventSeen does for ingest tokens). Forgotten under the policy's
    duplicate-marks rule, counted from `received` (store.py): a sender retries within hours."""

    token = models.ForeignKey(ApiToken, models.CASCADE)
    digest = models.CharField(max_length=64)  # SHA-256 of the sender's event id
    at = models.DateTimeField(db_index=True)  # the event's time
    received = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("login event received through the API")
        verbose_name_plural = _("login events received through the API")
        constraints = [
            models.UniqueConstraint(fields=["token", "digest"], name="api_event_once"),
        ]

    def __str__(self) -> str:
        return self.digest
