"""`gallra homes audit|fix|grant|revoke|grants`: home directories kept apart (P3).

See docs/homes.md.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from gallra.homes import acl
from gallra.homes.audit import Audit, HomesError, audit, fix, must_be_root
from gallra.homes.grants import GrantError, grant, revoke
from gallra.homes.models import AccessGrant
from gallra.policy.command import FOUND, USAGE, GallraCommand
from gallra.policy.loading import policy_for_command


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise GrantError(_("--until %(text)r: not a date (YYYY-MM-DD)") % {"text": text}) from None


class Command(GallraCommand):
    help = gettext_lazy(
        "Audit and repair home directories; grant one user access to another's home."
    )
    # audit, fix, grant and revoke run as root; grant and revoke need the owner's home to
    # exist on this host (a scratch instance's demo accounts have none).
    examples = (
        "gallra homes audit /home",
        "gallra homes audit /home --format json",
        "gallra homes fix /home",
        "gallra homes grant bengtg carlj --agreement demo-C009-A1 --until 2030-12-31 --read-only",
        "gallra homes revoke bengtg carlj",
        "gallra homes grants",
        "gallra homes grants --format json",
    )

    def add_arguments(self, parser):
        for name, run, text in (
            (
                "audit",
                self.audit,
                gettext_lazy("report every way another user can get into a home"),
            ),
            ("fix", self.fix, gettext_lazy("repair what audit reports, with evidence")),
        ):
            p = self.action(parser, name, run, help=text)
            p.add_argument(
                "root",
                metavar="ROOT",
                help=gettext_lazy(
                    "the directory holding the homes, "
                    "e.g. /home: accounts whose home is under it are checked"
                ),
            )
            self.add_format(p)
            p.add_argument(
                "--actor", default="homes", help=gettext_lazy("who runs it, for the evidence")
            )
        p = self.action(
            parser,
            "grant",
            self.grant,
            help=gettext_lazy("let GRANTEE into OWNER's home under an agreement"),
        )
        p.add_argument(
            "owner", metavar="OWNER", help=gettext_lazy("the home's account: ref or username")
        )
        p.add_argument(
            "grantee",
            metavar="GRANTEE",
            help=gettext_lazy("the account let in: ref or username"),
        )
        p.add_argument(
            "--agreement",
            required=True,
            metavar="REF",
            help=gettext_lazy("the owner's customer's agreement that allows it"),
        )
        p.add_argument(
            "--until",
            required=True,
            metavar="DATE",
            help=gettext_lazy("the last day it holds (YYYY-MM-DD)"),
        )
        p.add_argument("--read-only", action="store_true", help=gettext_lazy("read, no write"))
        p.add_argument(
            "--actor", default="homes", help=gettext_lazy("who grants it, for the evidence")
        )
        p = self.action(
            parser, "revoke", self.revoke, help=gettext_lazy("end a grant before its date")
        )
        p.add_argument("owner", metavar="OWNER", help=gettext_lazy("the home's account"))
        p.add_argument("grantee", metavar="GRANTEE", help=gettext_lazy("the account let in"))
        p.add_argument(
            "--actor", default="homes", help=gettext_lazy("who revokes it, for the evidence")
        )
        p = self.action(
            parser, "grants", self.grants, help=gettext_lazy("list the grants recorded")
        )
        self.add_format(p)

    @contextmanager
    def _refusing(self, root: bool = True) -> Iterator[None]:
        """Bad input (or not root) exits 2; an ACL that cannot be changed exits 1."""
        try:
            if root:
                must_be_root()
            yield
        except (HomesError, GrantError) as exc:
            self.fail(str(exc), USAGE)
        except acl.AclError as exc:
            self.fail(str(exc), FOUND)

    def grant(self, options: dict) -> None:
        now = timezone.now()
        with self._refusing():
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
        how = _("read only") if made.read_only else _("read and write")
        self.stdout.write(
            _(
                "%(grant)s: %(grantee)s (%(username)s, uid %(uid)s) may enter %(home)s "
                "(%(how)s) until %(until)s, under agreement %(agreement)s"
            )
            % {
                "grant": made.ref,
                "grantee": made.grantee.ref,
                "username": made.grantee.username,
                "uid": made.grantee_uid,
                "home": made.owner.home,
                "how": how,
                "until": made.until,
                "agreement": made.agreement.ref,
            }
        )

    def revoke(self, options: dict) -> None:
        with self._refusing():
            removed = revoke(
                options["owner"], options["grantee"], now=timezone.now(), actor=options["actor"]
            )
        if not removed:
            self.fail(
                _("revoked, but its ACL entries could not be removed: see `gallra homes audit`"),
                FOUND,
            )
        self.stdout.write(_("revoked; its ACL entries are removed"))

    def audit(self, options: dict) -> None:
        self._audit_or_fix("audit", options)

    def fix(self, options: dict) -> None:
        self._audit_or_fix("fix", options)

    def _audit_or_fix(self, action: str, options: dict) -> None:
        now = timezone.now()
        with self._refusing():
            self._audit_or_fix_as_root(action, options, now)

    def _audit_or_fix_as_root(self, action: str, options: dict, now) -> None:
        if not policy_for_command().commitments.home_directories_private:
            self.stdout.write(
                _(
                    "the policy does not promise private home directories "
                    "(commitments.home_directories_private = false): nothing to do"
                )
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
            self.write_json(out)
        else:
            for c in changes:
                self.stdout.write(
                    f"fixed      {c.kind:15} {' '.join(c.accounts)} {c.path}: {c.change}"
                )
            self._show(report, after_fix=action == "fix")
        n = len(report.findings)
        if n and action == "fix":
            self.fail(
                ngettext("%(n)s violation of P3 left", "%(n)s violations of P3 left", n) % {"n": n},
                FOUND,
            )
        if n:
            self.fail(
                ngettext("%(n)s violation of P3 found", "%(n)s violations of P3 found", n)
                % {"n": n},
                FOUND,
            )

    def _show(self, report: Audit, after_fix: bool) -> None:
        for f in report.findings:
            self.stdout.write(f"VIOLATION  {f.kind:15} {' '.join(f.accounts)} {f.path}: {f.detail}")
        for a in report.allowed.values():
            self.stdout.write(
                f"allowed    {a.grant:15} "
                + _("%(grantee)s may enter %(owner)s's home %(home)s (%(n)s ACL entries)")
                % {"grantee": a.grantee, "owner": a.owner, "home": a.home, "n": a.entries}
            )
        for note in report.notes:
            self.stdout.write(f"note       {note}")
        aside = []
        if report.outside:
            aside.append(
                ngettext(
                    "%(n)s account with a home elsewhere",
                    "%(n)s accounts with a home elsewhere",
                    report.outside,
                )
                % {"n": report.outside}
            )
        if report.no_home:
            aside.append(_("%(n)s without a home directory") % {"n": report.no_home})
        n = len(report.findings)
        summary = ngettext(
            "%(homes)s home directories under %(root)s audited%(extra)s: %(n)s violation",
            "%(homes)s home directories under %(root)s audited%(extra)s: %(n)s violations",
            n,
        ) % {
            "homes": report.homes,
            "root": report.root,
            "extra": f" ({', '.join(aside)})" if aside else "",
            "n": n,
        }
        if after_fix:
            summary = _("after fixing, %(summary)s") % {"summary": summary}
        self.stdout.write(summary)

    def grants(self, options: dict) -> None:
        fmt = options["format"]
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
            self.write_json(rows)
            return
        for r in rows:
            how = _("read only") if r["read_only"] else _("read and write")
            self.stdout.write(
                f"{r['grant']}  {r['grantee']} ({r['grantee_username']}) -> "
                f"{r['owner']} {r['home']}  {how}  "
                + _("until %(until)s  agreement %(agreement)s")
                % {"until": r["until"], "agreement": r["agreement"]}
            )
        if not rows:
            self.stdout.write(_("no access grants"))
