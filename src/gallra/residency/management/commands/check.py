"""`gallra check`: every place this installation keeps or sends data is where the policy
allows, and run by no one the policy does not list (P12, P14); enforcement is armed; the
restore drill can run. Exit 1 naming what fails.

It runs Django's system checks first (`--deploy` and the other options work as before).
"""

from django.conf import settings
from django.core.management.base import CommandError
from django.core.management.commands.check import Command as SystemCheck
from django.db import connection
from django.utils import timezone, translation

from gallra.backups.dump import can_create_databases
from gallra.outbox.delivery import status as outbox_status
from gallra.policy.loading import policy_for_command
from gallra.residency.places import check_and_record
from gallra.retention import arming


class Command(SystemCheck):
    help = (
        "Django's system checks, then: the database, backups, SMTP relay and datasets are "
        "where the policy allows; enforcement is armed; the restore drill can run."
    )

    def handle(self, *args, **options):
        super().handle(*args, **options)
        policy = policy_for_command()
        found = check_and_record(policy, actor="check")
        for place in found:
            where = place.country or "?"
            self.stdout.write(
                f"{'ok  ' if place.ok else 'FAIL'}  {place.name}: {where}"
                + (f" — {place.problem}" if place.problem else "")
            )
        failed = [p for p in found if not p.ok]
        problems = [f"{len(failed)} of {len(found)} places fail the policy"] if failed else []
        problems += self.enforcement(policy) + self.drill() + self.outbox()
        if problems:
            raise CommandError("; ".join(problems), returncode=1)

    def enforcement(self, policy) -> list[str]:
        """Deleting unattended needs a person's go-ahead (docs/retention.md)."""
        now = timezone.now()
        found = arming.notice(policy, now, actor="check")
        with translation.override("en"):  # like the other lines
            how, why = (found.how, "") if found.armed else ("", found.why)
        if found.armed:
            self.stdout.write(f"ok    enforcement: {how}")
            return []
        going = arming.would_go(policy, timezone.localdate(now), actor="check")
        self.stdout.write(
            f"FAIL  enforcement: not armed ({why}) — {going.total} records would be "
            f"deleted today{going.by_rule_text()}; review them with `gallra enforce --dry-run`, "
            "then arm with `gallra enforce --arm`"
        )
        return ["enforcement is not armed"]

    def drill(self) -> list[str]:
        """The nightly restore drill restores into a scratch database on PostgreSQL."""
        if not settings.GALLRA_BACKUP_REPOSITORY or connection.vendor != "postgresql":
            return []
        role = connection.settings_dict["USER"] or "gallra"
        if can_create_databases():
            self.stdout.write(
                f"ok    restore drill: the database role {role} may create its scratch "
                "database (CREATEDB)"
            )
            return []
        self.stdout.write(
            f"FAIL  restore drill: the database role {role} may not create databases, and the "
            "drill restores each backup into a scratch database: give it CREATEDB "
            f"(ALTER ROLE {role} CREATEDB; docs/backups.md)"
        )
        return ["the restore drill cannot run"]

    def outbox(self) -> list[str]:
        """Mail from the web pages waits in the outbox until the relay takes it (docs/mail.md)."""
        found = outbox_status(timezone.now())
        if not found.problems():
            self.stdout.write(f"ok    outgoing mail: {found.waiting} waiting in the outbox")
            return []
        for problem in found.problems():
            self.stdout.write(f"FAIL  outgoing mail: {problem}")
        return ["outgoing mail is failing"]
