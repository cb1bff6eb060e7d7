"""`gallra outbox send [--format json]`, `gallra outbox status [--format json]`.

`send` delivers what is due (for cron, where `gallra serve` does not run: every minute);
exit 1 when the relay is failing (a mail waits too long or was tried too often), so cron
mails or monitoring sees it. `status` only looks. See docs/mail.md.
"""

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from gallra.outbox import delivery
from gallra.policy.command import FOUND, GallraCommand


class Command(GallraCommand):
    help = gettext_lazy("Deliver the mail waiting in the outbox, or show what waits.")
    examples = (
        "gallra outbox status",
        "gallra outbox status --format json",
        "gallra outbox send",
    )

    def add_arguments(self, parser):
        send = self.action(
            parser,
            "send",
            self.send,
            help=gettext_lazy("Deliver what is due now (exit 1 while the relay is failing)."),
        )
        status = self.action(
            parser,
            "status",
            self.status,
            help=gettext_lazy("Show what waits (exit 1 while the relay is failing)."),
        )
        self.add_format(send)
        self.add_format(status)

    def send(self, options):
        self._report(options, delivery.deliver())

    def status(self, options):
        self._report(options, None)

    def _report(self, options, outcome) -> None:
        found = delivery.record_relay(timezone.now())
        if options["format"] == "json":
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
            self.write_json(data)
        else:
            if outcome is not None:
                self.stdout.write(
                    _("outbox: %(sent)s sent, %(failed)s to try again, %(given_up)s given up")
                    % {
                        "sent": outcome.sent,
                        "failed": outcome.failed,
                        "given_up": outcome.given_up,
                    }
                )
            self.stdout.write(
                ngettext("outbox: %(n)s waiting", "outbox: %(n)s waiting", found.waiting)
                % {"n": found.waiting}
            )
            for problem in found.problems():
                self.stderr.write(_("outbox: %(problem)s") % {"problem": problem})
        if found.failing:
            self.fail(_("the SMTP relay is failing: mail is waiting"), FOUND)
