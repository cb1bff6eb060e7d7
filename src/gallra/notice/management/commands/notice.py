"""`gallra notice [--lang sv|en] [--out FILE]`: the privacy notice as one HTML file."""

from pathlib import Path

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from gallra.notice.content import render
from gallra.policy.command import GallraCommand
from gallra.policy.loading import policy_for_command


class Command(GallraCommand):
    help = gettext_lazy(
        "Write the privacy notice, generated from the policy file, as a static HTML page."
    )
    examples = (
        "gallra notice --lang en",
        "gallra notice --lang sv --out /tmp/integritetspolicy.html",
    )

    def add_arguments(self, parser):
        # The notice's language, not the terminal's: the messages follow LANG.
        parser.add_argument(
            "--lang",
            dest="notice_lang",
            choices=["sv", "en"],
            default="sv",
            help=gettext_lazy("the notice's language (default: %(default)s)"),
        )
        parser.add_argument(
            "--out", help=gettext_lazy("the file to write (default: standard output)")
        )

    def run(self, options):
        html = render(policy_for_command(), options["notice_lang"])
        out = options.get("out")
        if out:
            Path(out).write_text(html, encoding="utf-8")
            self.stdout.write(_("wrote %(path)s") % {"path": out})
        else:
            self.stdout.write(html)
