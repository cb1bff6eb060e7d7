"""`gallra check`: the production checklist (instance/checklist.py). Every place this
installation keeps or sends data is where the policy allows, and run by no one the policy
does not list (P12, P14); then every piece a production instance needs: its public address,
HTTPS, the server's country, the escrow key, the backup settings as this process sees them,
a reachable repository, what the restore drill needs, last night's backup and drill,
enforcement armed, mail going out. One line each; exit 1 naming what fails.

It runs Django's system checks first, quietly unless they find something (`--deploy` adds
the ones for production, and makes the checklist strict: an HTTPS address that is not this
machine's loopback, even on an instance that answers on this machine only); an error among
them fails the check.
"""

from django.utils import timezone
from django.utils.translation import gettext_lazy, ngettext

from gallra.instance import checklist
from gallra.policy.command import FOUND, GallraCommand
from gallra.policy.loading import policy_for_command
from gallra.residency.places import check_and_record


class Command(GallraCommand):
    help = gettext_lazy(
        "Check the settings, then that the database, backups, SMTP relay and datasets are "
        "where the policy allows, and every piece a production instance needs: its public "
        "address, HTTPS, the escrow key, the backup settings and last night's backup and "
        "restore drill, enforcement armed, mail going out."
    )
    examples = (
        "gallra check",
        "gallra check --format json",
        "gallra check --deploy",
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--deploy",
            action="store_true",
            help=gettext_lazy(
                "a production instance, checked strictly: Django's production settings "
                "(HTTPS, secure cookies) and an HTTPS public address"
            ),
        )
        self.add_format(parser)

    def run(self, options: dict) -> None:
        # Django's system checks: silent when they pass, an error among them exits 1.
        self.check(display_num_errors=False, include_deployment_checks=options["deploy"])
        policy = policy_for_command()
        found: list[checklist.Item] = []
        places = check_and_record(policy, actor="check")
        for place in places:
            where = place.country or "?"
            detail = where + (f" — {place.problem}" if place.problem else "")
            found.append(checklist.Item(place.ok, place.name, detail))
        problems = []
        failed = [p for p in places if not p.ok]
        if failed:
            problems.append(
                ngettext(
                    "%(n)s of %(total)s place fails the policy",
                    "%(n)s of %(total)s places fail the policy",
                    len(places),
                )
                % {"n": len(failed), "total": len(places)}
            )
        ctx = checklist.Context(policy, timezone.now(), deploy=options["deploy"])
        items = checklist.run(ctx)
        found += items
        problems += [item.problem or item.what for item in items if not item.ok]
        if options["format"] == "json":
            checks = [{"ok": i.ok, "what": i.what, "detail": i.detail} for i in found]
            self.write_json({"ok": not problems, "checks": checks, "problems": problems})
        else:
            for item in found:
                mark = "ok  " if item.ok else "FAIL"
                self.stdout.write(f"{mark}  {item.what}: {item.detail}")
        if problems:
            self.fail("; ".join(problems), FOUND)
