"""`gallra notice [--lang sv|en] [--out FILE]`: the privacy notice as one HTML file."""

from pathlib import Path

from django.core.management.base import BaseCommand

from gallra.notice.content import render
from gallra.policy.loading import policy_for_command


class Command(BaseCommand):
    help = "Write the privacy notice, generated from the policy file, as a static HTML page."

    def add_arguments(self, parser):
        parser.add_argument("--lang", choices=["sv", "en"], default="sv")
        parser.add_argument("--out", help="the file to write (default: standard output)")

    def handle(self, *args, lang, out=None, **options):
        policy = policy_for_command()
        html = render(policy, lang)
        if out:
            Path(out).write_text(html, encoding="utf-8")
            self.stdout.write(f"wrote {out}")
        else:
            self.stdout.write(html)
