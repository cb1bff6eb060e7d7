"""`gallra notice [--lang sv|en] [--out FILE]`: the privacy notice as one HTML file."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from gallra.notice.content import render
from gallra.policy.loading import PolicyError, current_policy


class Command(BaseCommand):
    help = "Write the privacy notice, generated from the policy file, as a static HTML page."

    def add_arguments(self, parser):
        parser.add_argument("--lang", choices=["sv", "en"], default="sv")
        parser.add_argument("--out", help="the file to write (default: standard output)")

    def handle(self, *args, lang, out=None, **options):
        try:
            policy = current_policy()
        except PolicyError as exc:
            raise CommandError(f"the policy is not valid:\n{exc}", returncode=2) from exc
        html = render(policy, lang)
        if out:
            Path(out).write_text(html, encoding="utf-8")
            self.stdout.write(f"wrote {out}")
        else:
            self.stdout.write(html)
