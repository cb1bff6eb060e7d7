"""`gallra mail scan|enforce [--at DATE] [--mailbox ID]`: the policy's mailboxes on their own.

`gallra enforce` (and the daily run of `gallra serve`) does the same for every mailbox after
the registry; see docs/mailboxes.md.
"""

import json

from django.core.management.base import BaseCommand, CommandError

from gallra.mailboxes import words
from gallra.mailboxes.enforcement import enforce_mail
from gallra.retention.command import DateArguments
from gallra.retention.enforcement import EnforcementBusy, only_one_enforcer


class Command(DateArguments, BaseCommand):
    help = "Scan the policy's mailboxes, or delete the messages due on a date, with evidence."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        scan = sub.add_parser("scan", help="read the mailboxes into the index: ids, dates, links")
        enforce = sub.add_parser("enforce", help="delete the messages due on a date, resumably")
        for p in (scan, enforce):
            self.add_date_arguments(p)
            p.add_argument("--mailbox", help="only this mailbox (its id in the policy)")
            p.add_argument("--format", choices=["text", "json"], default="text")
        enforce.add_argument(
            "--dry-run", action="store_true", help="scan and count, delete nothing"
        )
        enforce.add_argument("--actor", default="mail", help="who runs it, for the evidence")

    def handle(self, *args, action, **options):
        policy, at, lang = self.resolve(options)
        ids = [m.id for m in policy.mailbox]
        if not ids:
            raise CommandError(
                "the policy declares no [[mailbox]] (docs/mailboxes.md)", returncode=2
            )
        if options["mailbox"] and options["mailbox"] not in ids:
            raise CommandError(
                f"--mailbox {options['mailbox']!r}: the policy has no such mailbox "
                f"({', '.join(ids)})",
                returncode=2,
            )
        try:
            with only_one_enforcer():  # a scan too: both bring the index in line
                summary = enforce_mail(
                    policy,
                    at,
                    actor=options.get("actor", "mail"),
                    only=options["mailbox"],
                    dry_run=options.get("dry_run", False),
                    scan_only=action == "scan",
                )
        except EnforcementBusy as exc:
            raise CommandError(str(exc), returncode=1) from exc
        mail = summary.as_dict()
        if options["format"] == "json":
            self.stdout.write(json.dumps(mail, indent=2, ensure_ascii=False))
        else:
            self.stdout.write(words.heading(mail, lang, scan_only=action == "scan"))
            for line in words.summary_lines({**mail, "problems": [], "unreadable": []}, lang):
                self.stdout.write(line)
            if action == "scan":
                for note in summary.notes:
                    self.stdout.write(f"  {note}")
        for where in summary.unreadable:
            self.stderr.write(f"warning: {where}")
        for problem in summary.problems:
            self.stderr.write(problem)
        if summary.problems:
            raise CommandError(f"{len(summary.problems)} mailbox(es) failed", returncode=1)
