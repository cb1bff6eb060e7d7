"""`gallra init`: make a data directory ready to run gallra, or say what is already there.

Steps, each skipped when already done: the data directory, the key file (mode 0600, never
overwritten), the provider's policy file (a copy of `--policy PATH`, the provider's own
filled in from `gallra policy new`; without it JufCorp's example, for trying gallra; then
checked against the registry), the database tables, and a staff superuser "admin" whose
password is printed once, here, and never again.
"""

from __future__ import annotations

import filecmp
import os
import secrets
import shutil
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from gallra import config
from gallra.instance import database
from gallra.policy.command import USAGE, GallraCommand
from gallra.policy.loading import PolicyError, load_policy, registry_fields
from gallra.staff import accounts, roles, totp
from gallra.staff.models import TwoFactor

ADMIN_USERNAME = "admin"


class Command(GallraCommand):
    help = gettext_lazy(
        "Create the data directory, key file, policy copy, database and admin user."
    )
    examples = ("gallra init",)
    needs_database = False  # it makes the instance

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--policy",
            metavar="PATH",
            help=gettext_lazy(
                "your own policy file (from `gallra policy new`), copied into the data "
                "directory; without it, JufCorp's example"
            ),
        )

    def run(self, options: dict) -> None:
        source = Path(options["policy"]) if options.get("policy") else None
        if source is not None:
            self._own_policy(source)  # before anything is made: a wrong file stops here
        data = config.data_dir()
        self._data_dir(data)
        self._keys()
        policy = self._policy(data, source)
        self._database()
        synced = roles.sync(policy)
        self.stdout.write(
            "roles    "
            + _("%(roles)s (groups from the policy)")
            % {"roles": ", ".join(r for r, _made in synced)}
        )
        self._admin(policy)
        self.stdout.write(
            _("gallra is ready: `gallra demo` adds demo data, `gallra serve` runs it.")
        )

    def _say(self, done: bool, made: str, exists: str) -> None:
        """`created  ...` or `exists   ...`: the words are a column scripts read; English."""
        self.stdout.write(self.style.SUCCESS(f"created  {made}") if done else f"exists   {exists}")

    def _data_dir(self, data) -> None:
        existed = data.is_dir()
        # 0700: the SQLite database in it holds personal data; only gallra's user may read it.
        data.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._say(
            not existed,
            _("data directory %(path)s (mode 0700)") % {"path": data},
            _("data directory %(path)s") % {"path": data},
        )

    def _keys(self) -> None:
        key_file = settings.GALLRA_KEY_FILE
        from_env = [env for env in config.KEY_NAMES.values() if os.environ.get(env)]
        if len(from_env) == len(config.KEY_NAMES) and not key_file.exists():
            self.stdout.write(
                "keys     "
                + _("from the environment (%(names)s); no key file")
                % {"names": ", ".join(from_env)}
            )
        else:
            created = config.create_key_file(key_file)
            self._say(
                created,
                _(
                    "key file %(path)s (mode 0600) — back it up: without it the encrypted "
                    "documents and credentials cannot be read"
                )
                % {"path": key_file},
                _("key file %(path)s (left unchanged)") % {"path": key_file},
            )
            mode = key_file.stat().st_mode & 0o777
            if mode & 0o077:
                self.stderr.write(
                    self.style.WARNING(
                        _("warning: %(path)s has mode %(mode)s; run `chmod 600 %(path)s`")
                        % {"path": key_file, "mode": f"{mode:04o}"}
                    )
                )
        try:
            # Settings read the key file when they were imported, before it may have existed.
            settings.GALLRA_KEYS = config.load_keys(key_file)
        except config.ConfigError as exc:
            self.fail(str(exc), USAGE)
        if settings.GALLRA_KEYS is None:
            self.fail(
                _(
                    "%(path)s lacks keys; set GALLRA_SECRET_KEY, GALLRA_MASTER_KEY and "
                    "GALLRA_PSEUDONYM_KEY or move the file away and run `gallra init` again"
                )
                % {"path": key_file},
                USAGE,
            )

    def _own_policy(self, source: Path) -> None:
        """`--policy PATH` must be a valid policy, and the one gallra will then run with."""
        if os.environ.get("GALLRA_POLICY"):
            self.fail(
                _(
                    "GALLRA_POLICY is set (%(env)s): gallra runs with that file, not with a "
                    "copy of %(path)s; unset it, or run `gallra init` without --policy"
                )
                % {"env": os.environ["GALLRA_POLICY"], "path": source},
                USAGE,
            )
        self._check_policy(source, quiet=True)
        local = config.data_dir() / config.POLICY_FILE_NAME
        if local.exists() and not filecmp.cmp(source, local, shallow=False):
            self.fail(
                _(
                    "%(local)s already exists and is not %(path)s: gallra runs with it and "
                    "never overwrites it; edit it instead (then `gallra policy check`), or "
                    "move it away and run `gallra init --policy %(path)s` again"
                )
                % {"local": local, "path": source},
                USAGE,
            )

    def _policy(self, data, source: Path | None):
        local = data / config.POLICY_FILE_NAME
        copied = False
        if not local.exists():
            shutil.copyfile(source or config.DEFAULT_POLICY, local)
            copied = True
        if source is not None:
            made = _("policy file %(path)s (copied from %(source)s)")
            exists = _("policy file %(path)s (the same as %(source)s)")
        else:
            made = _(
                "policy file %(path)s (JufCorp's example, for trying gallra; for your own "
                "start with `gallra policy new`, see docs/install.md)"
            )
            exists = _("policy file %(path)s (left unchanged)")
        values = {"path": local, "source": source}
        self._say(copied, made % values, exists % values)
        return self._check_policy(config.policy_path())

    def _check_policy(self, path: Path, quiet: bool = False):
        try:
            policy = load_policy(path, registry_fields())
        except PolicyError as exc:
            for problem in exc.problems:
                self.stderr.write(str(problem))
            n = len(exc.problems)
            self.fail(
                ngettext(
                    "%(n)s problem in %(path)s; fix it and run `gallra init` again",
                    "%(n)s problems in %(path)s; fix them and run `gallra init` again",
                    n,
                )
                % {"n": n, "path": path},
                USAGE,
            )
        if quiet:
            return policy
        self.stdout.write(
            "checked  "
            + _("policy %(path)s: %(name)s, %(categories)s categories, %(rules)s rules")
            % {
                "path": path,
                "name": policy.organisation.name,
                "categories": len(policy.category),
                "rules": len(policy.rule),
            }
        )
        return policy

    def _database(self) -> None:
        pending = database.pending_migrations()
        where = database.describe()
        if not pending:
            self.stdout.write("exists   " + _("database %(db)s (up to date)") % {"db": where})
            return
        call_command("migrate", interactive=False, verbosity=0)
        n = len(pending)
        self.stdout.write(
            self.style.SUCCESS(
                "created  "
                + ngettext(
                    "database %(db)s (%(n)s migration applied)",
                    "database %(db)s (%(n)s migrations applied)",
                    n,
                )
                % {"db": where, "n": n}
            )
        )

    def _admin(self, policy) -> None:
        """The first staff member: superuser, in the accountable role, with two-factor login."""
        users = get_user_model()
        user = users.objects.filter(username=ADMIN_USERNAME).first()
        if user is not None:
            self.stdout.write(
                "exists   "
                + _(
                    "staff user '%(user)s' (its password is not shown again; "
                    "to set a new one: gallra staff password %(user)s)"
                )
                % {"user": ADMIN_USERNAME}
            )
            if not TwoFactor.objects.filter(user=user).exists():
                self._secret(policy, accounts.enrol(user, actor="gallra init"))
            return
        password = secrets.token_urlsafe(18)  # 24 characters, 144 bits
        user = users.objects.create_superuser(ADMIN_USERNAME, email="", password=password)
        user.groups.set(Group.objects.filter(name=policy.organisation.accountable))
        self.stdout.write(
            self.style.SUCCESS("created  " + _("staff user '%(user)s'") % {"user": ADMIN_USERNAME})
        )
        self.stdout.write("")
        self.stdout.write(f"    username: {ADMIN_USERNAME}")
        self.stdout.write(f"    password: {password}")
        self._secret(policy, accounts.enrol(user, actor="gallra init"))
        self.stdout.write(
            _(
                "Write the password down now: it is shown this once and stored only as a "
                "hash. To change it: gallra staff password %(user)s"
            )
            % {"user": ADMIN_USERNAME}
        )

    def _secret(self, policy, secret: str) -> None:
        issuer = policy.organisation.brand or policy.organisation.name
        self.stdout.write(f"    two-factor secret: {secret}")
        self.stdout.write(
            "    "
            + _("(for an authenticator app: %(uri)s)")
            % {"uri": totp.uri(secret, ADMIN_USERNAME, issuer)}
        )
        self.stdout.write(
            "    "
            + _("Without an app, the current one-time code: %(how)s")
            % {"how": f".venv/bin/python -m gallra.staff.totp {secret}"}
        )
        self.stdout.write("")
