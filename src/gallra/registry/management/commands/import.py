"""`gallra import FILE.json`: load existing records (format: docs/import.md).

Exit 0: imported. Exit 1: imported, except the records gallra deleted (each named on stderr,
with the rule and day; delete them in the source). Exit 2: the file has problems, all of them
listed on stderr in one run (up to the cap in docs/import.md); nothing was imported.
"""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from gallra.policy.command import FOUND, USAGE, GallraCommand
from gallra.registry.importing import STATES, ImportFailed, import_file


class Command(GallraCommand):
    help = gettext_lazy(
        "Import customers, people, accounts and more from a JSON file (all or nothing)."
    )
    examples = (
        "gallra import examples/import-example.json",
        "gallra import examples/import-example.json --format json",
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help=gettext_lazy("the JSON file (see docs/import.md)"))
        self.add_format(parser)

    def run(self, options: dict) -> None:
        file = options["file"]
        bar = self.progress(options, _("bytes read"))
        try:
            report = import_file(file, progress=bar)
        except ImportFailed as exc:
            if bar:
                bar.close()
            for problem in exc.problems:
                self.stderr.write(f"{file}: {problem.translated()}")
            for line in exc.unlisted_lines():  # the cap (docs/import.md, "A million problems")
                self.stderr.write(f"{file}: {line.translated()}")
            n = exc.total
            if n > len(exc.problems):
                message = ngettext(
                    "nothing was imported: %(n)s problem, %(listed)s of them listed",
                    "nothing was imported: %(n)s problems, %(listed)s of them listed",
                    n,
                ) % {"n": f"{n:,}", "listed": f"{len(exc.problems):,}"}
            else:
                message = ngettext(
                    "nothing was imported: %(n)s problem",
                    "nothing was imported: %(n)s problems",
                    n,
                ) % {"n": n}
            self.fail(message, USAGE)
        if bar:
            bar.close()
        if options["format"] == "json":
            self.write_json(
                {
                    "file": file,
                    "counts": report.counts,
                    "total": report.total,
                    "changed": report.changed(),
                    "refused": [
                        {
                            "path": r.path,
                            "record_type": r.record_type,
                            "ref": r.ref,
                            "why": r.reason,
                        }
                        for r in report.refused
                    ],
                }
            )
        else:
            for kind, counts in sorted(report.counts.items()):
                summary = ", ".join(
                    f"{n} {STATES.get(state, state)}" for state, n in counts.items() if n
                )
                self.stdout.write(f"{kind}: {summary}")
            self.stdout.write(
                ngettext(
                    "%(file)s: %(n)s of %(total)s record created or updated",
                    "%(file)s: %(n)s of %(total)s records created or updated",
                    report.total,
                )
                % {"file": file, "n": report.changed(), "total": report.total}
            )
        if report.refused:  # P15: what gallra deleted does not come back from the source
            for refusal in report.refused:
                self.stderr.write(f"{file}: {refusal}")
            self.fail(
                ngettext(
                    "%(n)d record was not imported: gallra deleted it (above)",
                    "%(n)d records were not imported: gallra deleted them (above)",
                    len(report.refused),
                )
                % {"n": len(report.refused)},
                FOUND,
            )
