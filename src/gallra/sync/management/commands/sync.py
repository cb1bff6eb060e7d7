"""`gallra sync [--source ID] [--at DATE] [--format text|json] [--lang sv|en]` (docs/sync.md).

Exit 0: every source synced. Exit 1: a source could not be read (nothing of it changed), or
records were refused because gallra deleted them (each named on stderr, with the source
row). Exit 2: a source's rows have problems (each named by its row; nothing of that source
was imported), or bad usage.
"""

from __future__ import annotations

import json
from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from gallra.policy.loading import policy_for_command
from gallra.sync.results import Outcome, SourceResult
from gallra.sync.run import sync


class Command(BaseCommand):
    help = "Read customers, agreements, people and accounts from the sources in the policy."

    def add_arguments(self, parser):
        parser.add_argument("--source", help="only this source (its id in the policy)")
        parser.add_argument(
            "--at",
            help="the day of the sync, YYYY-MM-DD (default: today in Europe/Stockholm); an "
            "account missed now is closed as of this day",
        )
        parser.add_argument("--format", choices=["text", "json"], default="text")
        parser.add_argument(
            "--lang", choices=["sv", "en"], help="the report's language (default: gallra's, sv)"
        )

    def handle(self, *args, lang=None, **options):
        if lang is None:
            return self._handle(**options)
        with translation.override(lang):
            return self._handle(**options)

    def _handle(self, source=None, at=None, format="text", **options):
        try:
            day = date.fromisoformat(at) if at else timezone.localdate()
        except ValueError:
            raise CommandError(f"--at {at!r}: not a date (YYYY-MM-DD)", returncode=2) from None
        policy = policy_for_command()
        if not policy.source:
            raise CommandError(
                _("the policy declares no [[source]]: nothing to sync (docs/sync.md)"),
                returncode=2,
            )
        if source is not None and source not in {s.id for s in policy.source}:
            known = ", ".join(s.id for s in policy.source)
            raise CommandError(
                _("--source %(id)r: the policy declares no such source (it has: %(known)s)")
                % {"id": source, "known": known},
                returncode=2,
            )
        results = sync(policy, day, source=source)
        if format == "json":
            self.stdout.write(
                json.dumps(
                    {"at": day.isoformat(), "sources": [r.as_dict() for r in results]},
                    indent=2,
                    ensure_ascii=False,
                )
            )
        else:
            for result in results:
                self._text(result)
        code = max(r.exit_code for r in results)
        if code:
            failed = [r for r in results if r.exit_code]
            raise CommandError(
                _("%(n)d of %(total)d source(s) did not sync cleanly: %(ids)s (above)")
                % {
                    "n": len(failed),
                    "total": len(results),
                    "ids": ", ".join(r.source for r in failed),
                },
                returncode=code,
            )

    def _text(self, result: SourceResult) -> None:
        out, err = self.stdout.write, self.stderr.write
        if result.outcome == Outcome.UNAVAILABLE:
            err(_("%(error)s: nothing changed") % {"error": result.error})
            return
        for problem in result.problems:
            err(f"source {result.source}: {problem}")
        if result.outcome == Outcome.PROBLEMS:
            err(
                _("%(source)s: nothing imported: %(n)d problem(s)")
                % {"source": result.name, "n": len(result.problems)}
            )
            return
        for kind, counts in result.counts.items():
            summary = ", ".join(f"{n} {state}" for state, n in counts.items() if n)
            out(f"source {result.source}: {kind}: {summary}")
        if result.accounts is not None:
            a = result.accounts
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
                    "source %(id)s: account %(ref)s (%(user)s) opened again: it is back "
                    "in the source"
                )
                out(said % {"id": result.source, "ref": change.ref, "user": change.username})
            if a.still_missing:
                out(
                    _("source %(id)s: %(n)d account(s) closed earlier are still missing")
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
        else:
            total = sum(sum(c.values()) for c in result.counts.values())
            changed = sum(c["created"] + c["updated"] for c in result.counts.values())
            out(
                _("%(source)s: %(changed)d of %(total)d records created or updated")
                % {"source": result.name, "changed": changed, "total": total}
            )
        for refusal in result.refused:
            err(f"source {result.source}, {refusal}")
