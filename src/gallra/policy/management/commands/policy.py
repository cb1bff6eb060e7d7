"""`gallra policy check [PATH]` and `gallra policy show [PATH] [--format json]`."""

import json

from django.core.management.base import BaseCommand, CommandError

from gallra import config
from gallra.policy import hooks
from gallra.policy.loading import PolicyError, load_policy, located, registry_fields


class Command(BaseCommand):
    help = "Check the policy file, or show it as gallra understands it."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        check = sub.add_parser("check", help="Validate a policy file (exit 0 valid, 2 not).")
        check.add_argument("path", nargs="?", help="default: the policy gallra runs with")
        check.add_argument(
            "--offline",
            action="store_true",
            help="do not connect to the datasets to check their tables and columns",
        )
        show = sub.add_parser("show", help="Print the parsed policy.")
        show.add_argument("path", nargs="?")
        show.add_argument("--format", choices=["text", "json"], default="text")

    def handle(self, *args, action, path=None, **options):
        path = path or str(config.policy_path())
        try:
            policy = load_policy(path, registry_fields())
        except PolicyError as exc:
            for problem in exc.problems:
                self.stderr.write(str(problem))
            raise CommandError(f"{len(exc.problems)} problem(s) in {path}", returncode=2) from exc
        if action == "check" and policy.dataset and not options["offline"]:
            self._check_datasets(path, policy)
        if action == "check":
            self.stdout.write(
                f"{path}: ok ({len(policy.category)} categories, {len(policy.rule)} rules)"
            )
        elif options["format"] == "json":
            self.stdout.write(
                json.dumps(policy.model_dump(mode="json"), indent=2, ensure_ascii=False)
            )
        else:
            self._show_text(policy, path)

    def _check_datasets(self, path, policy):
        found = []
        for i, dataset in enumerate(policy.dataset):
            found += [(("dataset", i, *k), m) for k, m in hooks.check_dataset(dataset)]
        problems = located(path, found)
        for problem in problems:
            self.stderr.write(str(problem))
        if problems:
            raise CommandError(f"{len(problems)} problem(s) in {path}", returncode=2)

    def _show_text(self, policy, path):
        lang = policy.languages[0]
        org = policy.organisation
        self.stdout.write(f"{org.name} ({org.brand}) — {path}, revision {policy.revision}")
        self.stdout.write("\nCategories:")
        for c in policy.category:
            rules = ", ".join(r.id for r in policy.rules_for(c.id))
            where = ", ".join(c.fields) or policy.text(c.held_outside, lang)
            self.stdout.write(f"  {c.id} [{c.legal_basis}; {c.responsible}] rules: {rules}")
            self.stdout.write(f"      {where}")
        self.stdout.write("\nRules:")
        for r in policy.rule:
            start = r.trigger + (" → end of year" if r.counted_from != "trigger" else "")
            self.stdout.write(f"  {r.id}: {start} + {r.keep_for} ({', '.join(r.clauses)})")
        self.stdout.write(f"\nAllowed countries: {', '.join(policy.residency.allowed_countries)}")
        self.stdout.write(f"Backup window: {policy.backups.window}")
        self.stdout.write(f"Recipients: {len(policy.recipient) or 'none'}")
