"""`gallra verify-erasure [CUSTOMER|REQUEST] [--name ...] ...`: the proof that nothing remains.

Exit 0 when no identifier is found anywhere except what the law keeps; 1 when something is
found (each hit printed with where it is and the rule that should have removed it); 2 when
the command is used wrongly. See docs/backups.md.
"""

from __future__ import annotations

from dataclasses import asdict

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from gallra.backups.restic import BackupError
from gallra.evidence.log import append
from gallra.mailboxes.connectors import MailboxError
from gallra.policy.command import FOUND, USAGE, GallraCommand
from gallra.policy.loading import policy_for_command
from gallra.proof.search import Identifiers, Search, summary
from gallra.registry.models import Customer
from gallra.subjects.models import SubjectRequest

OPTIONS = (
    ("name", gettext_lazy("a name to look for (repeatable)")),
    ("email", gettext_lazy("an e-mail address to look for (repeatable)")),
    ("phone", gettext_lazy("a phone number to look for (repeatable)")),
    ("personnummer", gettext_lazy("a personnummer to look for (repeatable)")),
    ("org-number", gettext_lazy("an organisation number to look for (repeatable)")),
    ("username", gettext_lazy("a user name to look for (repeatable)")),
)


class Command(GallraCommand):
    help = gettext_lazy("Search every place, backups included, for a subject's or customer's data.")
    examples = (
        "gallra verify-erasure demo-C001",
        "gallra verify-erasure --email erik@slut.example --name 'Erik Slutsson' --no-backups",
        "gallra verify-erasure demo-C002 --format json",
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "ref",
            nargs="?",
            help=gettext_lazy(
                "a customer ref (while it is in the registry) or a data-subject request ref: "
                "its identifiers are searched for"
            ),
        )
        for option, what in OPTIONS:
            parser.add_argument(f"--{option}", action="append", default=[], help=what)
        parser.add_argument(
            "--no-backups", action="store_true", help=gettext_lazy("skip the snapshots")
        )
        self.add_format(parser)

    def run(self, options):
        ref = options.get("ref")
        policy = policy_for_command()
        wanted = Identifiers(
            names=options["name"],
            emails=options["email"],
            phones=options["phone"],
            personnummer=options["personnummer"],
            org_numbers=options["org_number"],
            usernames=options["username"],
        )
        wanted.clean()
        if ref:
            wanted.add(self._of(ref))
        if not wanted:
            self.fail(
                _(
                    "nothing to look for: give a ref still in gallra, or the identifiers "
                    "(--name, --email, --phone, --personnummer, --org-number, --username)"
                ),
                USAGE,
            )
        bar = self.progress(options, _("places searched"))
        try:
            hits = Search(policy, wanted).everywhere(
                backups=not options["no_backups"], progress=bar
            )
        except BackupError as exc:
            self.fail(_("the backups could not be searched: %(why)s") % {"why": exc}, FOUND)
        except MailboxError as exc:
            self.fail(_("a mailbox could not be searched: %(why)s") % {"why": exc}, FOUND)
        finally:
            if bar:
                bar.close()
        counts = summary(hits)
        append(
            "erasure_verified" if not counts.get("found") else "erasure_verify_found",
            actor="verify-erasure",
            at=timezone.now(),
            refs=[ref] if ref else [],
            count=counts.get("found", 0),
            data=counts,
        )
        found, kept = counts.get("found", 0), counts.get("kept", 0)
        if options["format"] == "json":
            self.write_json({"found": found, "kept": kept, "hits": [asdict(h) for h in hits]})
        else:
            for hit in hits:
                mark = "kept " if hit.kept else "FOUND"
                self.stdout.write(f"{mark} {hit.place}: {hit.where} [{hit.kind}] {hit.rule}")
            if not found:
                self.stdout.write(
                    ngettext(
                        "nothing found (%(n)s kept by law)",
                        "nothing found (%(n)s kept by law)",
                        kept,
                    )
                    % {"n": kept}
                    if kept
                    else _("nothing found")
                )
        if found:
            self.fail(
                ngettext(
                    "%(n)s hit where nothing should be",
                    "%(n)s hits where nothing should be",
                    found,
                )
                % {"n": found},
                FOUND,
            )

    def _of(self, ref: str) -> Identifiers:
        if Customer.objects.filter(ref=ref).exists():
            return Identifiers.of_customer(ref)
        request = SubjectRequest.objects.filter(ref=ref).first()
        if request is not None:
            return Identifiers(
                names=[request.name],
                emails=[request.email],
                usernames=[request.username],
                personnummer=[request.personnummer],
            ).clean()
        self.fail(
            _(
                "%(ref)s is not a customer or request in gallra (a deleted customer's "
                "identifiers must be given: --name, --email, ...)"
            )
            % {"ref": ref},
            USAGE,
        )
