"""The incident register (GDPR Art. 33, 34): every personal-data breach, its 72-hour clock and
what was done about it.

Art. 33(1): a breach is notified to the regulator (IMY in Sweden) within 72 hours of the
provider becoming aware of it, unless it is unlikely to result in a risk to people; a later
notification comes with the reasons for the delay. Art. 33(5): every breach is documented,
notified or not, with why. Art. 34: a high risk means the data subjects are told as well.
Each step is appended to the evidence log with the incident's ref and counts only: the free
text (title, description, what data) may describe people, and the log outlives the register.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from gallra.evidence.log import append
from gallra.logins.models import BRUTE_FORCE, LoginAlert

DEADLINE = timedelta(hours=72)  # Art. 33(1), from the moment the provider became aware
# 72 real hours: counted in UTC, so a clock change in between makes the deadline 71 or 73
# hours later on the wall clock (docs/incidents.md). Python adds a timedelta to an aware
# datetime on its own wall clock, so every sum and difference here is taken in UTC.

NO_RISK, RISK, HIGH_RISK = "none", "risk", "high"
RISKS = [
    ("", _("not assessed yet")),
    (NO_RISK, _("unlikely to result in a risk")),
    (RISK, _("a risk to people's rights and freedoms")),
    (HIGH_RISK, _("high risk: the data subjects must be told")),
]

# The steps of Art. 33 and 34 that get an evidence entry of their own: the field that records
# each, its action, and the fields filled in with it. Any other change is `incident_changed`,
# with the names of the fields changed, never their content.
STEPS = {
    "imy_notified_at": ("incident_imy_notified", {"imy_reference", "delay_reason"}),
    "subjects_told_at": ("incident_subjects_told", {"subjects_told_how"}),
    "closed_at": ("incident_closed", {"not_notified_reason", "subjects_not_told_reason"}),
}


class IncidentQuerySet(models.QuerySet):
    def open(self) -> IncidentQuerySet:
        return self.filter(closed_at__isnull=True)

    def notification_due(self) -> IncidentQuerySet:
        """Open, not notified to IMY, and not assessed as unlikely to be a risk: the clock
        runs for these, also while the risk is not assessed yet."""
        return self.open().filter(imy_notified_at__isnull=True).exclude(risk=NO_RISK)


class Incident(models.Model):
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("what happened"), blank=True)
    known_at = models.DateTimeField(
        _("became aware"),
        help_text=_(
            "When the provider became aware of the breach: the "
            "72 hours to notify IMY count from here."
        ),
    )
    data_concerned = models.TextField(
        _("personal data concerned"), blank=True, help_text=_("The categories of data.")
    )
    subjects_count = models.PositiveIntegerField(
        _("data subjects concerned"), null=True, blank=True, help_text=_("Approximately.")
    )
    risk = models.CharField(_("risk"), max_length=4, choices=RISKS, blank=True)
    imy_notified_at = models.DateTimeField(_("IMY notified"), null=True, blank=True)
    imy_reference = models.CharField(_("IMY's reference"), max_length=100, blank=True)
    delay_reason = models.TextField(
        _("reasons for the delay"),
        blank=True,
        help_text=_(
            "Required when IMY was notified more than 72 hours after the provider "
            "became aware (Art. 33(1))."
        ),
    )
    not_notified_reason = models.TextField(
        _("why IMY was not notified"),
        blank=True,
        help_text=_("When the breach is unlikely to result in a risk (Art. 33(5))."),
    )
    subjects_told_at = models.DateTimeField(_("data subjects told"), null=True, blank=True)
    subjects_told_how = models.CharField(_("told how"), max_length=300, blank=True)
    subjects_not_told_reason = models.TextField(
        _("why the data subjects were not told"),
        blank=True,
        help_text=_(
            "At high risk only for the reasons of Art. 34(3): the data were unreadable "
            "(encrypted), later measures removed the high risk, or telling each one "
            "would take disproportionate effort and a public notice was made instead."
        ),
    )
    login_alert = models.ForeignKey(
        "logins.LoginAlert",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="incidents",
        verbose_name=_("login alert"),
    )
    opened_by = models.CharField(_("opened by"), max_length=150)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    objects = IncidentQuerySet.as_manager()

    # Not plain: the free texts (title, description, …), which may describe people.
    plain_fields = (
        *("id", "known_at", "subjects_count", "risk", "imy_notified_at", "imy_reference"),
        *("subjects_told_at", "login_alert", "opened_by", "created_at", "closed_at"),
    )

    class Meta:
        verbose_name = _("personal data breach")
        verbose_name_plural = _("personal data breaches")
        ordering = ["-known_at"]
        indexes = [models.Index(fields=["closed_at", "known_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["login_alert"],
                condition=models.Q(closed_at__isnull=True),
                name="one_open_incident_per_login_alert",
                violation_error_message=_("This login alert already has an open incident."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ref}: {self.title}"

    @property
    def ref(self) -> str:
        return f"incident:{self.pk}"

    @property
    def deadline(self) -> datetime:
        """72 real hours after `known_at` (in UTC)."""
        return self.known_at.astimezone(UTC) + DEADLINE

    def seconds_left(self, now: datetime) -> float:
        """Seconds until the deadline; negative once it has passed."""
        return (self.deadline - now.astimezone(UTC)).total_seconds()

    def hours_left(self, now: datetime) -> float:
        """Hours until the deadline; negative once it has passed."""
        return self.seconds_left(now) / 3600

    def is_overdue(self, now: datetime) -> bool:
        """The notification is due and `now` is past the deadline: the one test of lateness
        the command's exit status, its text and its JSON all use."""
        return self.notification_due and self.seconds_left(now) < 0

    @property
    def notification_due(self) -> bool:
        return self.imy_notified_at is None and self.risk != NO_RISK and self.closed_at is None

    @property
    def late_notification(self) -> bool:
        return self.imy_notified_at is not None and self.imy_notified_at > self.deadline

    @property
    def subjects_must_be_told(self) -> bool:
        return self.risk == HIGH_RISK

    def clean(self) -> None:
        """The rules of Art. 33 and 34 a register entry must meet, each on its own field."""
        errors: dict[str, str] = {}
        if self.known_at is None:  # already reported as a missing field
            return
        if self.known_at > timezone.now():
            errors["known_at"] = gettext("This cannot be in the future.")
        for name in ("imy_notified_at", "subjects_told_at", "closed_at"):
            value = getattr(self, name)
            if value is not None and value < self.known_at:
                errors[name] = gettext(
                    "This cannot be before the provider became aware of the breach."
                )
        if self.late_notification and not self.delay_reason.strip():
            errors["delay_reason"] = gettext(
                "IMY was notified more than 72 hours after the provider became aware: give the "
                "reasons for the delay (Art. 33(1))."
            )
        if self.closed_at is not None:
            if self.imy_notified_at is None and self.risk != NO_RISK:
                errors.setdefault(
                    "imy_notified_at",
                    gettext(
                        "To close the incident, record when IMY was notified, or assess the breach "
                        "as unlikely to result in a risk and say why IMY was not notified."
                    ),
                )
            elif self.imy_notified_at is None and not self.not_notified_reason.strip():
                errors["not_notified_reason"] = gettext(
                    "To close the incident, say why IMY was not notified (Art. 33(5))."
                )
            if (
                self.subjects_must_be_told
                and self.subjects_told_at is None
                and not self.subjects_not_told_reason.strip()
            ):
                errors.setdefault(
                    "subjects_told_at",
                    gettext(
                        "High risk: to close the incident, record when the data subjects were "
                        "told, or why they were not (Art. 34(3))."
                    ),
                )
        if errors:
            raise ValidationError(errors)

    def record(self, *, actor: str, now: datetime) -> list[str]:
        """Save, and append an evidence entry for each step this save takes (Art. 33(5)).

        The entries hold the incident's ref, the number of data subjects, the risk and times:
        never the title, description or any other free text. Returns the actions appended.
        """
        with transaction.atomic():
            before = None
            if self.pk is not None:
                before = Incident.objects.select_for_update().filter(pk=self.pk).first()
            self.save()
            entries = self._steps(before)
            for action, data in entries:
                append(
                    action,
                    actor=actor,
                    at=now,
                    record_type="incident",
                    refs=[self.ref],
                    count=self.subjects_count or 0,
                    data={"subjects_count": self.subjects_count, "risk": self.risk, **data},
                )
        return [action for action, _data in entries]

    def _steps(self, before: Incident | None) -> list[tuple[str, dict[str, Any]]]:
        steps: list[tuple[str, dict[str, Any]]] = []
        if before is None:
            steps.append(
                (
                    "incident_opened",
                    {
                        "known_at": _utc(self.known_at),
                        "deadline": _utc(self.deadline),
                        "login_alert": self.login_alert_id,
                    },
                )
            )
        # A step is taken when its field is first filled in; correcting it later is a change.
        taken = [
            n
            for n in STEPS
            if getattr(self, n) is not None and (before is None or getattr(before, n) is None)
        ]
        if before is not None:
            with_steps = set(taken).union(*(STEPS[n][1] for n in taken))
            others = [
                f.name
                for f in self._meta.concrete_fields
                if getattr(self, f.attname) != getattr(before, f.attname)
                and f.attname not in with_steps
            ]
            if others:
                steps.append(("incident_changed", {"fields": others}))
        for name in taken:
            data: dict[str, Any] = {"at": _utc(getattr(self, name))}
            if name == "imy_notified_at":
                data["late"] = self.late_notification
            if name == "closed_at":
                data["imy_notified"] = self.imy_notified_at is not None
                data["subjects_told"] = self.subjects_told_at is not None
            steps.append((STEPS[name][0], data))
        return steps

    @classmethod
    def open_for_login_alert(
        cls, alert: LoginAlert, *, actor: str, now: datetime
    ) -> tuple[Incident, bool]:
        """The open incident for a login alert, opened now unless there is one already.

        Returns (incident, opened): a second click returns the incident the first one opened.
        """
        with transaction.atomic():
            # Two clicks at once wait for each other here; the constraint is the backstop.
            list(LoginAlert.objects.select_for_update().filter(pk=alert.pk).values_list("pk"))
            existing = cls.objects.open().filter(login_alert=alert).order_by("pk").first()
            if existing is not None:
                return existing, False
            detail = gettext(
                "Opened from login alert %(pk)d: %(detail)s. %(events)d events from %(first)s "
                "to %(last)s."
            ) % {
                "pk": alert.pk,
                "detail": alert.detail,
                "events": alert.events,
                "first": f"{timezone.localtime(alert.first_at):%Y-%m-%d %H:%M}",
                "last": f"{timezone.localtime(alert.last_at):%Y-%m-%d %H:%M}",
            }
            kind = alert.get_kind_display()
            # A brute-force alert's key is a network (anonymised); the others name an account,
            # and the incident list is open to roles that may not see account names (P22).
            about = f"{kind}: {alert.key}" if alert.key and alert.kind == BRUTE_FORCE else kind
            incident = cls(
                title=(gettext("Login alert: %(alert)s") % {"alert": about})[:200],
                description=detail,
                known_at=now,
                login_alert=alert,
                opened_by=actor,
            )
            incident.record(actor=actor, now=now)
            return incident, True


def overdue_notifications(now: datetime) -> IncidentQuerySet:
    """The incidents whose 72 hours to notify IMY ran out before `now`, oldest first.

    For the daily run: each one is a breach of Art. 33(1) in the making, or already made.
    """
    aware_before = now.astimezone(UTC) - DEADLINE  # known_at + 72 h < now, in real hours
    return (
        Incident.objects.notification_due().filter(known_at__lt=aware_before).order_by("known_at")
    )


def _utc(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()
