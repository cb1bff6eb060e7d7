"""`gallra check`: every place this installation keeps or sends data is where the policy
allows, and run by no one the policy does not list (P12, P14); enforcement is armed; the
restore drill can run; mail goes out. Exit 1 naming what fails.

It runs Django's system checks first, quietly unless they find something (`--deploy` adds
the ones for production); an error among them fails the check.
"""

from django.conf import settings
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from gallra.backups.dump import can_create_databases
from gallra.outbox.delivery import status as outbox_status
from gallra.policy.command import FOUND, GallraCommand
from gallra.policy.loading import policy_for_command
from gallra.residency.places import check_and_record
from gallra.retention import arming


class Command(GallraCommand):
    help = gettext_lazy(
        "Check the settings, then that the database, backups, SMTP relay and datasets are "
        "where the policy allows, enforcement is armed, the restore drill can run and mail "
        "goes out."
    )
    examples = (
        "gallra check",
        "gallra check --format json",
        "gallra check --deploy",
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--deploy",
            action="store_true",
            help=gettext_lazy(
                "also check the settings a production installation needs (HTTPS, secure cookies)"
            ),
        )
        self.add_format(parser)

    def run(self, options: dict) -> None:
        # Django's system checks: silent when they pass, an error among them exits 1.
        self.check(display_num_errors=False, include_deployment_checks=options["deploy"])
        policy = policy_for_command()
        self.found: list[dict] = []
        places = check_and_record(policy, actor="check")
        for place in places:
            where = place.country or "?"
            self._say(
                place.ok, place.name, where + (f" — {place.problem}" if place.problem else "")
            )
        failed = [p for p in places if not p.ok]
        problems = []
        if failed:
            problems.append(
                ngettext(
                    "%(n)s of %(total)s place fails the policy",
                    "%(n)s of %(total)s places fail the policy",
                    len(places),
                )
                % {"n": len(failed), "total": len(places)}
            )
        problems += self.enforcement(policy) + self.drill() + self.outbox()
        if options["format"] == "json":
            self.write_json({"ok": not problems, "checks": self.found, "problems": problems})
        else:
            for item in self.found:
                mark = "ok  " if item["ok"] else "FAIL"
                self.stdout.write(f"{mark}  {item['what']}: {item['detail']}")
        if problems:
            self.fail("; ".join(problems), FOUND)

    def _say(self, ok: bool, what: str, detail: str) -> None:
        self.found.append({"ok": ok, "what": what, "detail": detail})

    def enforcement(self, policy) -> list[str]:
        """Deleting unattended needs a person's go-ahead (docs/retention.md)."""
        now = timezone.now()
        found = arming.notice(policy, now, actor="check")
        what = _("enforcement")
        if found.armed:
            self._say(True, what, found.how)
            return []
        going = arming.would_go(policy, timezone.localdate(now), actor="check")
        self._say(
            False,
            what,
            ngettext(
                "not armed (%(why)s) — %(n)s record would be deleted today%(rules)s; review "
                "them with `gallra enforce --dry-run`, then arm with `gallra enforce --arm`",
                "not armed (%(why)s) — %(n)s records would be deleted today%(rules)s; review "
                "them with `gallra enforce --dry-run`, then arm with `gallra enforce --arm`",
                going.total,
            )
            % {"why": found.why, "n": going.total, "rules": going.by_rule_text()},
        )
        return [_("enforcement is not armed")]

    def drill(self) -> list[str]:
        """The nightly restore drill restores into a scratch database on PostgreSQL."""
        if not settings.GALLRA_BACKUP_REPOSITORY or connection.vendor != "postgresql":
            return []
        role = connection.settings_dict["USER"] or "gallra"
        what = _("restore drill")
        if can_create_databases():
            self._say(
                True,
                what,
                _("the database role %(role)s may create its scratch database (CREATEDB)")
                % {"role": role},
            )
            return []
        self._say(
            False,
            what,
            _(
                "the database role %(role)s may not create databases, and the drill restores "
                "each backup into a scratch database: give it CREATEDB (ALTER ROLE %(role)s "
                "CREATEDB; docs/backups.md)"
            )
            % {"role": role},
        )
        return [_("the restore drill cannot run")]

    def outbox(self) -> list[str]:
        """Mail from the web pages waits in the outbox until the relay takes it (docs/mail.md)."""
        found = outbox_status(timezone.now())
        what = _("outgoing mail")
        if not found.problems():
            self._say(
                True,
                what,
                ngettext(
                    "%(n)s waiting in the outbox", "%(n)s waiting in the outbox", found.waiting
                )
                % {"n": found.waiting},
            )
            return []
        for problem in found.problems():
            self._say(False, what, problem)
        return [_("outgoing mail is failing")]
