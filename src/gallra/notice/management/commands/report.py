"""`gallra report ropa [--format html|csv|json] [--lang sv|en] [--out FILE]`: the record of
processing activities (GDPR Art. 30), generated from the policy file."""

from pathlib import Path

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from gallra.notice import ropa
from gallra.policy.command import GallraCommand
from gallra.policy.loading import policy_for_command


class Command(GallraCommand):
    help = gettext_lazy(
        "Reports generated from the policy file: `ropa`, the record of processing (Art. 30)."
    )
    examples = (
        "gallra report ropa --format csv --lang en",
        "gallra report ropa --format json",
        "gallra report ropa --out /tmp/ropa.html",
    )

    def add_arguments(self, parser):
        sub = self.action(
            parser,
            "ropa",
            self.ropa,
            help=gettext_lazy("The record of processing activities (Art. 30)."),
        )
        self.add_format(sub, ("html", "csv", "json"))
        # The record's language, not the terminal's: the messages follow LANG.
        sub.add_argument(
            "--lang",
            dest="report_lang",
            choices=["sv", "en"],
            default="sv",
            help=gettext_lazy("the record's language (default: %(default)s)"),
        )
        sub.add_argument("--out", help=gettext_lazy("the file to write (default: standard output)"))

    def ropa(self, options):
        text = ropa.render(policy_for_command(), options["format"], options["report_lang"])
        out = options.get("out")
        if out:
            Path(out).write_text(text, encoding="utf-8")
            self.stdout.write(_("wrote %(path)s") % {"path": out})
        else:
            self.stdout.write(text)
