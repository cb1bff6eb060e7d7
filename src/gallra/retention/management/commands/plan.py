"""`gallra plan [--at DATE] [--format text|json]`: what would be deleted that day, and why not."""

import json
from collections import Counter
from itertools import chain

from django.utils.translation import gettext_lazy

from gallra.retention import explaining
from gallra.retention.command import DateCommand
from gallra.retention.planner import plan
from gallra.retention.stores import plan_all


class Command(DateCommand):
    help = gettext_lazy(
        "Show what would be deleted on a date (default today), by rule, and what is kept and why."
    )
    examples = (
        "gallra plan",
        "gallra plan --at 2027-06-30 --lang sv",
        "gallra plan --type customer --all",
        "gallra plan --at 2027-06-30 --format json",
    )

    def add_arguments(self, parser):
        self.add_date_arguments(parser)
        self.add_format(parser)
        parser.add_argument(
            "--type", dest="record_type", help=gettext_lazy("only this record type")
        )
        parser.add_argument(
            "--all", action="store_true", help=gettext_lazy("text: list kept records too")
        )

    def run(self, options):
        policy, at, lang = self.resolve(options)
        decisions = chain(
            plan(policy, at, options["record_type"]),
            plan_all(policy, at, options["record_type"]),  # the stores' (mail: as last scanned)
        )
        if options["format"] == "json":
            self._json(decisions)
            return
        due, kept = Counter(), Counter()
        self.stdout.write(explaining.heading(policy, at, lang))
        for d in decisions:
            if d.action == "delete":
                due[(d.rule, d.record_type)] += 1
                self.stdout.write(f"  {explaining.delete_line(d, lang)}")
            else:
                kept[d.reason] += 1
                if options["all"]:
                    self.stdout.write(f"  {explaining.keep_line(policy, d, lang)}")
        self.stdout.write(explaining.summary(due, kept, lang))

    def _json(self, decisions):
        # Streamed: one record a line inside the array, so memory stays flat.
        self.stdout.write("[", ending="")
        first = True
        for d in decisions:
            self.stdout.write(
                ("\n" if first else ",\n") + json.dumps(d.as_dict(), ensure_ascii=False), ending=""
            )
            first = False
        self.stdout.write("\n]")
