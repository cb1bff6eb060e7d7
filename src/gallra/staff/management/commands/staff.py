"""`gallra staff sync|add|totp|list|unlock`: staff accounts in the policy's roles (P8, P22).

gallra staff sync                              # groups and permissions from the policy
gallra staff add anna --role technician --email anna@example.se
gallra staff totp anna                         # a new authenticator secret
gallra staff list
gallra staff unlock anna                       # forget her failed logins
"""

from __future__ import annotations

import getpass

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from gallra.instance import database
from gallra.policy.loading import policy_for_command
from gallra.staff import accounts, roles, totp
from gallra.staff.models import LoginFailure, TwoFactor


class Command(BaseCommand):
    help = "Staff accounts: roles from the policy, two-factor login, lockouts."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("sync", help="make the role groups and their permissions match the policy")
        p = sub.add_parser("add", help="add a staff member; prints a password and a TOTP secret")
        p.add_argument("username")
        p.add_argument("--role", action="append", required=True, help="a [[role]] id; repeatable")
        p.add_argument("--email", default="")
        p = sub.add_parser("totp", help="enrol (again) in two-factor login; prints the secret")
        p.add_argument("username")
        sub.add_parser("list", help="staff, roles, two-factor login and last login")
        p = sub.add_parser("unlock", help="forget an account's failed logins")
        p.add_argument("username")

    def handle(self, *args, action: str, **options):
        database.require_ready()
        actor = getpass.getuser()
        policy = policy_for_command()
        if action == "sync":
            for role, count in roles.sync(policy):
                self.stdout.write(f"{role:<15} {count} permissions")
            return
        if action == "add":
            try:
                user, password, secret = accounts.add(
                    policy,
                    options["username"],
                    options["role"],
                    email=options["email"],
                    actor=actor,
                )
            except accounts.StaffError as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(f"added staff user {user.username!r} ({', '.join(options['role'])})")
            self.stdout.write(f"    password: {password}")
            self._secret(user.username, secret, policy)
            return
        users = get_user_model().objects
        if action == "list":
            two_factor = set(TwoFactor.objects.values_list("user_id", flat=True))
            for user in users.filter(is_staff=True).prefetch_related("groups").order_by("username"):
                groups = ",".join(g.name for g in user.groups.all()) or "-"
                second = "2FA" if user.pk in two_factor else "no 2FA"
                state = "active" if user.is_active else "inactive"
                last = f"{user.last_login:%Y-%m-%d %H:%M}" if user.last_login else "never"
                self.stdout.write(f"{user.username:<20} {groups:<25} {second:<7} {state:<9} {last}")
            return
        user = users.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"no staff user {options['username']!r}")
        if action == "totp":
            self._secret(user.username, accounts.enrol(user, actor=actor), policy)
        elif action == "unlock":
            count, _ = LoginFailure.objects.filter(
                key=LoginFailure.key_for("account", user.username.lower())
            ).delete()
            self.stdout.write(f"unlocked {user.username!r} ({count} failed logins forgotten)")

    def _secret(self, username: str, secret: str, policy) -> None:
        issuer = policy.organisation.brand or policy.organisation.name
        self.stdout.write(f"    authenticator secret: {secret}")
        self.stdout.write(f"    or scan/open: {totp.uri(secret, username, issuer)}")
        self.stdout.write(
            "Add it to an authenticator app now: it is shown this once. Logging in asks for "
            "the six-digit code the app shows."
        )
