"""`gallra logins ...`: login monitoring (P6, P7). See docs/logins.md."""

from __future__ import annotations

import getpass
import json
import signal
import sys
import threading
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from gallra.instance.arguments import local_time
from gallra.logins import detection, tokens
from gallra.logins.ingest import Report, follow, ingest_files
from gallra.logins.models import Escrow
from gallra.logins.reveal import Request, RevealRefused, reveal
from gallra.logins.sealing import NoEscrow
from gallra.outbox.delivery import deliver
from gallra.policy.loading import policy_for_command


class Command(BaseCommand):
    help = "Read login events, reveal sealed addresses for an authority, manage the escrow key."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        p = sub.add_parser("ingest", help="read sshd events from auth.log or journal JSON files")
        p.add_argument("files", nargs="+")
        p.add_argument(
            "--timezone",
            default=settings.TIME_ZONE,
            help="the servers' zone, for timestamps without an offset",
        )
        p.add_argument("--format", choices=["text", "json"], default="text")
        p = sub.add_parser("follow", help="keep reading a growing log, across rotation")
        p.add_argument("file")
        p.add_argument("--timezone", default=settings.TIME_ZONE)
        p.add_argument("--poll", type=float, default=1.0, help="seconds between looks")
        p = sub.add_parser("reveal", help="an authority's request: shares on standard input")
        p.add_argument("--from", dest="start", required=True, type=local_time)
        p.add_argument("--to", dest="end", required=True, type=local_time)
        who = p.add_mutually_exclusive_group()
        who.add_argument("--ip-prefix", default="", help="e.g. 203.0.113.0/24 or one address")
        who.add_argument("--account", default="", help="the user name the authority names")
        p.add_argument("--case", required=True, help="the authority's case number")
        p.add_argument("--requested-by", required=True, help="the authority and officer")
        p.add_argument("--reason", default="")
        p.add_argument(
            "--actor",
            required=True,
            help="the gallra staff user who carries it out; needs the accountable role (P22)",
        )
        p.add_argument("--out", default=".", help="folder for the report (CSV and summary)")
        p = sub.add_parser("escrow", help="make the escrow key and print its shares (once)")
        p.add_argument("escrow_action", choices=["init", "show"])
        p.add_argument("--shares", type=int, help="default: the policy's escrow_shares")
        p.add_argument("--threshold", type=int, help="default: the policy's escrow_threshold")
        p.add_argument("--out", help="write each share to its own file here instead of printing")
        p.add_argument("--rotate", action="store_true", help="replace the current escrow key")
        p = sub.add_parser("token", help="tokens for web applications that post login events")
        p.add_argument("token_action", choices=["create", "revoke", "list"])
        p.add_argument("name", nargs="?")

    def handle(self, *args, **options):
        policy = policy_for_command()
        getattr(self, "_" + options["action"])(policy, options)

    def _zone(self, options):
        try:
            return ZoneInfo(options["timezone"])
        except (ZoneInfoNotFoundError, ValueError):
            raise CommandError(
                f"--timezone {options['timezone']!r} is not a time zone", returncode=2
            ) from None

    def _ingest(self, policy, options):
        paths = [Path(f) for f in options["files"]]
        for path in paths:
            if not path.is_file():
                raise CommandError(f"{path}: no such file", returncode=2)
        try:
            report = ingest_files(paths, policy, self._zone(options))
        except NoEscrow as exc:
            raise CommandError(str(exc), returncode=2) from exc
        except OSError as exc:
            raise CommandError(f"{exc.filename}: {exc.strerror}", returncode=1) from exc
        self._after(policy, report)
        if options["format"] == "json":
            self.stdout.write(json.dumps(report.as_dict(), indent=2))
        else:
            self.stdout.write(_report_text(report))

    def _after(self, policy, report: Report) -> None:
        """Look for attacks in what was just stored, and tell the responsible person."""
        if report.first_at is None:
            return
        report.alerts = len(detection.detect(policy, report.first_at, report.last_at))
        if detection.notify(policy):
            # Not a web request: deliver now; a relay that is down leaves the mail queued.
            outcome = deliver()
            if outcome.failed:
                self.stderr.write(
                    f"alert mail not sent ({'; '.join(outcome.errors)}); "
                    "it stays in the outbox and is tried again"
                )

    def _follow(self, policy, options):
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        self.stderr.write(f"following {options['file']} (Ctrl-C or SIGTERM stops)")
        try:
            follow(
                Path(options["file"]),
                policy,
                stop,
                options["poll"],
                self._zone(options),
                on_batch=lambda report: self._after(policy, report),
            )
        except KeyboardInterrupt:
            pass
        except NoEscrow as exc:
            raise CommandError(str(exc), returncode=2) from exc

    def _reveal(self, policy, options):
        from django.contrib.auth import get_user_model

        from gallra.staff.roles import REVEAL_ADDRESS

        actor = get_user_model().objects.filter(username=options["actor"], is_active=True).first()
        if actor is None or not actor.has_perm(REVEAL_ADDRESS):
            raise CommandError(
                f"nothing revealed: {options['actor']!r} is not a staff user who may reveal "
                "addresses (only the accountable role may; see `gallra staff list`)",
                returncode=1,
            )
        if sys.stdin.isatty():
            need = policy.logins.escrow_threshold
            shares = [getpass.getpass(f"Share {n} of {need}: ") for n in range(1, need + 1)]
        else:
            shares = [line for line in sys.stdin.read().splitlines() if line.strip()]
        ask = Request(
            case=options["case"],
            requested_by=options["requested_by"],
            actor=options["actor"],
            start=options["start"],
            end=options["end"],
            reason=options["reason"],
            ip_prefix=options["ip_prefix"],
            account=options["account"],
        )
        try:
            result = reveal(ask, shares, Path(options["out"]))
        except RevealRefused as exc:
            raise CommandError(f"nothing revealed: {exc}", returncode=1) from exc
        self.stdout.write(
            f"{len(result.rows)} events revealed; report: {result.report_text} and "
            f"{result.report_csv}"
        )
        if result.closed:
            self.stdout.write(
                f"{sum(result.closed.values())} matching events could not be "
                "revealed (keys destroyed); see the summary"
            )

    def _escrow(self, policy, options):
        current = Escrow.current()
        if options["escrow_action"] == "show":
            if current is None:
                raise CommandError("no escrow key yet: `gallra logins escrow init`", returncode=1)
            self.stdout.write(
                f"escrow key {current.set_id}: {current.threshold} of {current.shares} shares "
                f"open it; made {current.created:%Y-%m-%d}"
            )
            return
        if current is not None and not options["rotate"]:
            raise CommandError(
                f"an escrow key exists ({current.set_id}); --rotate replaces it (addresses "
                "sealed before stay under the old key and its shares)",
                returncode=1,
            )
        shares = options["shares"] or policy.logins.escrow_shares
        threshold = options["threshold"] or policy.logins.escrow_threshold
        if not 2 <= threshold <= shares <= 10:
            raise CommandError("need 2 <= threshold <= shares <= 10", returncode=2)
        texts = Escrow.make(shares, threshold, timezone.now())
        set_id = Escrow.current().set_id
        if options["out"]:
            out = Path(options["out"])
            out.mkdir(parents=True, exist_ok=True)
            for n, text in enumerate(texts, 1):
                path = out / f"share-{n}.txt"
                path.touch(mode=0o600)
                path.write_text(text + "\n")
            self.stdout.write(f"escrow key {set_id}: {len(texts)} shares written to {out}")
            return
        self.stdout.write(
            f"Escrow key {set_id}. Any {threshold} of these {shares} shares reveal sealed "
            "addresses; fewer reveal nothing. Give each to a different person (e.g. the CEO and "
            "two board members), to keep offline. gallra keeps no copy: they are shown once.\n"
        )
        for n, text in enumerate(texts, 1):
            self.stdout.write(f"Share {n}: {text}")

    def _token(self, policy, options):
        action, name = options["token_action"], options["name"]
        if action == "list":
            for token in tokens.listed():
                self.stdout.write(token)
            return
        if not name:
            raise CommandError(f"`gallra logins token {action} NAME`", returncode=2)
        try:
            if action == "create":
                self.stdout.write(tokens.create(name))
            else:
                tokens.revoke(name)
                self.stdout.write(f"token {name} revoked")
        except tokens.TokenError as exc:
            raise CommandError(str(exc), returncode=1) from exc


def _report_text(report: Report) -> str:
    lines = [
        f"{report.files} files, {report.lines} new lines read, {report.events} login events "
        f"stored, {report.alerts} new alerts."
    ]
    if report.already_read:
        lines.append(f"{report.already_read} bytes had been read before and were skipped.")
    for category, n in sorted(report.skipped.items()):
        lines.append(f"  skipped: {n} {category}")
    return "\n".join(lines)
