"""`gallra demo [--at DATE] [--format json]`: load the synthetic Swedish demo data.

The data is built in the import format (see gallra.instance.demo) and goes through the same
import as a provider's own file, all or nothing. Records are matched by ref, so running the
command again adds nothing.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from datetime import date
from pathlib import Path

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
        _remove_old_demo_log()
        requests = _demo_requests(today)
        logins = _demo_logins(today)
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
        if logins:
            self.stdout.write(
                f"  {'login events':<15} {logins} from last night's demo auth.log; the escrow "
                f"key shares are in {_shares_file()} (a demo: in production each share goes "
                "to a different person)"
            )
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
            kind,
            Identity.of(person.email, f"{person.first_name} {person.last_name}"),
            received=today - timedelta(days=days_ago),
            now=now,
            actor="demo",
            **extra,
        )
        if kind == "erasure":
            cases.verify_by_staff(
                request, "demo: called back on the number on record", "demo", now=now
            )
    return len(plans)


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text}") from exc


def _shares_file():
    from django.conf import settings

    return settings.GALLRA_DATA / "demo-escrow-shares.txt"


def _remove_old_demo_log() -> None:
    """Earlier versions left the demo's auth.log, raw addresses and all, in the data
    directory; nothing with a raw address may stay there (P7)."""
    from django.conf import settings

    (settings.GALLRA_DATA / "demo-auth.log").unlink(missing_ok=True)


def _demo_logins(today: date) -> int:
    """Last night's sshd log of a demo server: users logging in from Sweden, an attack from
    one network, and a login from abroad, so that login monitoring has events and alerts."""
    from datetime import UTC, datetime, timedelta

    from gallra.logins.detection import detect
    from gallra.logins.ingest import ingest_files
    from gallra.logins.models import Escrow, LoginEvent
    from gallra.policy.loading import current_policy
    from gallra.registry.models import Account

    if LoginEvent.objects.exists():
        return 0
    policy = current_policy()
    if Escrow.current() is None:
        shares = Escrow.make(
            policy.logins.escrow_shares, policy.logins.escrow_threshold, timezone.now()
        )
        path = _shares_file()
        path.touch(mode=0o600)
        path.write_text("\n".join(shares) + "\n")
    users = list(
        Account.objects.filter(ref__startswith=demo.PREFIX, closed__isnull=True)
        .order_by("ref")
        .values_list("username", flat=True)[:4]
    )
    if len(users) < 2:
        return 0
    night = datetime.combine(today - timedelta(days=1), datetime.min.time()) + timedelta(hours=22)
    lines = []

    def add(minutes: float, message: str) -> None:
        at = night + timedelta(minutes=minutes)
        lines.append(f"{at:%b %d %Y %H:%M:%S} web1 sshd[{4000 + len(lines)}]: {message}")

    for i, user in enumerate(users):  # ordinary logins from Swedish networks
        add(i * 7, f"Accepted publickey for {user} from 81.234.{20 + i}.{40 + i} port 5022 ssh2")
    for i in range(12):  # a brute-force run from one network
        name = ["root", "admin", "oracle", "ubuntu"][i % 4]
        add(
            60 + i * 0.5,
            f"Failed password for invalid user {name} from 203.0.113.{50 + i % 3} "
            f"port {40000 + i} ssh2",
        )
    add(120, f"Failed password for {users[0]} from 198.51.100.7 port 41000 ssh2")
    add(121, f"Accepted password for {users[0]} from 8.8.8.8 port 41001 ssh2")  # abroad
    now = datetime.combine(today, datetime.min.time(), UTC) + timedelta(hours=6)
    # The log holds raw addresses, which gallra never keeps (P7): it lives in a private
    # temporary directory (0700) only while it is read, never in the data directory.
    with tempfile.TemporaryDirectory(prefix="gallra-demo-") as folder:
        path = Path(folder) / "auth.log"
        path.write_text("\n".join(lines) + "\n")
        report = ingest_files([path], policy, now=now)
    if report.first_at is not None:
        detect(policy, report.first_at, report.last_at)
    return report.events
