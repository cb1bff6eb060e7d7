"""`gallra backup init|run|verify|snapshots|restore`: encrypted backups within the window.

See docs/backups.md.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from django.core.management.base import CommandError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from gallra.backups.restic import BackupError, restic
from gallra.backups.restore import restore
from gallra.backups.runs import cutoff, run_backup, snapshots, unexpected, verify
from gallra.policy.command import FOUND, USAGE, GallraCommand
from gallra.policy.loading import policy_for_command

log = logging.getLogger(__name__)


def _time(text: str) -> datetime:
    try:
        at = datetime.fromisoformat(text)
    except ValueError:  # argparse turns it into a usage error, exit 2
        raise argparse.ArgumentTypeError(
            _("%(text)r is not a time (YYYY-MM-DDTHH:MM)") % {"text": text}
        ) from None
    return at if at.tzinfo else at.replace(tzinfo=timezone.get_default_timezone())


class Command(GallraCommand):
    help = gettext_lazy(
        "Back up to an encrypted restic repository and keep no snapshot past the window."
    )
    # A scratch instance has no repository (GALLRA_BACKUP_REPOSITORY): these then exit 1
    # saying so, as they do on an installation whose repository is not set up.
    examples = (
        "gallra backup init",
        "gallra backup run",
        "gallra backup verify --format json",
        "gallra backup snapshots",
        "gallra backup snapshots --format json",
        "gallra backup restore latest --yes",
    )

    def add_arguments(self, parser):
        self.action(
            parser,
            "init",
            self.init_repository,
            help=gettext_lazy("make the repository (restic init)"),
        )
        p = self.action(
            parser,
            "run",
            self.run_backup_now,
            help=gettext_lazy("dump the database, back up, apply the window"),
        )
        p.add_argument(
            "--now", type=_time, help=gettext_lazy("act as if it were this time (tests, drills)")
        )
        p.add_argument(
            "--snapshot-time",
            type=_time,
            help=gettext_lazy("the snapshot's time (restic --time), for tests"),
        )
        self.add_format(p)
        p = self.action(
            parser,
            "verify",
            self.verify_backups,
            help=gettext_lazy("window, restic check and a restore drill"),
        )
        p.add_argument("--now", type=_time, help=gettext_lazy("act as if it were this time"))
        self.add_format(p)
        p = self.action(
            parser,
            "snapshots",
            self.list_snapshots,
            help=gettext_lazy("list the snapshots and their age"),
        )
        self.add_format(p)
        p = self.action(
            parser,
            "restore",
            self.restore_snapshot,
            help=gettext_lazy(
                "replace the database with a snapshot's, then replay "
                "every deletion and erasure made since"
            ),
        )
        p.add_argument("snapshot", help=gettext_lazy("a snapshot id (or its start), or `latest`"))
        p.add_argument("--yes", action="store_true", help=gettext_lazy("yes, replace the database"))

    @contextmanager
    def _failing(self, action: str) -> Iterator[None]:
        """A failure is one line and exit 1, not a traceback (GALLRA_LOG_LEVEL=DEBUG shows it)."""
        try:
            yield
        except BackupError as exc:
            self.fail(str(exc), FOUND)
        except CommandError:
            raise
        except Exception as exc:
            log.debug("gallra backup %s failed", action, exc_info=True)
            self.fail(unexpected(exc), FOUND)

    def init_repository(self, options: dict) -> None:
        policy_for_command()  # a policy that does not load stops every action
        with self._failing("init"):
            restic("init")
        self.stdout.write(_("repository made; keep its password file safe, apart from it"))

    def run_backup_now(self, options: dict) -> None:
        policy = policy_for_command()
        bar = self.progress(options, _("backup steps"))
        with self._failing("run"):
            try:
                record = run_backup(policy, options["now"], options["snapshot_time"], progress=bar)
            finally:
                if bar:
                    bar.close()
        if options["format"] == "json":
            self.write_json({"snapshot": record.snapshot, "forgotten": record.forgotten})
            return
        made = _("snapshot %(id)s made") % {"id": record.snapshot[:8]}
        if record.forgotten:
            n = len(record.forgotten)
            made += ", " + ngettext(
                "%(n)s past the window forgotten", "%(n)s past the window forgotten", n
            ) % {"n": n}
        self.stdout.write(made)

    def verify_backups(self, options: dict) -> None:
        policy = policy_for_command()
        with self._failing("verify"):
            record = verify(policy, options["now"])
        rows = sum(record.summary.get("tables", {}).values())
        if options["format"] == "json":
            self.write_json({"ok": True, "snapshot": record.snapshot, "rows": rows})
            return
        self.stdout.write(
            ngettext(
                "verified: snapshot %(id)s restores the database (%(n)s row)",
                "verified: snapshot %(id)s restores the database (%(n)s rows)",
                rows,
            )
            % {"id": record.snapshot[:8], "n": rows}
        )

    def list_snapshots(self, options: dict) -> None:
        policy = policy_for_command()
        limit = cutoff(policy, timezone.now())
        with self._failing("snapshots"):
            found = snapshots()
        if options["format"] == "json":
            self.write_json(
                [
                    {
                        "id": snap["id"],
                        "short_id": snap["short_id"],
                        "at": snap["at"].isoformat(),
                        "past_window": snap["at"] < limit,
                    }
                    for snap in found
                ]
            )
            return
        for snap in found:
            late = "  " + _("PAST THE WINDOW") if snap["at"] < limit else ""
            self.stdout.write(f"{snap['short_id']}  {snap['at']:%Y-%m-%d %H:%M} UTC{late}")

    def restore_snapshot(self, options: dict) -> None:
        policy_for_command()
        if not options["yes"]:
            self.fail(
                _(
                    "this replaces the database: stop gallra, then run it again with --yes "
                    "(docs/backups.md)"
                ),
                USAGE,
            )
        with self._failing("restore"):
            done = restore(options["snapshot"], now=timezone.now())
        again = sum(done.replayed.values())
        self.stdout.write(
            ngettext(
                "restored snapshot %(id)s of %(taken)s UTC; %(n)s deletion or erasure made "
                "since was carried out again",
                "restored snapshot %(id)s of %(taken)s UTC; %(n)s deletions and erasures made "
                "since were carried out again",
                again,
            )
            % {"id": done.snapshot[:8], "taken": f"{done.taken:%Y-%m-%d %H:%M}", "n": again}
        )
        for place, part in sorted(done.places.items()):
            n = part.get("reapplied", 0)
            self.stdout.write(
                ngettext(
                    "%(place)s: %(n)s row or message removed again",
                    "%(place)s: %(n)s rows or messages removed again",
                    n,
                )
                % {"place": place, "n": n}
            )
        if done.problems:  # the database is back; a place to replay again later
            self.fail(
                "\n".join(done.problems)
                + "\n"
                + _("run `gallra replay --store ID --since DATE` once it is reachable"),
                FOUND,
            )
