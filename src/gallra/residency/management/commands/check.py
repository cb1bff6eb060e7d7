"""`gallra check`: every place this installation keeps or sends data is where the policy
allows, and run by no one the policy does not list (P12, P14). Exit 1 naming what fails.

It runs Django's system checks first (`--deploy` and the other options work as before).
"""

from django.core.management.base import CommandError
from django.core.management.commands.check import Command as SystemCheck

from gallra.policy.loading import policy_for_command
from gallra.residency.places import check_and_record


class Command(SystemCheck):
    help = (
        "Django's system checks, then: the database, backups, SMTP relay and datasets are "
        "where the policy allows."
    )

    def handle(self, *args, **options):
        super().handle(*args, **options)
        policy = policy_for_command()
        found = check_and_record(policy, actor="check")
        for place in found:
            where = place.country or "?"
            self.stdout.write(f"{'ok  ' if place.ok else 'FAIL'}  {place.name}: {where}"
                              + (f" — {place.problem}" if place.problem else ""))  # fmt: skip
        failed = [p for p in found if not p.ok]
        if failed:
            raise CommandError(
                f"{len(failed)} of {len(found)} places fail the policy", returncode=1
            )
