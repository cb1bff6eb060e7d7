"""`gallra plan [--at DATE] [--format text|json]`: what would be deleted that day, and why not."""

import json
from collections import Counter
from itertools import chain

from django.core.management.base import BaseCommand

from gallra.retention import words
from gallra.retention.command import DateArguments
from gallra.retention.planner import plan
from gallra.retention.stores import plan_all


class Command(DateArguments, BaseCommand):
    help = (
        "Show what would be deleted on a date (default today), by rule, and what is kept and why."
    )

    def add_arguments(self, parser):
        self.add_date_arguments(parser)
        parser.add_argument("--format", choices=["text", "json"], default="text")
        parser.add_argument("--type", dest="record_type", help="only this record type")
        parser.add_argument("--all", action="store_true", help="text: list kept records too")

    def handle(self, *args, **options):
        policy, at, lang = self.resolve(options)
        decisions = chain(
            plan(policy, at, options["record_type"]),
            plan_all(policy, at, options["record_type"]),  # the stores' (mail: as last scanned)
        )
        if options["format"] == "json":
            self._json(decisions)
            return
        due, kept = Counter(), Counter()
        self.stdout.write(words.heading(policy, at, lang))
        for d in decisions:
            if d.action == "delete":
                due[(d.rule, d.record_type)] += 1
                self.stdout.write(f"  {words.delete_line(d, lang)}")
            else:
                kept[d.reason] += 1
                if options["all"]:
                    self.stdout.write(f"  {words.keep_line(policy, d, lang)}")
        self.stdout.write(words.summary(due, kept, lang))

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
