"""`gallra homes audit|fix|grant|revoke|grants`: home directories kept apart (P3).

See docs/homes.md.
"""

from __future__ import annotations

import json
from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from gallra.homes import acl
from gallra.homes.audit import Audit, HomesError, audit, fix, must_be_root
from gallra.homes.grants import GrantError, grant, revoke
from gallra.homes.models import AccessGrant
from gallra.policy.loading import policy_for_command


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise GrantError(f"--until {text!r}: not a date (YYYY-MM-DD)") from None


class Command(BaseCommand):
    help = "Audit and repair home directories; grant one user access to another's home."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        for name, text in (
            ("audit", "report every way another user can get into a home"),
            ("fix", "repair what audit reports, with evidence"),
        ):
            p = sub.add_parser(name, help=text)
            p.add_argument(
                "root",
                metavar="ROOT",
                help="the directory holding the homes, "
                "e.g. /home: accounts whose home is under it are checked",
            )
            p.add_argument("--format", choices=["text", "json"], default="text")
            p.add_argument("--actor", default="homes", help="who runs it, for the evidence")
        p = sub.add_parser("grant", help="let GRANTEE into OWNER's home under an agreement")
        p.add_argument("owner", metavar="OWNER", help="the home's account: ref or username")
        p.add_argument("grantee", metavar="GRANTEE", help="the account let in: ref or username")
        p.add_argument(
            "--agreement",
            required=True,
            metavar="REF",
            help="the owner's customer's agreement that allows it",
        )
        p.add_argument(
            "--until",
            required=True,
            metavar="DATE",
            help="the last day it holds (YYYY-MM-DD)",
        )
        p.add_argument("--read-only", action="store_true", help="read, no write")
        p.add_argument("--actor", default="homes", help="who grants it, for the evidence")
        p = sub.add_parser("revoke", help="end a grant before its date")
        p.add_argument("owner", metavar="OWNER")
        p.add_argument("grantee", metavar="GRANTEE")
        p.add_argument("--actor", default="homes", help="who revokes it, for the evidence")
        p = sub.add_parser("grants", help="list the grants recorded")
        p.add_argument("--format", choices=["text", "json"], default="text")

    def handle(self, *args, **options):
        action = options["action"]
        now = timezone.now()
        try:
            if action == "grants":
                self._list(options["format"])
                return
            must_be_root()
            if action == "grant":
                made = grant(
                    options["owner"],
                    options["grantee"],
                    options["agreement"],
                    _day(options["until"]),
                    read_only=options["read_only"],
                    at=timezone.localdate(now),
                    now=now,
                    actor=options["actor"],
                )
                how = "read only" if made.read_only else "read and write"
                self.stdout.write(
                    f"{made.ref}: {made.grantee.ref} ({made.grantee.username}, uid "
                    f"{made.grantee_uid}) may enter {made.owner.home} ({how}) until "
                    f"{made.until}, under agreement {made.agreement.ref}"
                )
            elif action == "revoke":
                if revoke(options["owner"], options["grantee"], now=now, actor=options["actor"]):
                    self.stdout.write("revoked; its ACL entries are removed")
                else:
                    raise CommandError(
                        "revoked, but its ACL entries could not be removed: "
                        "see `gallra homes audit`",
                        returncode=1,
                    )
            else:
                self._audit_or_fix(action, options, now)
        except (HomesError, GrantError) as exc:
            raise CommandError(str(exc), returncode=2) from exc
        except acl.AclError as exc:
            raise CommandError(str(exc), returncode=1) from exc

    def _audit_or_fix(self, action: str, options: dict, now) -> None:
        if not policy_for_command().commitments.home_directories_private:
            self.stdout.write(
                "the policy does not promise private home directories "
                "(commitments.home_directories_private = false): nothing to do"
            )
            return
        changes = []
        if action == "audit":
            report = audit(options["root"], now=now)
        else:
            changes, report = fix(options["root"], now=now, actor=options["actor"])
        if options["format"] == "json":
            out = report.as_dict()
            if action == "fix":
                out = {"fixed": [c.as_dict() for c in changes], "after": out}
            self.stdout.write(json.dumps(out, indent=2, ensure_ascii=False))
        else:
            for c in changes:
                self.stdout.write(
                    f"fixed      {c.kind:15} {' '.join(c.accounts)} {c.path}: {c.change}"
                )
            self._show(report, after_fix=action == "fix")
        if report.findings:
            raise CommandError(
                f"{len(report.findings)} violation(s) of P3 "
                f"{'left' if action == 'fix' else 'found'}",
                returncode=1,
            )

    def _show(self, report: Audit, after_fix: bool) -> None:
        for f in report.findings:
            self.stdout.write(f"VIOLATION  {f.kind:15} {' '.join(f.accounts)} {f.path}: {f.detail}")
        for a in report.allowed.values():
            self.stdout.write(
                f"allowed    {a.grant:15} {a.grantee} may enter {a.owner}'s home "
                f"{a.home} ({a.entries} ACL entries)"
            )
        for note in report.notes:
            self.stdout.write(f"note       {note}")
        aside = []
        if report.outside:
            aside.append(f"{report.outside} account(s) with a home elsewhere")
        if report.no_home:
            aside.append(f"{report.no_home} without a home directory")
        extra = f" ({', '.join(aside)})" if aside else ""
        verb = "after fixing, " if after_fix else ""
        self.stdout.write(
            f"{verb}{report.homes} home directories under {report.root} "
            f"audited{extra}: {len(report.findings)} violation(s)"
        )

    def _list(self, fmt: str) -> None:
        grants = AccessGrant.objects.select_related("owner", "grantee", "agreement")
        rows = [
            {
                "grant": g.ref,
                "owner": g.owner.ref,
                "owner_username": g.owner.username,
                "home": g.owner.home,
                "grantee": g.grantee.ref,
                "grantee_username": g.grantee.username,
                "uid": g.grantee_uid,
                "agreement": g.agreement.ref,
                "until": g.until.isoformat(),
                "read_only": g.read_only,
            }
            for g in grants
        ]
        if fmt == "json":
            self.stdout.write(json.dumps(rows, indent=2, ensure_ascii=False))
            return
        for r in rows:
            how = "read only" if r["read_only"] else "read and write"
            self.stdout.write(
                f"{r['grant']}  {r['grantee']} ({r['grantee_username']}) -> "
                f"{r['owner']} {r['home']}  {how}  until {r['until']}  "
                f"agreement {r['agreement']}"
            )
        if not rows:
            self.stdout.write("no access grants")
