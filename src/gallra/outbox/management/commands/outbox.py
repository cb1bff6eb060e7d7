"""`gallra outbox send [--format json]`, `gallra outbox status [--format json]`.

`send` delivers what is due (for cron, where `gallra serve` does not run: every minute);
exit 1 when the relay is failing (a mail waits too long or was tried too often), so cron
mails or monitoring sees it. `status` only looks. See docs/mail.md.
"""

import json

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from gallra.outbox import delivery


class Command(BaseCommand):
    help = "Deliver the mail waiting in the outbox, or show what waits."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        for name, text in (("send", "deliver what is due now"), ("status", "what waits")):
            p = sub.add_parser(name, help=text)
            p.add_argument("--format", choices=["text", "json"], default="text")

    def handle(self, *args, action, format, **options):
        outcome = delivery.deliver() if action == "send" else None
        found = delivery.record_relay(timezone.now())
        if format == "json":
            data = {
                "waiting": found.waiting,
                "failing": found.failing,
                "oldest": found.oldest.isoformat() if found.oldest else None,
                "last_error": found.last_error,
                "given_up_today": found.given_up_today,
                "problems": found.problems(),
            }
            if outcome is not None:
                data |= {
                    "sent": outcome.sent,
                    "nothing_to_send": outcome.nothing_to_send,
                    "failed": outcome.failed,
                    "given_up": outcome.given_up,
                }
            self.stdout.write(json.dumps(data))
        else:
            if outcome is not None:
                self.stdout.write(
                    f"outbox: {outcome.sent} sent, {outcome.failed} to try again, "
                    f"{outcome.given_up} given up"
                )
            self.stdout.write(f"outbox: {found.waiting} waiting")
            for problem in found.problems():
                self.stderr.write(f"outbox: {problem}")
        if found.failing:
            raise CommandError("the SMTP relay is failing: mail is waiting", returncode=1)
