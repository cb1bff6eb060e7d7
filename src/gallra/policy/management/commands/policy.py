"""`gallra policy check [PATH]` and `gallra policy show [PATH] [--format json]`."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from gallra import config
from gallra.policy import hooks
from gallra.policy.command import USAGE, GallraCommand
from gallra.policy.loading import PolicyError, load_policy, located, registry_fields


class Command(GallraCommand):
    help = gettext_lazy("Check the policy file, or show it as gallra understands it.")
    examples = (
        "gallra policy check",
        "gallra policy check --offline",
        "gallra policy show --format json",
    )
    needs_database = False

    def add_arguments(self, parser):
        check = self.action(
            parser,
            "check",
            self.check,
            help=gettext_lazy("Validate a policy file (exit 0 valid, 2 not)."),
        )
        check.add_argument(
            "path", nargs="?", help=gettext_lazy("default: the policy gallra runs with")
        )
        check.add_argument(
            "--offline",
            action="store_true",
            help=gettext_lazy("do not connect to the datasets to check their tables and columns"),
        )
        show = self.action(parser, "show", self.show, help=gettext_lazy("Print the parsed policy."))
        show.add_argument(
            "path", nargs="?", help=gettext_lazy("default: the policy gallra runs with")
        )
        self.add_format(show)

    def check(self, options):
        path, policy = self._load(options)
        if policy.dataset and not options["offline"]:
            self._check_datasets(path, policy)
        self.stdout.write(
            _("%(path)s: ok (%(categories)s categories, %(rules)s rules)")
            % {"path": path, "categories": len(policy.category), "rules": len(policy.rule)}
        )

    def show(self, options):
        path, policy = self._load(options)
        if options["format"] == "json":
            self.write_json(policy.model_dump(mode="json"))
        else:
            self._show_text(policy, path)

    def _load(self, options):
        path = options.get("path") or str(config.policy_path())
        try:
            return path, load_policy(path, registry_fields())
        except PolicyError as exc:
            self._refuse(path, exc.problems)

    def _refuse(self, path, problems):
        for problem in problems:
            self.stderr.write(problem.translated())
        self.fail(
            ngettext("%(n)s problem in %(path)s", "%(n)s problems in %(path)s", len(problems))
            % {"n": len(problems), "path": path},
            USAGE,
        )

    def _check_datasets(self, path, policy):
        found = []
        for i, dataset in enumerate(policy.dataset):
            found += [(("dataset", i, *k), m) for k, m in hooks.check_dataset(dataset)]
        problems = located(path, found)
        if problems:
            self._refuse(path, problems)

    def _show_text(self, policy, path):
        lang = policy.languages[0]
        org = policy.organisation
        self.stdout.write(
            _("%(name)s (%(brand)s) — %(path)s, revision %(revision)s")
            % {"name": org.name, "brand": org.brand, "path": path, "revision": policy.revision}
        )
        self.stdout.write("\n" + _("Categories:"))
        for c in policy.category:
            rules = ", ".join(r.id for r in policy.rules_for(c.id))
            where = ", ".join(c.fields) or policy.text(c.held_outside, lang)
            self.stdout.write(
                f"  {c.id} [{c.legal_basis}; {c.responsible}] " + _("rules:") + f" {rules}"
            )
            self.stdout.write(f"      {where}")
        self.stdout.write("\n" + _("Rules:"))
        for r in policy.rule:
            start = r.trigger + (" → " + _("end of year") if r.counted_from != "trigger" else "")
            self.stdout.write(f"  {r.id}: {start} + {r.keep_for} ({', '.join(r.clauses)})")
        countries = ", ".join(policy.residency.allowed_countries)
        self.stdout.write("\n" + _("Allowed countries: %(c)s") % {"c": countries})
        self.stdout.write(_("Backup window: %(w)s") % {"w": policy.backups.window})
        recipients = len(policy.recipient) or _("none")
        self.stdout.write(_("Recipients: %(n)s") % {"n": recipients})
