"""Login events (P6, P7), the keys that seal their addresses, and the alerts raised on them.

No column holds a raw IP address or an unknown user name. The address is kept truncated
(`network`) with its country, and whole only `sealed` under a sealing key that gallra itself
cannot open: the key is stored wrapped to the escrow public key, whose private half exists
only as shares held by different people (see escrow.py).
"""

from __future__ import annotations

from datetime import datetime

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

SUCCESS, FAILURE, ABORTED = "success", "failure", "aborted"
OUTCOMES = [
    (SUCCESS, _("success")),
    (FAILURE, _("failure")),
    (ABORTED, _("closed before authentication")),
]


# What a web application may say about a login (docs/logins.md): a closed list, so that no
# free text (an address, a name) is ever stored in the clear through these columns. "ssh"
# and "gallra" are not among the services: those events come from gallra itself.
WEB_METHODS = (
    "password",
    "password+totp",
    "password+sms",
    "password+email",
    "password+webauthn",
    "passkey",
    "key",
    "certificate",
    "token",
    "sso",
    "magic-link",
    "other",
)
WEB_SERVICES = (
    "web",
    "webmail",
    "mail",
    "panel",
    "portal",
    "cms",
    "shop",
    "cloud",
    "ftp",
    "vpn",
    "git",
    "database",
    "api",
    "sso",
    "chat",
    "wiki",
    "other",
)


class Escrow(models.Model):
    """The escrow public key. Its private half was split into shares and never stored."""

    created = models.DateTimeField()
    public_key = models.BinaryField()  # X25519, 32 bytes
    set_id = models.CharField(max_length=8)  # printed on every share of this key
    shares = models.PositiveSmallIntegerField()
    threshold = models.PositiveSmallIntegerField()
    retired = models.DateTimeField(null=True, blank=True)

    plain_fields = ("id", "created", "public_key", "set_id", "shares", "threshold", "retired")

    class Meta:
        verbose_name = _("escrow key")
        verbose_name_plural = _("escrow keys")

    def __str__(self) -> str:
        return f"{self.set_id} ({self.threshold}/{self.shares})"

    @classmethod
    def make(cls, shares: int, threshold: int, now: datetime) -> list[str]:
        """A new current escrow key (the old one retired); returns the share texts, once."""
        from gallra.logins.escrow import new_escrow

        public, set_id, texts = new_escrow(shares, threshold)
        cls.objects.filter(retired__isnull=True).update(retired=now)
        cls.objects.create(
            created=now, public_key=public, set_id=set_id, shares=shares, threshold=threshold
        )
        return texts

    @classmethod
    def current(cls) -> Escrow | None:
        return cls.objects.filter(retired__isnull=True).order_by("-pk").first()


class MonthKey(models.Model):
    """A month's pseudonym key (HMAC-SHA256 of unknown user names), wrapped by the master key.

    Destroyed with the month's sealing keys once the policy's reveal period has run out.
    """

    month = models.DateField(unique=True)  # first day of the month (UTC)
    wrapped = models.BinaryField()
    # The master key that wraps it (crypto.master_id), so that a rotation can rewrap it;
    # empty for keys made before it was kept (sealing.py finds their master by trying).
    master = models.CharField(max_length=16, blank=True, default="")

    class Meta:
        verbose_name = _("month key")
        verbose_name_plural = _("month keys")

    def __str__(self) -> str:
        return f"{self.month:%Y-%m}"


class SealingKey(models.Model):
    """A data key that sealed one month's addresses for one ingesting process.

    Only the process that made it ever held it in the clear; stored, it is wrapped to the
    escrow key (X25519 + HKDF + AES-256-GCM), so revealing needs the escrow shares.
    """

    month = models.DateField(db_index=True)
    escrow = models.ForeignKey(Escrow, on_delete=models.PROTECT)
    ephemeral_public = models.BinaryField()
    wrapped = models.BinaryField()
    created = models.DateTimeField()

    class Meta:
        verbose_name = _("sealing key")
        verbose_name_plural = _("sealing keys")

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} #{self.pk}"


class DestroyedMonth(models.Model):
    """A month whose keys are gone: its events can never be revealed or linked again."""

    month = models.DateField(unique=True)
    destroyed = models.DateTimeField()
    sealing_keys = models.PositiveIntegerField()

    plain_fields = ("id", "month", "destroyed", "sealing_keys")

    class Meta:
        verbose_name = _("destroyed month")
        verbose_name_plural = _("destroyed months")

    def __str__(self) -> str:
        return f"{self.month:%Y-%m}"


