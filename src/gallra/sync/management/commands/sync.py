"""`gallra sync [--source ID] [--at DATE] [--format text|json] [--lang sv|en]` (docs/sync.md).

Exit 0: every source synced. Exit 1: a source could not be read (nothing of it changed), or
records were refused because gallra deleted them (each named on stderr, with the source
row). Exit 2: a source's rows have problems (each named by its row; nothing of that source
was imported), or bad usage.
"""

from __future__ import annotations

from datetime import date

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext_lazy

from gallra.policy.command import USAGE, GallraCommand
from gallra.policy.loading import policy_for_command
from gallra.sync.results import Outcome, SourceResult
from gallra.sync.run import sync

STATES = {  # the importer's counts: "3 created"
    "created": pgettext_lazy("records", "created"),
    "updated": pgettext_lazy("records", "updated"),
    "unchanged": pgettext_lazy("records", "unchanged"),
}


class Command(GallraCommand):
    help = gettext_lazy(
        "Read customers, agreements, people and accounts from the sources in the policy."
    )
    examples = (
        "gallra sync",
        "gallra sync --at 2026-05-05 --format json",
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--source", help=gettext_lazy("only this source (its id in the policy)")
        )
        parser.add_argument(
            "--at",
            metavar="DATE",
            help=gettext_lazy(
                "the day of the sync, YYYY-MM-DD (default: today in Europe/Stockholm); an "
                "account missed now is closed as of this day"
            ),
        )
        self.add_format(parser)
        self.add_lang(parser)

    def run(self, options):
        at, source = options.get("at"), options.get("source")
        try:
            day = date.fromisoformat(at) if at else timezone.localdate()
        except ValueError:
            self.fail(_("--at %(at)r: not a date (YYYY-MM-DD)") % {"at": at}, USAGE)
        policy = policy_for_command()
        if not policy.source:  # done: nothing to read (a cron `sync && enforce` goes on)
            if options["format"] == "json":
                self.write_json({"at": day.isoformat(), "sources": []})
            else:
                self.stdout.write(
                    _("the policy declares no [[source]]: nothing to sync (docs/sync.md)")
                )
            return
        if source is not None and source not in {s.id for s in policy.source}:
            known = ", ".join(s.id for s in policy.source)
            self.fail(
                _("--source %(id)r: the policy declares no such source (it has: %(known)s)")
                % {"id": source, "known": known},
                USAGE,
            )
        bar = self.progress(options, _("sources"))
        results = sync(policy, day, source=source, progress=bar)
        if bar:
            bar.close()
        if options["format"] == "json":
            self.write_json({"at": day.isoformat(), "sources": [r.as_dict() for r in results]})
        else:
            for result in results:
                self._text(result)
        code = max(r.exit_code for r in results)
        if code:
            failed = [r for r in results if r.exit_code]
            self.fail(
                ngettext(
                    "%(n)d of %(total)d source did not sync cleanly: %(ids)s (above)",
                    "%(n)d of %(total)d sources did not sync cleanly: %(ids)s (above)",
                    len(results),
                )
                % {
                    "n": len(failed),
                    "total": len(results),
                    "ids": ", ".join(r.source for r in failed),
                },
                code,
            )

    def _text(self, result: SourceResult) -> None:
        out, err = self.stdout.write, self.stderr.write
        if result.outcome == Outcome.UNAVAILABLE:
            err(_("%(error)s: nothing changed") % {"error": result.error})
            return
        for problem in result.problems:
            err(_("source %(id)s: %(line)s") % {"id": result.source, "line": problem})
        if result.outcome == Outcome.PROBLEMS:
            err(
                ngettext(
                    "%(source)s: nothing imported: %(n)d problem",
                    "%(source)s: nothing imported: %(n)d problems",
                    len(result.problems),
                )
                % {"source": result.name, "n": len(result.problems)}
            )
            return
        for kind, counts in result.counts.items():
            summary = ", ".join(f"{n} {STATES.get(s, s)}" for s, n in counts.items() if n)
            out(
                _("source %(id)s: %(kind)s: %(summary)s")
                % {"id": result.source, "kind": kind, "summary": summary}
            )
        if result.accounts is not None:
            self._accounts(result)
        else:
            total = sum(sum(c.values()) for c in result.counts.values())
            changed = sum(c["created"] + c["updated"] for c in result.counts.values())
            out(
                ngettext(
                    "%(source)s: %(changed)d of %(total)d record created or updated",
                    "%(source)s: %(changed)d of %(total)d records created or updated",
                    total,
                )
                % {"source": result.name, "changed": changed, "total": total}
            )
        for refusal in result.refused:
            err(_("source %(id)s, %(line)s") % {"id": result.source, "line": refusal})

    def _accounts(self, result: SourceResult) -> None:
        out, a = self.stdout.write, result.accounts
        out(
            _("%(source)s: %(n)d accounts in the source, %(m)d in the registry")
            % {"source": result.name, "n": a.in_source, "m": a.matched}
        )
        for change in a.closed:
            out(
                _(
                    "source %(id)s: account %(ref)s (%(user)s) closed as of %(day)s: the "
                    "source no longer has it"
                )
                % {
                    "id": result.source,
                    "ref": change.ref,
                    "user": change.username,
                    "day": change.day,
                }
            )
        for change in a.reopened:
            said = _(
                "source %(id)s: account %(ref)s (%(user)s) opened again: it is back in the source"
            )
            out(said % {"id": result.source, "ref": change.ref, "user": change.username})
        if a.still_missing:
            out(
                ngettext(
                    "source %(id)s: %(n)d account closed earlier is still missing",
                    "source %(id)s: %(n)d accounts closed earlier are still missing",
                    a.still_missing,
                )
                % {"id": result.source, "n": a.still_missing}
            )
        if a.closed_elsewhere:
            out(
                _("source %(id)s: closed in the registry but still in the source: %(users)s")
                % {"id": result.source, "users": ", ".join(a.closed_elsewhere)}
            )
        if a.unknown:
            out(
                _(
                    "source %(id)s: not in the registry (no person to belong to; import "
                    "them first): %(users)s"
                )
                % {"id": result.source, "users": ", ".join(a.unknown)}
            )
