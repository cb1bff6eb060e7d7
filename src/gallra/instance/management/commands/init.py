"""`gallra init`: make a data directory ready to run gallra, or say what is already there.

Steps, each skipped when already done: the data directory, the key file (mode 0600, never
overwritten), the provider's policy file (a copy of JufCorp's, then checked against the
registry), the database tables, and a staff superuser "admin" whose password is printed
once, here, and never again.
"""

from __future__ import annotations

import os
import secrets
import shutil

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from gallra import config
from gallra.instance import database
from gallra.policy.loading import PolicyError, load_policy, registry_fields
from gallra.staff import accounts, roles, totp
from gallra.staff.models import TwoFactor

ADMIN_USERNAME = "admin"


class Command(BaseCommand):
    help = "Create the data directory, key file, policy copy, database and admin user."
    requires_system_checks = []  # the checks may need what this command creates

    def handle(self, *args, **options):
        data = config.data_dir()
        self._data_dir(data)
        self._keys()
        policy = self._policy(data)
        self._database()
        synced = roles.sync(policy)
        self.stdout.write(f"roles    {', '.join(r for r, _ in synced)} (groups from the policy)")
        self._admin(policy)
        self.stdout.write("gallra is ready: `gallra demo` adds demo data, `gallra serve` runs it.")

    def _say(self, done: bool, made: str, exists: str) -> None:
        self.stdout.write(self.style.SUCCESS(f"created  {made}") if done else f"exists   {exists}")

    def _data_dir(self, data) -> None:
        existed = data.is_dir()
        # 0700: the SQLite database in it holds personal data; only gallra's user may read it.
        data.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._say(not existed, f"data directory {data} (mode 0700)", f"data directory {data}")

    def _keys(self) -> None:
        key_file = settings.GALLRA_KEY_FILE
        from_env = [env for env in config.KEY_NAMES.values() if os.environ.get(env)]
        if len(from_env) == len(config.KEY_NAMES) and not key_file.exists():
            self.stdout.write(f"keys     from the environment ({', '.join(from_env)}); no key file")
        else:
            created = config.create_key_file(key_file)
            self._say(
                created,
                f"key file {key_file} (mode 0600) — back it up: without it the encrypted "
                "documents and credentials cannot be read",
                f"key file {key_file} (left unchanged)",
            )
            mode = key_file.stat().st_mode & 0o777
            if mode & 0o077:
                self.stderr.write(
                    self.style.WARNING(
                        f"warning: {key_file} has mode {mode:04o}; run `chmod 600 {key_file}`"
                    )
                )
        try:
            # Settings read the key file when they were imported, before it may have existed.
            settings.GALLRA_KEYS = config.load_keys(key_file)
        except config.ConfigError as exc:
            raise CommandError(str(exc), returncode=2) from exc
        if settings.GALLRA_KEYS is None:
            raise CommandError(
                f"{key_file} lacks keys; set GALLRA_SECRET_KEY, GALLRA_MASTER_KEY and "
                "GALLRA_PSEUDONYM_KEY or move the file away and run `gallra init` again",
                returncode=2,
            )

    def _policy(self, data) -> None:
        local = data / config.POLICY_FILE_NAME
        copied = False
        if not local.exists():
            shutil.copyfile(config.DEFAULT_POLICY, local)
            copied = True
        self._say(
            copied,
            f"policy file {local} (JufCorp's; edit it, then `gallra policy check`)",
            f"policy file {local} (left unchanged)",
        )
        path = config.policy_path()
        try:
            policy = load_policy(path, registry_fields())
        except PolicyError as exc:
            for problem in exc.problems:
                self.stderr.write(str(problem))
            raise CommandError(
                f"{len(exc.problems)} problem(s) in {path}; fix them and run `gallra init` again",
                returncode=2,
            ) from exc
        self.stdout.write(
            f"checked  policy {path}: {policy.organisation.name}, "
            f"{len(policy.category)} categories, {len(policy.rule)} rules"
        )
        return policy

    def _database(self) -> None:
        pending = database.pending_migrations()
        where = database.describe()
        if not pending:
            self.stdout.write(f"exists   database {where} (up to date)")
            return
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write(
            self.style.SUCCESS(f"created  database {where} ({len(pending)} migrations applied)")
        )

    def _admin(self, policy) -> None:
        """The first staff member: superuser, in the accountable role, with two-factor login."""
        users = get_user_model()
        user = users.objects.filter(username=ADMIN_USERNAME).first()
        if user is not None:
            self.stdout.write(
                f"exists   staff user {ADMIN_USERNAME!r} (its password is not shown again; "
                f"to set a new one: gallra changepassword {ADMIN_USERNAME})"
            )
            if not TwoFactor.objects.filter(user=user).exists():
                self._secret(policy, accounts.enrol(user, actor="gallra init"))
            return
        password = secrets.token_urlsafe(18)  # 24 characters, 144 bits
        user = users.objects.create_superuser(ADMIN_USERNAME, email="", password=password)
        user.groups.set(Group.objects.filter(name=policy.organisation.accountable))
        self.stdout.write(self.style.SUCCESS(f"created  staff user {ADMIN_USERNAME!r}"))
        self.stdout.write("")
        self.stdout.write(f"    username: {ADMIN_USERNAME}")
        self.stdout.write(f"    password: {password}")
        self._secret(policy, accounts.enrol(user, actor="gallra init"))
        self.stdout.write(
            "Write the password down now: it is shown this once and stored only as a hash. "
            f"To change it: gallra changepassword {ADMIN_USERNAME}"
        )

    def _secret(self, policy, secret: str) -> None:
        issuer = policy.organisation.brand or policy.organisation.name
        self.stdout.write(f"    two-factor secret: {secret}")
        self.stdout.write(
            f"    (for an authenticator app: {totp.uri(secret, ADMIN_USERNAME, issuer)})"
        )
        self.stdout.write(
            "    Without an app, the current one-time code: "
            f".venv/bin/python -m gallra.staff.totp {secret}"
        )
        self.stdout.write("")
