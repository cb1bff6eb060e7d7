"""`gallra report ropa [--format html|csv|json] [--lang sv|en] [--out FILE]`: the record of
processing activities (GDPR Art. 30), generated from the policy file."""

from pathlib import Path

from django.core.management.base import BaseCommand

from gallra.notice import ropa
from gallra.policy.loading import policy_for_command


class Command(BaseCommand):
    help = "Reports generated from the policy file: `ropa`, the record of processing (Art. 30)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="report", required=True)
        p = sub.add_parser("ropa", help="the record of processing activities (Art. 30)")
        p.add_argument("--format", choices=["html", "csv", "json"], default="html")
        p.add_argument("--lang", choices=["sv", "en"], default="sv")
        p.add_argument("--out", help="the file to write (default: standard output)")

    def handle(self, *args, report, format, lang, out=None, **options):
        policy = policy_for_command()
        text = ropa.render(policy, format, lang)
        if out:
            Path(out).write_text(text, encoding="utf-8")
            self.stdout.write(f"wrote {out}")
        else:
            self.stdout.write(text)
