"""`gallra import FILE.json`: load existing records (format: docs/import.md)."""

from django.core.management.base import BaseCommand, CommandError

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
