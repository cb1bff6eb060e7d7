"""`gallra explain TYPE REF | DATASET:TABLE:KEY [--at DATE] [--lang sv|en]`: one record's
fate, in words (a registry record by its type and ref, a store's by its whole ref)."""

from django.core.management.base import BaseCommand, CommandError

from gallra.retention import words
from gallra.retention.command import DateArguments
from gallra.retention.kinds import KINDS
from gallra.retention.planner import plan
from gallra.retention.stores import stores


class Command(DateArguments, BaseCommand):
    help = "Explain whether one record is deleted on a date, under which rule, or why it is kept."

    def add_arguments(self, parser):
        parser.add_argument(
            "record_type",
            metavar="TYPE|REF",
            help=f"a registry record type ({', '.join(sorted(KINDS))}) followed by its ref, or "
            "a dataset row's whole ref, DATASET:TABLE:KEY",
        )
        parser.add_argument("ref", nargs="?")
        self.add_date_arguments(parser)

    def handle(self, *args, record_type, ref, **options):
        policy, at, lang = self.resolve(options)
        if ref is None:  # a store's record, by its whole ref
            found = (store.explain(policy, at, record_type) for store in stores())
            decision = next((d for d in found if d is not None), None)
            if decision is None:
                raise CommandError(f"no record with ref {record_type!r}", returncode=2)
            self.stdout.write(words.explanation(policy, decision, at, lang))
            return
        if record_type not in KINDS:
            raise CommandError(
                f"{record_type!r} is not a record type (one of: {', '.join(sorted(KINDS))})",
                returncode=2,
            )
        decisions = list(plan(policy, at, record_type, ref))
        if not decisions:
            raise CommandError(f"no {record_type} with ref {ref!r}", returncode=2)
        self.stdout.write(words.explanation(policy, decisions[0], at, lang))
