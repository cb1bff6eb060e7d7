"""What the retention commands share: the date to look at, the language, the policy."""

from __future__ import annotations

from datetime import date

from django.core.management.base import CommandError
from django.utils import timezone

from gallra.policy.loading import policy_for_command
from gallra.policy.model import Policy


class DateArguments:
    def add_date_arguments(self, parser) -> None:
        parser.add_argument(
            "--at",
            help="the date to look at, YYYY-MM-DD (default: today in Europe/Stockholm); "
            "any date, past or future",
        )
        parser.add_argument("--lang", choices=["sv", "en"], default="sv")

    def resolve(self, options) -> tuple[Policy, date, str]:
        try:
            at = date.fromisoformat(options["at"]) if options.get("at") else timezone.localdate()
        except ValueError:
            message = f"--at {options['at']!r}: not a date (YYYY-MM-DD)"
            raise CommandError(message, returncode=2) from None
        policy = policy_for_command()
        return policy, at, options.get("lang") or "sv"
