"""What the retention commands share: the date to look at, the language, the policy."""

from __future__ import annotations

from datetime import date

from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from gallra.policy.command import USAGE, GallraCommand
from gallra.policy.loading import policy_for_command
from gallra.policy.model import Policy


class DateCommand(GallraCommand):
    """A command that looks at the policy on one date (`--at`), in one language (`--lang`)."""

    def add_date_arguments(self, parser) -> None:
        parser.add_argument(
            "--at",
            metavar="DATE",
            help=gettext_lazy(
                "the date to look at, YYYY-MM-DD (default: today in Europe/Stockholm); "
                "any date, past or future"
            ),
        )
        self.add_lang(parser)

    def resolve(self, options) -> tuple[Policy, date, str]:
        try:
            at = date.fromisoformat(options["at"]) if options.get("at") else timezone.localdate()
        except ValueError:
            self.fail(_("--at %(v)r: not a date (YYYY-MM-DD)") % {"v": options["at"]}, USAGE)
        policy = policy_for_command()
        return policy, at, (options.get("lang") or translation.get_language() or "en")[:2]