class LoginEvent(models.Model):
    """One login attempt. On PostgreSQL the table is partitioned by month (see partitions.py)."""

    at = models.DateTimeField()
    outcome = models.CharField(max_length=8, choices=OUTCOMES)
    method = models.CharField(max_length=40)  # password, publickey, invalid_user, ...
    service = models.CharField(max_length=40)  # ssh, or what a web login names
    host = models.CharField(max_length=255, blank=True)  # the server that logged it
    account = models.CharField(max_length=150, blank=True)  # a registry account's username
    pseudonym = models.CharField(max_length=32, blank=True)  # any other user name, keyed
    network = models.CharField(max_length=43, blank=True)  # 203.0.113.0/24, 2001:db8:1::/48
    country = models.CharField(max_length=2, blank=True)
    sealed = models.BinaryField()  # the full address, AES-256-GCM under `sealed_with`
    sealed_with = models.BigIntegerField()  # a SealingKey's id; no constraint: keys go first

    # Not plain: the account's user name, the pseudonym of any other and the sealed address.
    plain_fields = (
        *("id", "at", "outcome", "method", "service", "host"),
        *("network", "country", "sealed_with"),
    )

    class Meta:
        verbose_name = _("login event")
        verbose_name_plural = _("login events")
        permissions = [("reveal_address", _("Can reveal sealed addresses to an authority"))]
        # Made after the table is partitioned (see the migration), so PostgreSQL puts them
        # on every partition.
        indexes = [
            models.Index(fields=["at"], name="login_at"),
            models.Index(
                fields=["account", "country"],
                condition=models.Q(outcome="success"),
                name="login_account_success",
            ),
        ]

    def __str__(self) -> str:  # no user name: pages that only some roles may see show it
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.outcome} {self.network}"


class LogSource(models.Model):
    """How far a log file has been read, so that reading it again stores nothing twice.

    A file is known by a keyed digest of its first line (which survives renaming by
    logrotate); `tail` is a digest of the line just before `offset`, to tell a file that
    merely starts the same from one that continues.
    """

    fingerprint = models.CharField(max_length=64, unique=True)
    path = models.CharField(max_length=1000)
    offset = models.BigIntegerField(default=0)
    tail = models.CharField(max_length=80, blank=True)  # "length:digest" of the last line
    lines = models.BigIntegerField(default=0)
    updated = models.DateTimeField()

    class Meta:
        verbose_name = _("log file read")
        verbose_name_plural = _("log files read")

    def __str__(self) -> str:
        return self.path


class IngestToken(models.Model):
    """A bearer token that lets a web application post its login events."""

    name = models.CharField(max_length=100, unique=True)
    digest = models.CharField(max_length=64, unique=True)  # SHA-256 of the token
    created = models.DateTimeField()
    revoked = models.DateTimeField(null=True, blank=True)

    plain_fields = ("id", "name", "created", "revoked")  # not: the digest

    class Meta:
        verbose_name = _("ingest token")
        verbose_name_plural = _("ingest tokens")

    def __str__(self) -> str:
        return self.name


class WebEventSeen(models.Model):
    """The id of each web-login event already stored, so that a retried post is harmless.
    Forgotten under the policy's duplicate-marks rule, counted from `received` (store.py)."""

    token = models.ForeignKey(IngestToken, on_delete=models.CASCADE)
    digest = models.CharField(max_length=64)  # SHA-256 of the sender's event id
    at = models.DateTimeField()  # the event's time
    received = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("web login event received")
        verbose_name_plural = _("web login events received")
        constraints = [
            models.UniqueConstraint(fields=["token", "digest"], name="web_event_once"),
        ]

    def __str__(self) -> str:
        return self.digest


BRUTE_FORCE, STUFFING, AFTER_FAILURES, NEW_COUNTRY = (
    "brute_force",
    "stuffing",
    "after_failures",
    "new_country",
)
ALERT_KINDS = [
    (BRUTE_FORCE, _("many failures from one network")),
    (STUFFING, _("failures across many accounts")),
    (AFTER_FAILURES, _("success after a run of failures")),
    (NEW_COUNTRY, _("login from a new country")),
]


class LoginAlert(models.Model):
    """An attack pattern seen in the anonymised events: one alert per episode, not per line."""

    kind = models.CharField(max_length=20, choices=ALERT_KINDS)
    key = models.CharField(max_length=200)  # the network, account or country it is about
    first_at = models.DateTimeField()
    last_at = models.DateTimeField()
    events = models.PositiveIntegerField()
    detail = models.CharField(max_length=300, blank=True)
    notified = models.DateTimeField(null=True, blank=True)
    acknowledged = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.CharField(max_length=150, blank=True)

    # Not plain: `key` may be an account's user name.
    plain_fields = (
        *("id", "kind", "first_at", "last_at", "events", "detail"),
        *("notified", "acknowledged", "acknowledged_by"),
    )

    class Meta:
        verbose_name = _("login alert")
        verbose_name_plural = _("login alerts")
        constraints = [
            models.UniqueConstraint(fields=["kind", "key", "first_at"], name="alert_once"),
        ]
        indexes = [models.Index(fields=["kind", "key", "last_at"])]

    def __str__(self) -> str:  # not the key, which may be a user name
        return f"{self.get_kind_display()} #{self.pk}"
