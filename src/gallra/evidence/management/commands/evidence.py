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

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, transaction
from django.utils import timezone

from gallra.evidence.actions import ACTIONS
from gallra.evidence.log import CHUNK, VerifyResult, append, entry_as_dict, verify
from gallra.evidence.models import Entry

COLUMNS = (
    *("seq", "at", "actor", "action", "rule", "record_type", "count", "refs", "customers"),
    *("data", "prev_hash", "hash"),
)


class Command(BaseCommand):
    help = "Check the evidence log's hash chain, or export it for an auditor."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        check = sub.add_parser("verify", help="Recompute every hash (exit 0 intact, 1 broken).")
        check.add_argument("--format", choices=["text", "json"], default="text")
        export = sub.add_parser("export", help="Write the entries with their hashes.")
        export.add_argument("--from", dest="start", metavar="DATE", help="first day, inclusive")
        export.add_argument("--to", dest="end", metavar="DATE", help="last day, inclusive")
        export.add_argument("--format", choices=["csv", "json"], default="json")
        export.add_argument("--out", metavar="FILE", help="default: standard output")
        for name, added in ACTIONS.items():
            added.add_arguments(sub.add_parser(name, help=added.help))

    def handle(self, *args, action, **options):
        if action == "verify":
            self._verify(options["format"])
        elif action in ACTIONS:
            ACTIONS[action].handle(self, options)
        else:
            self._export(options)

    def _verify(self, format):
        result = verify()
        self._record(result)
        if format == "json":
            self.stdout.write(json.dumps(result.as_dict()))
        elif result.ok:
            self.stdout.write(f"evidence: {result.count} entries, chain intact, head {result.head}")
        if format == "text" and result.pruned:
            # English, as the rest of this command's output.
            p = result.pruned
            self.stdout.write(
                f"entries up to {p['through_seq']} (made before {p['before']}) were pruned under "
                f"rule {p['rule']} on {p['on']}; the kept entries are checked from its hash on"
            )
        if not result.ok:
            where = f"entry {result.bad_seq}" if result.bad_seq else "evidence"
            raise CommandError(f"{where}: {result.problem}", returncode=1)

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
            self.stderr.write(f"the result could not be added to the evidence log: {exc}")

    def _export(self, options):
        start, end = _day(options["start"], "--from"), _day(options["end"], "--to")
        if start and end and start > end:
            raise CommandError("--from is after --to", returncode=2)
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
                raise CommandError(f"{options['out']}: {exc.strerror}", returncode=2) from exc
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


def _day(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(
            f"{option}: {value!r} is not a date (YYYY-MM-DD)", returncode=2
        ) from None


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
