"""`gallra replay --store ID --since DATE [--format text|json]`: after restoring a dataset or a
mailbox from the provider's own backup, carry out again what gallra deleted there since.

Example, after `pg_restore` of the billing database from a dump taken on 2026-11-30:

    gallra replay --store billing --since 2026-11-30

Exit 0: replayed. Exit 1: a place could not be reached (nothing is lost: run it again).
Exit 2: bad usage (no such store, not a date).
"""

import json
from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from gallra.policy.loading import policy_for_command
from gallra.retention.replay import UnknownPlace, replay


class Command(BaseCommand):
    help = (
        "After restoring a dataset or mailbox from your own backup: carry out again every "
        "deletion and erasure gallra recorded for it since a date, with evidence."
    )

    def add_arguments(self, parser):
        parser.add_argument("--store", required=True, help="the dataset or mailbox id")
        parser.add_argument(
            "--since",
            required=True,
            help="the day the backup was taken (YYYY-MM-DD), or earlier",
        )
        parser.add_argument("--actor", default="replay", help="who runs it, for the evidence")
        parser.add_argument("--format", choices=["text", "json"], default="text")

    def handle(self, *args, **options):
        try:
            since = date.fromisoformat(options["since"])
        except ValueError:
            raise CommandError(
                _("--since %(v)r: not a date (YYYY-MM-DD)") % {"v": options["since"]},
                returncode=2,
            ) from None
        policy = policy_for_command()
        try:
            done = replay(
                policy, options["store"], since, actor=options["actor"], now=timezone.now()
            )
        except UnknownPlace as exc:
            raise CommandError(str(exc), returncode=2) from exc
        if options["format"] == "json":
            self.stdout.write(json.dumps(done.as_dict(), indent=2))
        else:
            self.stdout.write(
                _(
                    "%(store)s: %(n)s deletions and erasures recorded since %(since)s, "
                    "%(done)s rows or messages removed again."
                )
                % {
                    "store": done.place,
                    "n": done.entries,
                    "since": done.since,
                    "done": done.reapplied,
                }
            )
        if done.problems:
            raise CommandError("\n".join(done.problems), returncode=1)
