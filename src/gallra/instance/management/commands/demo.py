"""`gallra demo [--at DATE] [--format json]`: load the synthetic Swedish demo data.

The data is built in the import format (see gallra.instance.demo) and goes through the same
import as a provider's own file, all or nothing. Records are matched by ref, so running the
command again adds nothing. Then it does what a provider does in the first hour (first_day.py:
the server's country and a backup repository in the data directory, enforcement armed and
run, the first backup, the restore drill and the checks), so that every daily check on the
front page is green; `--data-only` leaves that out.
"""

from __future__ import annotations

import argparse
import tempfile
from datetime import date
from pathlib import Path

from django.core.management.base import CommandError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from gallra.instance import database, demo, first_day
from gallra.policy.command import FOUND, GallraCommand


class Command(GallraCommand):
    help = gettext_lazy(
        "Load synthetic Swedish demo data (Faker sv_SE, fixed seed); a second run adds nothing."
    )
    examples = (
        "gallra demo",
        "gallra demo --format json",
        "gallra demo --data-only",
    )
    needs_database = False  # it says itself when `gallra init` has not run

    def add_arguments(self, parser):
        parser.add_argument(
            "--at",
            type=_date,
            metavar="DATE",
            help=gettext_lazy("count the demo's dates from DATE (YYYY-MM-DD) instead of today"),
        )
        self.add_format(parser)
        parser.add_argument(
            "--data-only",
            action="store_true",
            help=gettext_lazy(
                "load the data only: no settings, enforcement, backup or checks (first_day.py)"
            ),
        )

    def run(self, options: dict) -> None:
        at: date | None = options.get("at")
        format: str = options.get("format", "text")
        data_only: bool = options.get("data_only", False)
        database.require_ready()
        from gallra.registry.importing import STATES, ImportFailed, import_document

        today = at or timezone.localdate()
        data = demo.build(today)
        try:
            report = import_document(data)
        except ImportFailed as exc:
            # All or nothing: nothing was stored. A problem here is a bug in the demo.
            for problem in exc.problems:
                self.stderr.write(str(problem))
            self.fail(_("the demo data was not imported"), FOUND)
        counts = {kind: dict(value) for kind, value in report.counts.items()}
        _remove_old_demo_log()
        requests = _demo_requests(today)
        logins = _demo_logins(today)
        steps = [] if data_only else _first_day(today)
        failed = [s for s in steps if s.problem]
        if format == "json":
            found = [{"step": s.name, "done": s.done, "problem": s.problem} for s in steps]
            self.write_json({"today": today.isoformat(), "counts": counts, "first_day": found})
            _fail(failed)
            return
        self.stdout.write(
            _("Demo data for %(day)s (synthetic, Faker sv_SE, seed %(seed)s):")
            % {"day": today.isoformat(), "seed": demo.SEED}
        )
        for kind, value in counts.items():
            done = ", ".join(f"{n} {STATES.get(what, what)}" for what, n in value.items())
            self.stdout.write(f"  {kind:<15} {done}")
        if requests:
            self.stdout.write(
                f"  {_('subject requests'):<15} " + _("%(n)s added (one overdue)") % {"n": requests}
            )
        if logins:
            self.stdout.write(
                f"  {_('login events'):<15} "
                + _(
                    "%(n)s from last night's demo auth.log; the escrow key shares are in "
                    "%(file)s (a demo: in production each share goes to a different person)"
                )
                % {"n": logins, "file": _shares_file()}
            )
        self.stdout.write(
            _(
                "%(n)s demo customers; their refs start with '%(prefix)s'. "
                "Running `gallra demo` again adds nothing."
            )
            % {"n": len(data["customers"]), "prefix": demo.PREFIX}
        )
        if steps:
            self.stdout.write(_("The first hour, as a provider's (docs/production.md):"))
        for step in steps:
            failure = _("%(step)s failed: %(problem)s") % {
                "step": step.name,
                "problem": step.problem,
            }
            self.stdout.write(f"  {failure if step.problem else step.done}")
        if steps and not failed:
            self.stdout.write(_("Every daily check on the front page is green."))
        _fail(failed)


def _first_day(today: date) -> list[first_day.Step]:
    from django.conf import settings

    from gallra.policy.loading import current_policy

    first_day.configure(settings.GALLRA_DATA)
    with first_day.in_effect(settings.GALLRA_DATA):
        return first_day.first_day(current_policy(), today, timezone.now())


def _fail(failed: list[first_day.Step]) -> None:
    if failed:
        names = ", ".join(s.name for s in failed)
        message = _("the demo data is loaded, but these steps failed: %(names)s") % {"names": names}
        raise CommandError(message, returncode=1)


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
        raise argparse.ArgumentTypeError(
            _("not a date (YYYY-MM-DD): %(text)s") % {"text": text}
        ) from exc


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
