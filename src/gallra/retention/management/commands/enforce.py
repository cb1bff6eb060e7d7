"""`gallra enforce [--at DATE] [--dry-run | --arm] [--format text|json]`: carry out the plan.

Deleting needs enforcement to be armed (retention/arming.py): `--arm` is a person saying
"I have reviewed the plan (`--dry-run`), go", for the policy's retention rules as they are.
Not armed, a plain `gallra enforce` (from cron, say) deletes nothing, says what would have
gone and exits 1.
"""

import json

from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from gallra.policy.command import FOUND, USAGE
from gallra.retention import arming
from gallra.retention.command import DateCommand
from gallra.retention.enforcement import EnforcementBusy, enforce
from gallra.retention.explaining import enforce_summary


class Command(DateCommand):
    help = gettext_lazy(
        "Delete every record due on a date (default today), with evidence; resumable."
    )
    examples = (
        "gallra enforce --dry-run",
        "gallra enforce --dry-run --at 2027-06-30 --format json",
        "gallra enforce --arm --actor anna",
        "gallra enforce",
    )

    def add_arguments(self, parser):
        self.add_date_arguments(parser)
        parser.add_argument(
            "--dry-run", action="store_true", help=gettext_lazy("count, delete nothing")
        )
        parser.add_argument(
            "--arm",
            action="store_true",
            help=gettext_lazy(
                "you have reviewed the plan (--dry-run): arm enforcement for the policy's "
                "retention rules as they are now, then carry it out; the daily run of `gallra "
                "serve` and a plain `gallra enforce` delete only while armed"
            ),
        )
        self.add_format(parser)
        parser.add_argument(
            "--actor", default="enforce", help=gettext_lazy("who runs it, for the evidence")
        )

    def run(self, options):
        policy, at, lang = self.resolve(options)
        actor = options["actor"]
        if not actor or len(actor) > 100 or not actor.isprintable():
            self.fail(
                _(
                    "--actor: a name of 1 to 100 printable characters (who runs it, for the "
                    "evidence log)"
                ),
                USAGE,
            )
        if options["arm"] and options["dry_run"]:
            self.fail(
                _(
                    "--arm carries the plan out: review it with --dry-run first, then arm "
                    "without --dry-run"
                ),
                USAGE,
            )
        with translation.override(lang):
            if options["dry_run"]:
                found = arming.state(policy)
            elif options["arm"]:
                found = self._arm(policy, options)
            else:
                found = arming.notice(policy, timezone.now(), options["actor"])
                if not found.armed:
                    self._not_armed(policy, at, lang, options, found)
        bar = self.progress(options, _("records"))
        try:
            summaries = enforce(
                policy,
                at,
                actor=options["actor"],
                dry_run=options["dry_run"],
                progress=bar,
            )
        except EnforcementBusy as exc:
            self.fail(str(exc), FOUND)
        if bar:
            bar.close()
        if options["format"] == "json":
            self.stdout.write(json.dumps([s.as_dict() for s in summaries], indent=2))
        else:
            for s in summaries:
                self.stdout.write(enforce_summary(s, lang))
            if options["dry_run"]:
                with translation.override(lang):
                    self.stdout.write(self._armed_line(found))
        failed = summaries[-1].problems
        if failed:  # a store (a mailbox) not reached or not finished: the next run resumes it
            self.fail("\n".join(failed), FOUND)

    def _arm(self, policy, options) -> arming.State:
        by = options["actor"] if options["actor"] != "enforce" else arming.login_name()
        found, new = arming.arm(policy, timezone.now(), by)
        if new and options["format"] == "text":
            self.stdout.write(
                _(
                    "Enforcement armed by %(who)s for the policy's retention rules as they are "
                    "now (digest %(digest)s): the daily run deletes what is due until they "
                    "change."
                )
                % {"who": by, "digest": found.digest[:12]}
            )
        return found

    def _not_armed(self, policy, at, lang, options, found: arming.State) -> None:
        going = arming.skip(policy, at, timezone.now(), options["actor"], found)
        if options["format"] == "json":
            self.stdout.write(
                json.dumps(
                    {"armed": False, "why": found.why, "would_delete": going.as_data()}, indent=2
                )
            )
        else:
            self.stdout.write(
                _("Nothing was deleted: enforcement is not armed (%(why)s).") % {"why": found.why}
            )
            lines = enforce_summary(going.summary, lang).splitlines()[1:]
            said = ngettext(
                "%(n)s record would be deleted on %(day)s:",
                "%(n)s records would be deleted on %(day)s:",
                going.total,
            )
            self.stdout.write(said % {"n": going.total, "day": at})
            for line in lines:
                self.stdout.write(line)
        said = ngettext(
            "enforcement is not armed (%(why)s): %(n)s record would be deleted; review it "
            "with `gallra enforce --dry-run`, then arm with `gallra enforce --arm` "
            "(docs/retention.md)",
            "enforcement is not armed (%(why)s): %(n)s records would be deleted; review them "
            "with `gallra enforce --dry-run`, then arm with `gallra enforce --arm` "
            "(docs/retention.md)",
            going.total,
        )
        self.fail(said % {"why": found.why, "n": going.total}, FOUND)

    @staticmethod
    def _armed_line(found: arming.State) -> str:
        if found.armed:
            return _("Enforcement is %(how)s.") % {"how": found.how}
        return _(
            "Enforcement is not armed (%(why)s): the daily run deletes nothing until you arm "
            "it with `gallra enforce --arm`."
        ) % {"why": found.why}
