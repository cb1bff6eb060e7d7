"""`gallra mail scan|enforce [--at DATE] [--mailbox ID]`: the policy's mailboxes on their own.

`gallra enforce` (and the daily run of `gallra serve`) does the same for every mailbox after
the registry; see docs/mailboxes.md.
"""

from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from gallra.mailboxes.enforcement import enforce_mail
from gallra.mailboxes.store import heading, summary_lines
from gallra.policy.command import FOUND, USAGE
from gallra.retention.command import DateCommand
from gallra.retention.enforcement import EnforcementBusy, only_one_enforcer


class Command(DateCommand):
    help = gettext_lazy(
        "Scan the policy's mailboxes, or delete the messages due on a date, with evidence."
    )
    examples = (
        "gallra mail scan",
        "gallra mail enforce --dry-run --format json",
        "gallra mail enforce --at 2027-06-30",
    )

    def add_arguments(self, parser):
        scan = self.action(
            parser,
            "scan",
            self.scan,
            help=gettext_lazy("read the mailboxes into the index: ids, dates, links"),
        )
        enforce = self.action(
            parser,
            "enforce",
            self.enforce,
            help=gettext_lazy("delete the messages due on a date, resumably"),
        )
        for p in (scan, enforce):
            self.add_date_arguments(p)
            p.add_argument(
                "--mailbox", help=gettext_lazy("only this mailbox (its id in the policy)")
            )
            self.add_format(p)
        enforce.add_argument(
            "--dry-run", action="store_true", help=gettext_lazy("scan and count, delete nothing")
        )
        enforce.add_argument(
            "--actor", default="mail", help=gettext_lazy("who runs it, for the evidence")
        )

    def scan(self, options):
        self._run(options, "scan")

    def enforce(self, options):
        self._run(options, "enforce")

    def _run(self, options, action):
        policy, at, lang = self.resolve(options)
        ids = [m.id for m in policy.mailbox]
        with translation.override(lang):  # a refusal in the language asked for too
            if not ids:  # done: nothing to do (a cron line goes on)
                if options["format"] == "json":
                    self.write_json({"at": at.isoformat(), "messages": 0, "due": 0, "deleted": 0})
                else:
                    self.stdout.write(
                        _("the policy declares no [[mailbox]]: nothing to do (docs/mailboxes.md)")
                    )
                return
            if options["mailbox"] and options["mailbox"] not in ids:
                self.fail(
                    _("--mailbox %(id)r: the policy has no such mailbox (%(known)s)")
                    % {"id": options["mailbox"], "known": ", ".join(ids)},
                    USAGE,
                )
        try:
            with only_one_enforcer():  # a scan too: both bring the index in line
                summary = enforce_mail(
                    policy,
                    at,
                    actor=options.get("actor", "mail"),
                    only=options["mailbox"],
                    dry_run=options.get("dry_run", False),
                    scan_only=action == "scan",
                )
        except EnforcementBusy as exc:
            self.fail(str(exc), FOUND)
        mail = summary.as_dict()
        if options["format"] == "json":
            self.write_json(mail)
        else:
            self.stdout.write(heading(mail, lang, scan_only=action == "scan"))
            for line in summary_lines({**mail, "problems": [], "unreadable": []}, lang):
                self.stdout.write(line)
            if action == "scan":
                for note in summary.notes:
                    self.stdout.write(f"  {note}")
        with translation.override(lang):
            for where in summary.unreadable:
                self.stderr.write(_("warning: %(where)s") % {"where": where})
        for problem in summary.problems:
            self.stderr.write(problem)
        if summary.problems:
            n = len(summary.problems)
            failed = ngettext("%(n)s mailbox failed", "%(n)s mailboxes failed", n) % {"n": n}
            self.fail(failed, FOUND)
