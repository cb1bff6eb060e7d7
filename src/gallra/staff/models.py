"""Staff login (P8): the second factor of each staff member, and the failures that lock out."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gallra.staff import totp


class TwoFactor(models.Model):
    """A staff member's TOTP secret. The last step used is kept so a code works only once.

    The secret is stored as the authenticator app holds it: like the password hash it is
    useless without the other factor, and wrapping it under the master key would tie staff
    login to key rotation (docs/staff.md).
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="two_factor"
    )
    secret = models.CharField(max_length=64)
    created = models.DateTimeField(default=timezone.now)
    last_step = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("two-factor login")
        verbose_name_plural = _("two-factor logins")

    def __str__(self) -> str:
        return str(self.user)

    def accept(self, code: str, at: float | None = None) -> bool:
        """Whether `code` is valid now and not used before; a valid code is used up."""
        step = totp.matching_step(self.secret, code, at)
        if step is None or step <= self.last_step:
            return False
        # Conditional update: two posts of the same code at once cannot both win.
        won = TwoFactor.objects.filter(pk=self.pk, last_step__lt=step).update(last_step=step)
        self.last_step = step
        return bool(won)


class LoginFailure(models.Model):
    """One staff login attempt, counted per account and per client over a window.

    An attempt is counted before its password is checked and stays counted unless the login
    succeeds; so the rows are the failed and the refused attempts of the window.
    `key` is a keyed digest of "account:NAME" or "client:ADDRESS": neither the name typed
    (it may be a password typed into the wrong field) nor the address is stored.
    """

    key = models.CharField(max_length=64, db_index=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("failed staff login")
        verbose_name_plural = _("failed staff logins")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S}"

    @staticmethod
    def key_for(kind: str, value: str) -> str:
        message = f"{kind}:{value}".encode()
        return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()

    @classmethod
    def attempt(
        cls, keys: dict[str, int], window: timedelta, now: datetime | None = None
    ) -> tuple[list[int], datetime | None]:
        """Count an attempt against each of `keys` (key -> attempts allowed in `window`),
        then say whether it may be checked: (the attempt's rows, None) when it may, or
        (its rows, when the first locked key unlocks) when it is refused.

        Count first, then check: the attempt's rows are committed before anything is
        counted. Of any number of attempts at once, the one whose count is taken last sees
        the rows of every attempt counted before it, so at most `allowed` of them can see no
        more than `allowed` rows: no more than that many passwords are checked in a window,
        however many threads, processes or database connections race (PostgreSQL and SQLite
        alike; no lock is held). Needs autocommit: the login view opts out of
        ATOMIC_REQUESTS.
        """
        now = now or timezone.now()
        with transaction.atomic():  # one short write, committed here, before the count
            cls.objects.filter(at__lt=now - window).delete()
            mine = [r.pk for r in cls.objects.bulk_create(cls(key=k, at=now) for k in keys)]
        until = None
        for key, allowed in keys.items():
            times = list(
                cls.objects.filter(key=key, at__gte=now - window)
                .order_by("-at")
                .values_list("at", flat=True)[: allowed + 1]
            )
            if len(times) > allowed:  # this attempt is one too many
                # It stays counted. The key opens again when fewer than `allowed` rows are
                # left in the window (the next attempt makes `allowed`): when the oldest of
                # the `allowed` newest leaves it.
                unlock = times[allowed - 1] + window
                until = unlock if until is None else max(until, unlock)
        return mine, until

    @classmethod
    def succeeded(cls, account_key: str, attempt: list[int]) -> None:
        """A successful login forgets the account's attempts, and is no failed attempt of
        its client either."""
        cls.objects.filter(models.Q(key=account_key) | models.Q(pk__in=attempt)).delete()


class RoleGroup(models.Model):
    """Marks a Django group that `gallra staff sync` made for a policy `[[role]]`.

    Sync deletes a marked group once its role has left the policy; a group someone made by
    hand in the admin carries no mark and is never touched (docs/staff.md).
    """

    group = models.OneToOneField(
        "auth.Group",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="gallra_role",
        verbose_name=_("group"),
    )

    plain_fields = ("group",)

    class Meta:
        verbose_name = _("role group")
        verbose_name_plural = _("role groups")

    def __str__(self) -> str:
        return str(self.group)
