"""The daily mail about breaches still to be reported to IMY (Art. 33(1)): the 72 hours run
at night and at weekends too, so the dashboard alone is not enough. It goes through the
outbox: a relay that is down delays it (tried again) and fails nothing."""

from __future__ import annotations

import math
from datetime import datetime

from django.conf import settings
from django.utils import timezone

from gallra.incidents.models import Incident
from gallra.instance.staff import addresses_for, mail_staff
from gallra.policy.model import Policy

AREA = "incidents"  # the policy may name a role for it; otherwise the accountable role


def remind(policy: Policy, now: datetime) -> int:
    """Mail the responsible staff every breach whose IMY notification is due; returns how
    many breaches the mail named (0: no mail). Refs and deadlines only: a title may name
    people, and mail travels further than the admin."""
    due = list(Incident.objects.notification_due().order_by("known_at"))
    to = addresses_for(policy, AREA)
    if not due or not to:
        return 0
    lines = []
    for incident in due:
        hours = incident.hours_left(now)
        deadline = f"{timezone.localtime(incident.deadline):%Y-%m-%d %H:%M %Z}"
        state = (
            f"{math.ceil(-hours)} h försenad / late"
            if incident.is_overdue(now)
            else f"{math.floor(hours)} h kvar / left"
        )
        link = f"{settings.GALLRA_BASE_URL}/admin/incidents/incident/{incident.pk}/change/"
        lines.append(f"{incident.ref}  senast / deadline {deadline}  ({state})\n  {link}")
    late = sum(1 for i in due if i.is_overdue(now))
    subject = f"gallra: {len(due)} personuppgiftsincident(er) ska anmälas till IMY" + (
        f", {late} försenade" if late else ""
    )
    body = (
        "Dessa incidenter är inte anmälda till IMY (art. 33.1: inom 72 timmar från att ni fick "
        "kännedom). Anmäl, eller bedöm risken som osannolik och skriv varför.\n"
        "These breaches are not notified to IMY yet (Art. 33(1): within 72 hours of becoming "
        "aware). Notify, or assess the risk as unlikely and say why.\n\n" + "\n".join(lines) + "\n"
    )
    mail_staff(subject, body, to, kind="incident_reminder", now=now)
    return len(due)
