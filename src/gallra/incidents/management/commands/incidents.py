"""`gallra incidents [--at TIME] [--format text|json] [--quiet]`: the open incidents and their
72-hour clocks; exit 1 when a notification to IMY is overdue. See docs/incidents.md."""

from __future__ import annotations

import math
from datetime import UTC, datetime

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from gallra.incidents.models import NO_RISK, Incident
from gallra.incidents.reminders import remind
from gallra.instance.arguments import local_time
from gallra.policy.command import FOUND, GallraCommand
from gallra.policy.loading import policy_for_command


def _local(value: datetime | None) -> str:
    """Stockholm time with its zone (CET or CEST): the hour repeated in October is then
    still one time."""
    return f"{timezone.localtime(value):%Y-%m-%d %H:%M %Z}" if value else ""


class Command(GallraCommand):
    help = gettext_lazy(
        "List the open incidents with their 72-hour clock; exit 1 if a notification is late."
    )
    examples = (
        "gallra incidents",
        "gallra incidents --format json",
        "gallra incidents --quiet",
        "gallra incidents --at 2030-01-01T09:00",
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--at", help=gettext_lazy("the time to read the clocks at (default: now)")
        )
        self.add_format(parser)
        parser.add_argument(
            "--quiet",
            action="store_true",
            help=gettext_lazy(
                "print nothing unless a notification is overdue (for cron, which mails output)"
            ),
        )
        parser.add_argument(
            "--mail",
            action="store_true",
            help=gettext_lazy(
                "also e-mail the responsible staff every breach still to be notified "
                "(gallra serve does this daily by itself)"
            ),
        )

    def run(self, options: dict) -> None:
        now = local_time(options["at"]) if options["at"] else timezone.now()
        if options["mail"]:
            remind(policy_for_command(), now)
        incidents = list(Incident.objects.open().order_by("known_at", "pk"))
        # One test of lateness for the exit status, the text and the JSON (in UTC).
        overdue = [i.pk for i in incidents if i.is_overdue(now)]
        if options["quiet"] and not overdue:
            return
        if options["format"] == "json":
            self.write_json([self._row(i, now) for i in incidents])
        else:
            for incident in incidents:
                self.stdout.write(
                    _(
                        "%(ref)s  aware %(known)s  deadline %(deadline)s  %(clock)s  "
                        "risk: %(risk)s  %(title)s"
                    )
                    % {
                        "ref": incident.ref,
                        "known": _local(incident.known_at),
                        "deadline": _local(incident.deadline),
                        "clock": self._clock(incident, now),
                        "risk": incident.risk or _("not assessed"),
                        "title": incident.title,
                    }
                )
            self.stdout.write(
                ngettext("%(n)s open incident", "%(n)s open incidents", len(incidents))
                % {"n": len(incidents)}
                + ", "
                + ngettext(
                    "%(n)s notification to IMY overdue",
                    "%(n)s notifications to IMY overdue",
                    len(overdue),
                )
                % {"n": len(overdue)}
            )
        if overdue:
            self.fail(
                _("the 72 hours to notify IMY have run out for %(which)s (GDPR Art. 33(1))")
                % {"which": ", ".join(f"incident:{pk}" for pk in overdue)},
                FOUND,
            )

    @staticmethod
    def _clock(incident: Incident, now: datetime) -> str:
        if incident.notification_due:
            hours = incident.hours_left(now)
            if incident.is_overdue(now):
                return _("OVERDUE by %(n)s h") % {"n": math.ceil(-hours)}
            return _("%(n)s h left") % {"n": math.floor(hours)}
        if incident.imy_notified_at is not None:
            late = " " + _("(late)") if incident.late_notification else ""
            return _("IMY notified %(at)s") % {"at": _local(incident.imy_notified_at)} + late
        if incident.risk == NO_RISK:
            return _("not notified: unlikely to be a risk")
        return ""

    @staticmethod
    def _row(incident: Incident, now: datetime) -> dict:
        return {
            "ref": incident.ref,
            "title": incident.title,
            "known_at": incident.known_at.astimezone(UTC).isoformat(),
            "deadline": incident.deadline.isoformat(),
            "risk": incident.risk,
            "notification_due": incident.notification_due,
            "hours_left": round(incident.hours_left(now), 1),
            "seconds_left": math.floor(incident.seconds_left(now)),
            "overdue": incident.is_overdue(now),
            "imy_notified_at": incident.imy_notified_at and incident.imy_notified_at.isoformat(),
            "late_notification": incident.late_notification,
            "subjects_must_be_told": incident.subjects_must_be_told,
            "subjects_told_at": incident.subjects_told_at and incident.subjects_told_at.isoformat(),
            "login_alert": incident.login_alert_id,
        }
