"""`gallra enforce [--at DATE] [--dry-run] [--format text|json]`: carry out the plan."""

import json
import sys

from django.core.management.base import BaseCommand, CommandError

from gallra.retention import words
from gallra.retention.command import DateArguments
from gallra.retention.enforcement import EnforcementBusy, enforce


class Command(DateArguments, BaseCommand):
    help = "Delete every record due on a date (default today), with evidence; resumable."

    def add_arguments(self, parser):
        self.add_date_arguments(parser)
        parser.add_argument("--dry-run", action="store_true", help="count, delete nothing")
        parser.add_argument("--format", choices=["text", "json"], default="text")
        parser.add_argument("--actor", default="enforce", help="who runs it, for the evidence")

    def handle(self, *args, **options):
        policy, at, lang = self.resolve(options)
        show = options["format"] == "text" and sys.stderr.isatty()
        try:
            summaries = enforce(
                policy, at, actor=options["actor"], dry_run=options["dry_run"],
                progress=self._progress if show else None,
            )  # fmt: skip
        except EnforcementBusy as exc:
            raise CommandError(str(exc), returncode=1) from exc
        if show:
            self.stderr.write("")
        if options["format"] == "json":
            self.stdout.write(json.dumps([s.as_dict() for s in summaries], indent=2))
        else:
            for s in summaries:
                self.stdout.write(words.enforce_summary(s, lang))
        failed = summaries[-1].mail.get("problems", [])
        if failed:  # a mailbox not reached or not finished: the next run resumes it
            raise CommandError("\n".join(failed), returncode=1)

    def _progress(self, done: int, total: int) -> None:
        width = 30
        filled = width * done // total if total else width
        bar = "#" * filled + "-" * (width - filled)
        self.stderr.write(f"\r[{bar}] {done}/{total}", ending="")
        self.stderr.flush()
