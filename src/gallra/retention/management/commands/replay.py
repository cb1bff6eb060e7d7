"""`gallra replay --store ID --since DATE [--format text|json]`: after restoring a dataset or a
mailbox from the provider's own backup, carry out again what gallra deleted there since.

Example, after `pg_restore` of the billing database from a dump taken on 2026-11-30:

    gallra replay --store billing --since 2026-11-30

Exit 0: replayed. Exit 1: a place could not be reached (nothing is lost: run it again).
Exit 2: bad usage (no such store, not a date).
"""

from datetime import date

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from gallra.policy.command import FOUND, USAGE, GallraCommand
from gallra.policy.loading import policy_for_command
from gallra.retention.replay import UnknownPlace, replay


class Command(GallraCommand):
    help = gettext_lazy(
        "After restoring a dataset or mailbox from your own backup: carry out again every "
        "deletion and erasure gallra recorded for it since a date, with evidence."
    )
    examples = (
        "gallra replay --store billing --since 2026-11-30",
        "gallra replay --store billing --since 2026-11-30 --format json",
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--store", required=True, help=gettext_lazy("the dataset or mailbox id")
        )
        parser.add_argument(
            "--since",
            required=True,
            metavar="DATE",
            help=gettext_lazy("the day the backup was taken (YYYY-MM-DD), or earlier"),
        )
        parser.add_argument(
            "--actor", default="replay", help=gettext_lazy("who runs it, for the evidence")
        )
        self.add_format(parser)

    def run(self, options):
        try:
            since = date.fromisoformat(options["since"])
        except ValueError:
            self.fail(_("--since %(v)r: not a date (YYYY-MM-DD)") % {"v": options["since"]}, USAGE)
        policy = policy_for_command()
        try:
            done = replay(
                policy, options["store"], since, actor=options["actor"], now=timezone.now()
            )
        except UnknownPlace as exc:
            self.fail(str(exc), USAGE)
        if options["format"] == "json":
            self.write_json(done.as_dict())
        else:
            said = ngettext(
                "%(store)s: %(n)s deletion or erasure recorded since %(since)s, "
                "%(done)s rows or messages removed again.",
                "%(store)s: %(n)s deletions and erasures recorded since %(since)s, "
                "%(done)s rows or messages removed again.",
                done.entries,
            )
            self.stdout.write(
                said
                % {
                    "store": done.place,
                    "n": done.entries,
                    "since": done.since,
                    "done": done.reapplied,
                }
            )
        if done.problems:
            self.fail("\n".join(done.problems), FOUND)
