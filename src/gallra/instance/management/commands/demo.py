"""`gallra demo [--at DATE] [--format json]`: load the synthetic Swedish demo data.

The data is built in the import format (see gallra.instance.demo) and goes through the same
import as a provider's own file, all or nothing. Records are matched by ref, so running the
command again adds nothing.
"""

from __future__ import annotations

import argparse
import json
from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from gallra.instance import database, demo


class Command(BaseCommand):
    help = "Load synthetic Swedish demo data (Faker sv_SE, fixed seed); a second run adds nothing."

    def add_arguments(self, parser):
        parser.add_argument(
            "--at",
            type=_date,
            metavar="DATE",
            help="count the demo's dates from DATE (YYYY-MM-DD) instead of today",
        )
        parser.add_argument("--format", choices=["text", "json"], default="text")

    def handle(self, *args, at: date | None = None, format: str = "text", **options):
        database.require_ready()
        from gallra.registry.importing import ImportFailed, import_document

        today = at or timezone.localdate()
        data = demo.build(today)
        try:
            report = import_document(data)
        except ImportFailed as exc:
            # All or nothing: nothing was stored. A problem here is a bug in the demo.
            for problem in exc.problems:
                self.stderr.write(str(problem))
            raise CommandError("the demo data was not imported", returncode=1) from exc
        counts = {kind: dict(value) for kind, value in report.counts.items()}
        requests = _demo_requests(today)
        if format == "json":
            self.stdout.write(json.dumps({"today": today.isoformat(), "counts": counts}))
            return
        self.stdout.write(
            f"Demo data for {today.isoformat()} (synthetic, Faker sv_SE, seed {demo.SEED}):"
        )
        for kind, value in counts.items():
            done = ", ".join(f"{n} {what}" for what, n in value.items())
            self.stdout.write(f"  {kind:<15} {done}")
        if requests:
            self.stdout.write(f"  {'subject requests':<15} {requests} added (one overdue)")
        self.stdout.write(
            f"{len(data['customers'])} demo customers; their refs start with {demo.PREFIX!r}. "
            "Running `gallra demo` again adds nothing."
        )


def _demo_requests(today: date) -> int:
    """Three data-subject requests from demo people, so the admin's list has something in it:
    an access request past its deadline, a verified erasure request, a rectification."""
    from datetime import timedelta

    from gallra.registry.models import Person
    from gallra.subjects import cases
    from gallra.subjects.identity import Identity
    from gallra.subjects.models import SubjectRequest

    if SubjectRequest.objects.exists():
        return 0
    people = list(
        Person.objects.filter(ref__startswith=demo.PREFIX).exclude(email="").order_by("ref")[:3]
    )
    if len(people) < 3:
        return 0
    now = timezone.now()
    rename = {"change_field": "name", "change_value": "Ny Namnsson"}
    plans = [("access", 40, {}), ("erasure", 3, {}), ("rectification", 0, rename)]
    for person, (kind, days_ago, extra) in zip(people, plans, strict=True):
        request = cases.open_request(
            kind, Identity.of(person.email, f"{person.first_name} {person.last_name}"),
            received=today - timedelta(days=days_ago), now=now, actor="demo", **extra,
        )  # fmt: skip
        if kind == "erasure":
            cases.verify_by_staff(request, "demo: called back on the number on record",
                                  "demo", now=now)  # fmt: skip
    return len(plans)


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text}") from exc
