"""`gallra verify-erasure [CUSTOMER|REQUEST] [--name ...] ...`: the proof that nothing remains.

Exit 0 when no identifier is found anywhere except what the law keeps; 1 when something is
found (each hit printed with where it is and the rule that should have removed it); 2 when
the command is used wrongly. See docs/backups.md.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from gallra.backups.restic import BackupError
from gallra.evidence.log import append
from gallra.mailboxes.connectors import MailboxError
from gallra.policy.loading import policy_for_command
from gallra.proof.search import Identifiers, Search, summary
from gallra.registry.models import Customer
from gallra.subjects.models import SubjectRequest

OPTIONS = (
    ("name", "a name"),
    ("email", "an e-mail address"),
    ("phone", "a phone number"),
    ("personnummer", "a personnummer"),
    ("org-number", "an organisation number"),
    ("username", "a user name"),
)


class Command(BaseCommand):
    help = "Search every place, backups included, for a subject's or customer's data."

    def add_arguments(self, parser):
        parser.add_argument(
            "ref",
            nargs="?",
            help="a customer ref (while it is in the registry) or a data-subject request ref: "
            "its identifiers are searched for",
        )
        for option, what in OPTIONS:
            parser.add_argument(
                f"--{option}", action="append", default=[], help=f"{what} to look for (repeatable)"
            )
        parser.add_argument("--no-backups", action="store_true", help="skip the snapshots")

    def handle(self, *args, ref, **options):
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
            raise CommandError(
                "nothing to look for: give a ref still in gallra, or the identifiers "
                "(--name, --email, --phone, --personnummer, --org-number, --username)",
                returncode=2,
            )
        try:
            hits = Search(policy, wanted).everywhere(backups=not options["no_backups"])
        except BackupError as exc:
            raise CommandError(f"the backups could not be searched: {exc}", returncode=1) from exc
        except MailboxError as exc:
            raise CommandError(f"a mailbox could not be searched: {exc}", returncode=1) from exc
        for hit in hits:
            mark = "kept " if hit.kept else "FOUND"
            self.stdout.write(f"{mark} {hit.place}: {hit.where} [{hit.kind}] {hit.rule}")
        counts = summary(hits)
        append(
            "erasure_verified" if not counts.get("found") else "erasure_verify_found",
            actor="verify-erasure",
            at=timezone.now(),
            refs=[ref] if ref else [],
            count=counts.get("found", 0),
            data=counts,
        )
        if counts.get("found"):
            raise CommandError(f"{counts['found']} hit(s) where nothing should be", returncode=1)
        kept = f" ({counts['kept']} kept by law)" if counts.get("kept") else ""
        self.stdout.write(f"nothing found{kept}")

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
        raise CommandError(
            f"{ref} is not a customer or request in gallra (a deleted customer's identifiers "
            "must be given: --name, --email, ...)",
            returncode=2,
        )
