"""`gallra scan PATH...`: where does personal data sit that nobody expects there?

See docs/scanner.md. Exit 0 when nothing is found, 1 when something is (like a linter), 2
for a path that is not there.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from gallra.scanner.files import scan_paths, subject_names
from gallra.scanner.scan import KINDS, Scanner


class Command(BaseCommand):
    help = "Report personal data in files: e-mail, personnummer, phone, IBAN, IP, names..."

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", help="files or folders")
        parser.add_argument(
            "--kind",
            action="append",
            choices=KINDS,
            help="only these kinds (repeatable); default all",
        )
        parser.add_argument(
            "--no-names",
            action="store_true",
            help="do not look for the names of the registry's people",
        )
        parser.add_argument("--format", choices=["text", "json"], default="text")
        parser.add_argument(
            "--show", action="store_true", help="print what was found in full, not masked"
        )

    def handle(self, *args, paths, kind, no_names, format, show, **options):
        missing = [p for p in paths if not Path(p).exists()]
        if missing:
            raise CommandError(f"no such file or folder: {', '.join(missing)}", returncode=2)
        scanner = Scanner([] if no_names else subject_names())
        hits = [
            h for h in scan_paths([Path(p) for p in paths], scanner) if not kind or h.kind in kind
        ]
        if format == "json":
            self.stdout.write(json.dumps([h.as_dict(show) for h in hits], ensure_ascii=False))
        else:
            for h in hits:
                value = h.text if show else h.masked()
                self.stdout.write(f"{h.path}:{h.line}:{h.column}: {h.kind}: {value}")
            files = len({h.path for h in hits})
            self.stdout.write(f"{len(hits)} finding(s) in {files} file(s)")
        if hits:
            raise CommandError(f"personal data found: {len(hits)} finding(s)", returncode=1)
