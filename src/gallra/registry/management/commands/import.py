"""`gallra import FILE.json`: load existing records (format: docs/import.md).

Exit 0: imported. Exit 1: imported, except the records gallra deleted (each named on stderr,
with the rule and day; delete them in the source). Exit 2: the file has problems; nothing
was imported.
"""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import ngettext

from gallra.registry.importing import ImportFailed, import_file


class Command(BaseCommand):
    help = "Import customers, people, accounts and more from a JSON file (all or nothing)."

    def add_arguments(self, parser):
        parser.add_argument("file", help="the JSON file (see docs/import.md)")

    def handle(self, *args, file, **options):
        try:
            report = import_file(file)
        except ImportFailed as exc:
            for problem in exc.problems:
                self.stderr.write(f"{file}: {problem}")
            raise CommandError(
                f"nothing was imported: {len(exc.problems)} problem(s)", returncode=2
            ) from exc
        for kind, counts in sorted(report.counts.items()):
            summary = ", ".join(f"{n} {state}" for state, n in counts.items() if n)
            self.stdout.write(f"{kind}: {summary}")
        self.stdout.write(
            f"{file}: {report.changed()} of {report.total} records created or updated"
        )
        if report.refused:  # P15: what gallra deleted does not come back from the source
            for refusal in report.refused:
                self.stderr.write(f"{file}: {refusal}")
            raise CommandError(
                ngettext(
                    "%(n)d record was not imported: gallra deleted it (above)",
                    "%(n)d records were not imported: gallra deleted them (above)",
                    len(report.refused),
                )
                % {"n": len(report.refused)},
                returncode=1,
            )
