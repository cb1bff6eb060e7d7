"""`gallra backup init|run|verify|snapshots|restore`: encrypted backups within the window.

See docs/backups.md.
"""

from __future__ import annotations

import argparse
import logging
from datetime import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from gallra.backups.restic import BackupError, restic
from gallra.backups.restore import restore
from gallra.backups.runs import cutoff, run_backup, snapshots, unexpected, verify
from gallra.policy.loading import policy_for_command

log = logging.getLogger(__name__)


def _time(text: str) -> datetime:
    try:
        at = datetime.fromisoformat(text)
    except ValueError:  # argparse turns it into a usage error, exit 2
        raise argparse.ArgumentTypeError(f"{text!r} is not a time (YYYY-MM-DDTHH:MM)") from None
    return at if at.tzinfo else at.replace(tzinfo=timezone.get_default_timezone())


class Command(BaseCommand):
    help = "Back up to an encrypted restic repository and keep no snapshot past the window."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("init", help="make the repository (restic init)")
        p = sub.add_parser("run", help="dump the database, back up, apply the window")
        p.add_argument("--now", type=_time, help="act as if it were this time (tests, drills)")
        p.add_argument(
            "--snapshot-time", type=_time, help="the snapshot's time (restic --time), for tests"
        )
        p = sub.add_parser("verify", help="window, restic check and a restore drill")
        p.add_argument("--now", type=_time)
        sub.add_parser("snapshots", help="list the snapshots and their age")
        p = sub.add_parser(
            "restore",
            help="replace the database with a snapshot's, then replay "
            "every deletion and erasure made since",
        )
        p.add_argument("snapshot", help="a snapshot id (or its start), or `latest`")
        p.add_argument("--yes", action="store_true", help="yes, replace the database")

    def handle(self, *args, **options):
        policy = policy_for_command()
        action = options["action"]
        try:
            if action == "init":
                restic("init")
                self.stdout.write("repository made; keep its password file safe, apart from it")
            elif action == "run":
                record = run_backup(policy, options["now"], options["snapshot_time"])
                gone = (
                    f", {len(record.forgotten)} past the window forgotten"
                    if record.forgotten
                    else ""
                )
                self.stdout.write(f"snapshot {record.snapshot[:8]} made{gone}")
            elif action == "verify":
                record = verify(policy, options["now"])
                rows = sum(record.summary.get("tables", {}).values())
                self.stdout.write(
                    f"verified: snapshot {record.snapshot[:8]} restores the database ({rows} rows)"
                )
            elif action == "restore":
                if not options["yes"]:
                    raise CommandError(
                        "this replaces the database: stop gallra, then run it again with --yes "
                        "(docs/backups.md)",
                        returncode=2,
                    )
                done = restore(options["snapshot"], now=timezone.now())
                again = sum(done.replayed.values())
                self.stdout.write(
                    f"restored snapshot {done.snapshot[:8]} of {done.taken:%Y-%m-%d %H:%M} UTC; "
                    f"{again} deletions and erasures made since were carried out again"
                )
                for place, part in sorted(done.places.items()):
                    self.stdout.write(
                        f"{place}: {part.get('reapplied', 0)} rows or messages removed again"
                    )
                if done.problems:  # the database is back; a place to replay again later
                    raise CommandError(
                        "\n".join(done.problems)
                        + "\nrun `gallra replay --store ID --since DATE` once it is reachable",
                        returncode=1,
                    )
            else:
                now = timezone.now()
                limit = cutoff(policy, now)
                for snap in snapshots():
                    late = "  PAST THE WINDOW" if snap["at"] < limit else ""
                    self.stdout.write(f"{snap['short_id']}  {snap['at']:%Y-%m-%d %H:%M} UTC{late}")
        except BackupError as exc:
            raise CommandError(str(exc), returncode=1) from exc
        except CommandError:
            raise
        except Exception as exc:  # one line, not a traceback (GALLRA_LOG_LEVEL=DEBUG shows it)
            log.debug("gallra backup %s failed", action, exc_info=True)
            raise CommandError(unexpected(exc), returncode=1) from exc
