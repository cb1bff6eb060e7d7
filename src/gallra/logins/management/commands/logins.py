"""`gallra logins ...`: login monitoring (P6, P7). See docs/logins.md."""

from __future__ import annotations

import argparse
import getpass
import signal
import sys
import threading
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from gallra.instance.arguments import local_time
from gallra.logins import detection, tokens
from gallra.logins.ingest import Report, cpu_count, follow, ingest_files
from gallra.logins.models import Escrow, IngestToken
from gallra.logins.reveal import Request, RevealRefused, reveal
from gallra.logins.sealing import NoEscrow
from gallra.outbox.delivery import deliver
from gallra.policy.command import FOUND, USAGE, GallraCommand
from gallra.policy.loading import policy_for_command


def _processes(text: str) -> int:
    if not text.isdigit() or int(text) < 1:  # argparse turns it into a usage error, exit 2
        raise argparse.ArgumentTypeError(
            _("%(text)r is not a number of processes (1 or more)") % {"text": text}
        )
    return int(text)


class Command(GallraCommand):
    help = gettext_lazy(
        "Read login events, reveal sealed addresses for an authority, manage the escrow key."
    )
    # `follow` runs until stopped; `reveal` reads the escrow shares on standard input (a
    # scratch instance's are in $GALLRA_DATA/demo-escrow-shares.txt), and without them
    # reveals nothing and exits 1.
    examples = (
        "gallra logins ingest examples/auth.log",
        "gallra logins ingest examples/auth.log --format json",
        "gallra logins follow /var/log/auth.log",
        "gallra logins reveal --from 2026-12-01T00:00 --to 2026-12-02T00:00 "
        "--ip-prefix 203.0.113.0/24 --case AM-4711-26 --requested-by Polismyndigheten "
        "--actor admin --out /tmp",
        "gallra logins escrow show",
        "gallra logins escrow show --format json",
        "gallra logins escrow init --out /tmp/gallra-escrow-shares",
        "gallra logins token create webshop",
        "gallra logins token list",
        "gallra logins token revoke webshop",
    )

    def add_arguments(self, parser):
        p = self.action(
            parser,
            "ingest",
            self.ingest,
            help=gettext_lazy("read sshd events from auth.log or journal JSON files"),
        )
        p.add_argument("files", nargs="+", help=gettext_lazy("log files (.gz too)"))
        p.add_argument(
            "--timezone",
            default=settings.TIME_ZONE,
            help=gettext_lazy("the servers' zone, for timestamps without an offset"),
        )
        p.add_argument(
            "--processes",
            type=_processes,
            default=cpu_count(),
            help=gettext_lazy("processes that parse the lines (default: one per CPU, %(default)s)"),
        )
        self.add_format(p)
        p = self.action(
            parser,
            "follow",
            self.follow,
            help=gettext_lazy("keep reading a growing log, across rotation"),
        )
        p.add_argument("file", help=gettext_lazy("the log file"))
        p.add_argument(
            "--timezone",
            default=settings.TIME_ZONE,
            help=gettext_lazy("the servers' zone, for timestamps without an offset"),
        )
        p.add_argument(
            "--poll", type=float, default=1.0, help=gettext_lazy("seconds between looks")
        )
        p = self.action(
            parser,
            "reveal",
            self.reveal,
            help=gettext_lazy("an authority's request: shares on standard input"),
        )
        p.add_argument(
            "--from",
            dest="start",
            required=True,
            type=local_time,
            help=gettext_lazy("the window's start (Stockholm time unless an offset is given)"),
        )
        p.add_argument(
            "--to",
            dest="end",
            required=True,
            type=local_time,
            help=gettext_lazy("the window's end"),
        )
        who = p.add_mutually_exclusive_group()
        who.add_argument(
            "--ip-prefix", default="", help=gettext_lazy("e.g. 203.0.113.0/24 or one address")
        )
        who.add_argument(
            "--account", default="", help=gettext_lazy("the user name the authority names")
        )
        p.add_argument("--case", required=True, help=gettext_lazy("the authority's case number"))
        p.add_argument(
            "--requested-by", required=True, help=gettext_lazy("the authority and officer")
        )
        p.add_argument("--reason", default="", help=gettext_lazy("why, for the report"))
        p.add_argument(
            "--actor",
            required=True,
            help=gettext_lazy(
                "the gallra staff user who carries it out; needs the accountable role (P22)"
            ),
        )
        p.add_argument(
            "--out", default=".", help=gettext_lazy("folder for the report (CSV and summary)")
        )
        p = self.action(
            parser,
            "escrow",
            self.escrow,
            help=gettext_lazy("make the escrow key and print its shares (once), or show it"),
        )
        p.add_argument("escrow_action", choices=["init", "show"])
        p.add_argument(
            "--shares", type=int, help=gettext_lazy("default: the policy's escrow_shares")
        )
        p.add_argument(
            "--threshold", type=int, help=gettext_lazy("default: the policy's escrow_threshold")
        )
        p.add_argument(
            "--out",
            help=gettext_lazy("write each share to its own file here instead of printing"),
        )
        p.add_argument(
            "--rotate", action="store_true", help=gettext_lazy("replace the current escrow key")
        )
        self.add_format(p)
        p = self.action(
            parser,
            "token",
            self.token,
            help=gettext_lazy("tokens for web applications that post login events"),
        )
        p.add_argument("token_action", choices=["create", "revoke", "list"])
        p.add_argument("name", nargs="?", help=gettext_lazy("the token's name"))
        self.add_format(p)

    def _zone(self, options):
        try:
            return ZoneInfo(options["timezone"])
        except (ZoneInfoNotFoundError, ValueError):
            self.fail(
                _("--timezone %(zone)r is not a time zone") % {"zone": options["timezone"]},
                USAGE,
            )

    def ingest(self, options: dict) -> None:
        policy = policy_for_command()
        paths = [Path(f) for f in options["files"]]
        for path in paths:
            if not path.is_file():
                self.fail(_("%(path)s: no such file") % {"path": path}, USAGE)
        zone = self._zone(options)
        bar = self.progress(options, _("bytes read"))
        try:
            report = ingest_files(paths, policy, zone, progress=bar, processes=options["processes"])
        except NoEscrow as exc:
            self.fail(str(exc), USAGE)
        except OSError as exc:
            self.fail(f"{exc.filename}: {exc.strerror}", FOUND)
        finally:
            if bar:
                bar.close()
        self._after(policy, report)
        if options["format"] == "json":
            self.write_json(report.as_dict())
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
                    _("alert mail not sent (%(why)s); it stays in the outbox and is tried again")
                    % {"why": "; ".join(outcome.errors)}
                )

    def follow(self, options: dict) -> None:
        policy = policy_for_command()
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_args: stop.set())
        self.stderr.write(
            _("following %(file)s (Ctrl-C or SIGTERM stops)") % {"file": options["file"]}
        )
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
            self.fail(str(exc), USAGE)

    def reveal(self, options: dict) -> None:
        from django.contrib.auth import get_user_model

        from gallra.staff.roles import REVEAL_ADDRESS

        policy = policy_for_command()
        actor = get_user_model().objects.filter(username=options["actor"], is_active=True).first()
        if actor is None or not actor.has_perm(REVEAL_ADDRESS):
            self.fail(
                _(
                    "nothing revealed: '%(actor)s' is not a staff user who may reveal "
                    "addresses (only the accountable role may; see `gallra staff list`)"
                )
                % {"actor": options["actor"]},
                FOUND,
            )
        if sys.stdin.isatty():
            need = policy.logins.escrow_threshold
            shares = [
                getpass.getpass(_("Share %(n)s of %(need)s: ") % {"n": n, "need": need})
                for n in range(1, need + 1)
            ]
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
            self.fail(_("nothing revealed: %(why)s") % {"why": exc}, FOUND)
        self.stdout.write(
            ngettext(
                "%(n)s event revealed; report: %(text)s and %(csv)s",
                "%(n)s events revealed; report: %(text)s and %(csv)s",
                len(result.rows),
            )
            % {"n": len(result.rows), "text": result.report_text, "csv": result.report_csv}
        )
        if result.closed:
            closed = sum(result.closed.values())
            self.stdout.write(
                ngettext(
                    "%(n)s matching event could not be revealed (keys destroyed); see the summary",
                    "%(n)s matching events could not be revealed (keys destroyed); see the summary",
                    closed,
                )
                % {"n": closed}
            )

    def escrow(self, options: dict) -> None:
        policy = policy_for_command()
        current = Escrow.current()
        if options["escrow_action"] == "show":
            if current is None:
                self.fail(_("no escrow key yet: `gallra logins escrow init`"), FOUND)
            if options["format"] == "json":
                self.write_json(
                    {
                        "set_id": current.set_id,
                        "threshold": current.threshold,
                        "shares": current.shares,
                        "created": current.created.isoformat(),
                    }
                )
                return
            self.stdout.write(
                _("escrow key %(id)s: %(threshold)s of %(shares)s shares open it; made %(day)s")
                % {
                    "id": current.set_id,
                    "threshold": current.threshold,
                    "shares": current.shares,
                    "day": f"{current.created:%Y-%m-%d}",
                }
            )
            return
        if current is not None and not options["rotate"]:
            self.fail(
                _(
                    "an escrow key exists (%(id)s); --rotate replaces it (addresses sealed "
                    "before stay under the old key and its shares)"
                )
                % {"id": current.set_id},
                FOUND,
            )
        shares = options["shares"] or policy.logins.escrow_shares
        threshold = options["threshold"] or policy.logins.escrow_threshold
        if not 2 <= threshold <= shares <= 10:
            self.fail(_("need 2 <= threshold <= shares <= 10"), USAGE)
        texts = Escrow.make(shares, threshold, timezone.now())
        set_id = Escrow.current().set_id
        if options["out"]:
            out = Path(options["out"])
            out.mkdir(parents=True, exist_ok=True)
            for n, text in enumerate(texts, 1):
                path = out / f"share-{n}.txt"
                path.touch(mode=0o600)
                path.write_text(text + "\n")
            if options["format"] == "json":
                self.write_json({"set_id": set_id, "threshold": threshold, "out": str(out)})
                return
            self.stdout.write(
                ngettext(
                    "escrow key %(id)s: %(n)s share written to %(out)s",
                    "escrow key %(id)s: %(n)s shares written to %(out)s",
                    len(texts),
                )
                % {"id": set_id, "n": len(texts), "out": out}
            )
            return
        if options["format"] == "json":
            self.write_json({"set_id": set_id, "threshold": threshold, "shares": texts})
            return
        self.stdout.write(
            _(
                "Escrow key %(id)s. Any %(threshold)s of these %(shares)s shares reveal sealed "
                "addresses; fewer reveal nothing. Give each to a different person (e.g. the CEO "
                "and two board members), to keep offline. gallra keeps no copy: they are shown "
                "once."
            )
            % {"id": set_id, "threshold": threshold, "shares": shares}
            + "\n"
        )
        for n, text in enumerate(texts, 1):
            self.stdout.write(_("Share %(n)s: %(text)s") % {"n": n, "text": text})

    def token(self, options: dict) -> None:
        policy_for_command()
        action, name = options["token_action"], options["name"]
        if action == "list":
            if options["format"] == "json":
                self.write_json(
                    [
                        {
                            "name": t.name,
                            "created": t.created.isoformat(),
                            "revoked": t.revoked and t.revoked.isoformat(),
                        }
                        for t in IngestToken.objects.order_by("name")
                    ]
                )
                return
            for token in tokens.listed():
                self.stdout.write(token)
            return
        if not name:
            self.fail(_("`gallra logins token %(action)s NAME`") % {"action": action}, USAGE)
        try:
            if action == "create":
                self.stdout.write(tokens.create(name))
            else:
                tokens.revoke(name)
                self.stdout.write(_("token %(name)s revoked") % {"name": name})
        except tokens.TokenError as exc:
            self.fail(str(exc), FOUND)


def _report_text(report: Report) -> str:
    lines = [
        ", ".join(
            [
                ngettext("%(n)s file", "%(n)s files", report.files) % {"n": report.files},
                ngettext("%(n)s new line read", "%(n)s new lines read", report.lines)
                % {"n": report.lines},
                ngettext("%(n)s login event stored", "%(n)s login events stored", report.events)
                % {"n": report.events},
                ngettext("%(n)s new alert", "%(n)s new alerts", report.alerts)
                % {"n": report.alerts},
            ]
        )
        + "."
    ]
    if report.already_read:
        lines.append(
            ngettext(
                "%(n)s byte had been read before and was skipped.",
                "%(n)s bytes had been read before and were skipped.",
                report.already_read,
            )
            % {"n": report.already_read}
        )
    for category, n in sorted(report.skipped.items()):
        lines.append("  " + _("skipped: %(n)s %(what)s") % {"n": n, "what": category})
    return "\n".join(lines)
