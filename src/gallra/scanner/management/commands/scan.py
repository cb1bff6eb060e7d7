"""`gallra scan PATH...`: where does personal data sit that nobody expects there?

See docs/scanner.md. Exit 0 when nothing is found, 1 when something is (like a linter), 2
for a path that is not there. Needs no instance: without a database it does not look for
the registry's names.
"""

from __future__ import annotations

from pathlib import Path

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from gallra.policy.command import FOUND, USAGE, GallraCommand
from gallra.scanner.files import scan_paths, subject_names
from gallra.scanner.scan import KINDS, Scanner


class Command(GallraCommand):
    help = gettext_lazy(
        "Report personal data in files: e-mail, personnummer, phone, IBAN, IP, names..."
    )
    examples = (
        "gallra scan /etc/hosts",
        "gallra scan --kind email --kind phone --format json /etc/hosts",
    )
    needs_database = False

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", help=gettext_lazy("files or folders"))
        parser.add_argument(
            "--kind",
            action="append",
            choices=KINDS,
            help=gettext_lazy("only these kinds (repeatable); default all"),
        )
        parser.add_argument(
            "--no-names",
            action="store_true",
            help=gettext_lazy("do not look for the names of the registry's people"),
        )
        self.add_format(parser)
        parser.add_argument(
            "--show",
            action="store_true",
            help=gettext_lazy("print what was found in full, not masked"),
        )

    def run(self, options):
        paths, kind, show = options["paths"], options["kind"], options["show"]
        missing = [p for p in paths if not Path(p).exists()]
        if missing:
            self.fail(_("no such file or folder: %(p)s") % {"p": ", ".join(missing)}, USAGE)
        scanner = Scanner([] if options["no_names"] else subject_names())
        bar = self.progress(options, _("files"))
        found = scan_paths([Path(p) for p in paths], scanner, bar)
        if bar:
            bar.close()
        hits = [h for h in found if not kind or h.kind in kind]
        if options["format"] == "json":
            self.write_json([h.as_dict(show) for h in hits])
        else:
            for h in hits:
                value = h.text if show else h.masked()
                self.stdout.write(f"{h.path}:{h.line}:{h.column}: {h.kind}: {value}")
            files = len({h.path for h in hits})
            self.stdout.write(
                ngettext("%(n)s finding", "%(n)s findings", len(hits)) % {"n": len(hits)}
                + " "
                + ngettext("in %(n)s file", "in %(n)s files", files) % {"n": files}
            )
        if hits:
            self.fail(
                ngettext(
                    "personal data found: %(n)s finding",
                    "personal data found: %(n)s findings",
                    len(hits),
                )
                % {"n": len(hits)},
                FOUND,
            )
