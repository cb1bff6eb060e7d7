"""`gallra policy new [PATH]`, `gallra policy check [PATH]` and `gallra policy show [PATH]
[--format json]`."""

from pathlib import Path

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from gallra import config
from gallra.policy import hooks, template
from gallra.policy.command import USAGE, GallraCommand
from gallra.policy.loading import PolicyError, load_policy, located, registry_fields


class Command(GallraCommand):
    help = gettext_lazy("Check the policy file, or show it as gallra understands it.")
    examples = (
        "gallra policy new -",
        "gallra policy check",
        "gallra policy check --offline",
        "gallra policy show --format json",
    )
    needs_database = False

    def add_arguments(self, parser):
        new = self.action(
            parser,
            "new",
            self.new,
            help=gettext_lazy(
                "Write a policy template to fill in; it never overwrites a file (exit 2)."
            ),
        )
        new.add_argument(
            "path",
            nargs="?",
            help=gettext_lazy(
                "where to write it (default: policy.toml in the data directory, or "
                "GALLRA_POLICY; - prints it)"
            ),
        )
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

    def new(self, options):
        """The template, written where the provider asks and never over a file: a policy
        that exists may be the only record of a provider's promises."""
        if options.get("path") == "-":
            self.stdout.write(template.template_text(), ending="")
            return
        default = not options.get("path")
        path = Path(options.get("path") or template.default_path(config.data_dir()))
        if default and path.parent == config.data_dir():
            # 0700, as `gallra init` makes it: the database in it will hold personal data.
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            placeholders = template.write_template(path)
        except FileExistsError:
            self.fail(
                _(
                    "%(path)s already exists: gallra never overwrites a policy file; give "
                    "another PATH, or move the file away first"
                )
                % {"path": path},
                USAGE,
            )
        except OSError as exc:
            self.fail(
                _("cannot write %(path)s: %(error)s") % {"path": path, "error": exc.strerror},
                USAGE,
            )
        self.stdout.write(
            self.style.SUCCESS("created  ")
            + ngettext(
                "%(path)s: a policy template with %(n)s placeholder to fill in",
                "%(path)s: a policy template with %(n)s placeholders to fill in",
                placeholders,
            )
            % {"path": path, "n": placeholders}
        )
        steps = [
            _(
                "Edit it: write your own value in place of each «…» (search and replace fills "
                "every use at once), and keep or delete the commented examples; "
                "docs/policy-file.md explains every key."
            ),
            _("Check it: gallra policy check %(path)s (it lists what is left to fill in).")
            % {"path": path},
            _("Set up gallra with it: gallra init")
            if default  # where gallra reads its policy
            else _("Set up gallra with it: gallra init --policy %(path)s") % {"path": path},
        ]
        self.stdout.write(_("Next:"))
        for number, step in enumerate(steps, 1):
            self.stdout.write(f"  {number}. {step}")

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
        values = {"name": org.name, "brand": org.brand, "path": path, "revision": policy.revision}
        if org.brand:
            self.stdout.write(_("%(name)s (%(brand)s) — %(path)s, revision %(revision)s") % values)
        else:  # no "()" for a provider without a brand
            self.stdout.write(_("%(name)s — %(path)s, revision %(revision)s") % values)
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
            clauses = f" ({', '.join(r.clauses)})" if r.clauses else ""  # none: no "()"
            self.stdout.write(f"  {r.id}: {start} + {r.keep_for}{clauses}")
        countries = ", ".join(policy.residency.allowed_countries)
        self.stdout.write("\n" + _("Allowed countries: %(c)s") % {"c": countries})
        self.stdout.write(_("Backup window: %(w)s") % {"w": policy.backups.window})
        recipients = len(policy.recipient) or _("none")
        self.stdout.write(_("Recipients: %(n)s") % {"n": recipients})
