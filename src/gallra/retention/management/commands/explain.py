"""`gallra explain TYPE REF [--at DATE] [--lang sv|en]`: one record's fate, in words."""

from django.core.management.base import BaseCommand, CommandError

from gallra.retention import words
from gallra.retention.command import DateArguments
from gallra.retention.kinds import KINDS
from gallra.retention.planner import plan


class Command(DateArguments, BaseCommand):
    help = "Explain whether one record is deleted on a date, under which rule, or why it is kept."

    def add_arguments(self, parser):
        parser.add_argument("record_type", choices=sorted(KINDS))
        parser.add_argument("ref")
        self.add_date_arguments(parser)

    def handle(self, *args, record_type, ref, **options):
        policy, at, lang = self.resolve(options)
        decisions = list(plan(policy, at, record_type, ref))
        if not decisions:
            raise CommandError(f"no {record_type} with ref {ref!r}", returncode=2)
        self.stdout.write(words.explanation(policy, decisions[0], at, lang))
