"""`gallra evidence verify`, `gallra evidence export [--from] [--to]`, and the actions other
apps add (evidence/actions.py): retention's `certificate REF`. Once the log's rule has pruned
its start, `verify` checks from the anchor on and says so (docs/evidence.md).

`verify` appends its result (`evidence_verified`: ok, the first bad sequence number) so that
the front page can show when the chain was last checked and whether it held.
"""

import csv
import json
import os
import sys
from datetime import date, datetime, time, timedelta

from django.db import DatabaseError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from gallra.evidence.actions import ACTIONS
from gallra.evidence.log import CHUNK, VerifyResult, append, entry_as_dict, verify
from gallra.evidence.models import Entry
from gallra.policy.command import FOUND, USAGE, GallraCommand, language_from_environment

COLUMNS = (
    *("seq", "at", "actor", "action", "rule", "record_type", "count", "refs", "customers"),
    *("data", "prev_hash", "hash"),
)


class Command(GallraCommand):
    help = gettext_lazy("Check the evidence log's hash chain, or export it for an auditor.")
    examples = (
        "gallra evidence verify",
        "gallra evidence verify --format json",
        "gallra evidence export --format csv",
        "gallra evidence export --from 2020-01-01 --to 2020-12-31",
        "gallra evidence certificate demo-C022 --lang en",
        "gallra evidence certificate demo-C022 --format json",
    )

    def add_arguments(self, parser):
        check = self.action(
            parser,
            "verify",
            self.verify,
            help=gettext_lazy("Recompute every hash (exit 0 intact, 1 broken)."),
        )
        self.add_format(check)
        export = self.action(
            parser,
            "export",
            self.export,
            help=gettext_lazy("Write the entries with their hashes."),
        )
        export.add_argument(
            "--from", dest="start", metavar="DATE", help=gettext_lazy("first day, inclusive")
        )
        export.add_argument(
            "--to", dest="end", metavar="DATE", help=gettext_lazy("last day, inclusive")
        )
        self.add_format(export, choices=("json", "csv"))
        export.add_argument("--out", metavar="FILE", help=gettext_lazy("default: standard output"))
        for name, added in ACTIONS.items():
            added.add_arguments(
                self.action(parser, name, self._added(added.handle), help=added.help)
            )

    def _added(self, handle):
        """An action another app adds (evidence/actions.py), run with this command. Its
        `--lang` (the certificate's) chooses the language of what it makes, not of the
        command's messages: those follow the terminal's, as every command's do."""

        def run(options: dict) -> None:
            with translation.override(language_from_environment()):
                handle(self, options)

        return run

    def verify(self, options: dict) -> None:
        result = verify()
        self._record(result)
        text = options["format"] == "text"
        if not text:
            self.write_json(result.as_dict())
        elif result.ok:
            self.stdout.write(
                ngettext(
                    "evidence: %(n)s entry, chain intact, head %(head)s",
                    "evidence: %(n)s entries, chain intact, head %(head)s",
                    result.count,
                )
                % {"n": result.count, "head": result.head}
            )
        if text and result.pruned:
            p = result.pruned
            self.stdout.write(
                _(
                    "entries up to %(seq)s (made before %(before)s) were pruned under rule "
                    "%(rule)s on %(on)s; the kept entries are checked from its hash on"
                )
                % {"seq": p["through_seq"], "before": p["before"], "rule": p["rule"], "on": p["on"]}
            )
        if not result.ok:
            where = _("entry %(seq)s") % {"seq": result.bad_seq} if result.bad_seq else "evidence"
            self.fail(f"{where}: {result.problem}", FOUND)

    def _record(self, result: VerifyResult) -> None:
        """Leave the outcome in the log itself, for the front page: ok or not, and where the
        chain first breaks. A log broken at its head may refuse the entry; that is said."""
        try:
            with transaction.atomic():
                append(
                    "evidence_verified",
                    actor="evidence verify",
                    at=timezone.now(),
                    count=result.count,
                    data={"ok": result.ok, "bad_seq": result.bad_seq, "problem": result.problem},
                )
        except (RuntimeError, DatabaseError) as exc:
            self.stderr.write(
                _("the result could not be added to the evidence log: %(why)s") % {"why": exc}
            )

    def export(self, options: dict) -> None:
        start, end = self._day(options["start"], "--from"), self._day(options["end"], "--to")
        if start and end and start > end:
            self.fail(_("--from is after --to"), USAGE)
        entries = Entry.objects.order_by("seq")
        # Days are the provider's (Europe/Stockholm): an entry at 23:30 UTC on 1 March
        # belongs to 2 March.
        zone = timezone.get_default_timezone()
        if start:
            entries = entries.filter(at__gte=datetime.combine(start, time.min, zone))
        if end:
            entries = entries.filter(
                at__lt=datetime.combine(end + timedelta(days=1), time.min, zone)
            )
        found = entries.iterator(chunk_size=CHUNK)
        rows = (entry_as_dict(e) for e in found)

        if options["out"]:
            try:
                out = open(options["out"], "w", encoding="utf-8", newline="")  # noqa: SIM115
            except OSError as exc:
                self.fail(f"{options['out']}: {exc.strerror}", USAGE)
        else:
            out = _Stdout(self.stdout)
        try:
            if options["format"] == "csv":
                _write_csv(rows, out)
            else:
                _write_json(rows, out)
        except BrokenPipeError:
            # The reader went away (`| head`): stop quietly, as other Unix tools do.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise SystemExit(1) from None
        finally:
            found.close()  # the database cursor, now rather than whenever it is collected
            if options["out"]:
                out.close()

    def _day(self, value: str | None, option: str) -> date | None:
        if value is None:
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            self.fail(
                _("%(option)s: %(value)r is not a date (YYYY-MM-DD)")
                % {"option": option, "value": value},
                USAGE,
            )


def _write_json(rows, out) -> None:
    """A JSON array written one entry at a time, so memory stays flat however long the log."""
    out.write("[")
    for n, row in enumerate(rows):
        out.write(("\n" if n == 0 else ",\n") + json.dumps(row, ensure_ascii=False))
    out.write("\n]\n")


def _write_csv(rows, out) -> None:
    """refs and data as JSON text in their cells; every other column as the hash covers it."""
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for row in rows:
        row["refs"] = json.dumps(row["refs"], ensure_ascii=False)
        row["data"] = json.dumps(row["data"], ensure_ascii=False, sort_keys=True)
        writer.writerow([row[c] for c in COLUMNS])


class _Stdout:
    """The command's stdout (call_command's in tests), written without added line endings."""

    def __init__(self, wrapper) -> None:
        self.wrapper = wrapper

    def write(self, text: str) -> None:
        self.wrapper.write(text, ending="")
