"""`gallra staff sync|add|role|email|totp|password|list|unlock`: staff accounts in the policy's
roles (P8, P22). See docs/staff.md."""

from __future__ import annotations

import getpass
import sys

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from gallra.instance import database
from gallra.policy.command import FOUND, USAGE, GallraCommand
from gallra.policy.loading import policy_for_command
from gallra.retention import tasks
from gallra.staff import accounts, roles, totp
from gallra.staff.models import LoginFailure, TwoFactor

PASSWORD_TRIES = 3  # as Django's changepassword


class Command(GallraCommand):
    help = gettext_lazy("Staff accounts: roles from the policy, two-factor login, lockouts.")
    examples = (
        "gallra staff sync",
        "gallra staff add anna --role technician --email anna@redcloud.example",
        "gallra staff role anna technician sales",
        "gallra staff email admin ceo@redcloud.example",
        "gallra staff list",
        "gallra staff list --format json",
        "gallra staff totp anna",
        "gallra staff unlock anna",
        "gallra staff password admin",
    )

    def add_arguments(self, parser):
        sync = self.action(
            parser,
            "sync",
            self.sync,
            help=gettext_lazy(
                "Make the role groups and their permissions match the policy; remove the "
                "groups of roles it no longer has."
            ),
        )
        self.add_format(sync)
        add = self.action(
            parser,
            "add",
            self.add,
            help=gettext_lazy("Add a staff member; prints a password and a TOTP secret."),
        )
        add.add_argument("username", help=gettext_lazy("the staff member's user name"))
        add.add_argument(
            "--role",
            action="append",
            required=True,
            help=gettext_lazy("a [[role]] id; repeatable"),
        )
        add.add_argument("--email", default="", help=gettext_lazy("the staff member's e-mail"))
        role = self.action(
            parser,
            "role",
            self.role,
            help=gettext_lazy(
                "Put a staff member in these roles instead of their present ones; they get "
                "the open manual tasks of their new areas."
            ),
        )
        role.add_argument("username", help=gettext_lazy("the staff member's user name"))
        role.add_argument("roles", nargs="+", metavar="ROLE", help=gettext_lazy("a [[role]] id"))
        email = self.action(
            parser,
            "email",
            self.email,
            help=gettext_lazy("Set a staff member's e-mail address (task reminders go there)."),
        )
        email.add_argument("username", help=gettext_lazy("the staff member's user name"))
        email.add_argument("address", help=gettext_lazy("the e-mail address"))
        enrol = self.action(
            parser,
            "totp",
            self.totp,
            help=gettext_lazy("Enrol (again) in two-factor login; prints the secret."),
        )
        enrol.add_argument("username", help=gettext_lazy("the staff member's user name"))
        password = self.action(
            parser,
            "password",
            self.password,
            help=gettext_lazy(
                "Set a new password, asked twice on the terminal; the password policy applies."
            ),
        )
        password.add_argument("username", help=gettext_lazy("the staff member's user name"))
        listed = self.action(
            parser,
            "list",
            self.list_staff,
            help=gettext_lazy("Staff, roles, two-factor login and last login."),
        )
        self.add_format(listed)
        unlock = self.action(
            parser, "unlock", self.unlock, help=gettext_lazy("Forget an account's failed logins.")
        )
        unlock.add_argument("username", help=gettext_lazy("the staff member's user name"))

    def sync(self, options):
        database.require_ready()
        policy = policy_for_command()
        actor = getpass.getuser()
        with transaction.atomic():
            synced = roles.sync(policy)
            pruned = roles.prune(policy, actor=actor, now=timezone.now())
        handed = tasks.follow_staff(policy, timezone.now(), actor=actor)
        accountable = roles.accountable_members(policy)
        if options["format"] == "json":
            self.write_json(
                {
                    "roles": [{"role": role, "permissions": n} for role, n in synced],
                    "removed": pruned.removed,
                    "without_role": pruned.without_role,
                    "accountable": accountable,
                    "tasks_given": handed,
                }
            )
            return
        for role, count in synced:
            self.stdout.write(
                f"{role:<15} "
                + ngettext("%(n)s permission", "%(n)s permissions", count) % {"n": count}
            )
        for role, users in pruned.removed.items():
            self.stdout.write(
                _("removed the group of role %(role)s, no longer in the policy: %(who)s")
                % {"role": role, "who": ", ".join(users) or _("nobody was in it")}
            )
        for user in pruned.without_role:
            line = _("%(user)s is now in no role: give one with `gallra staff role %(user)s ROLE`")
            if user in pruned.superusers:
                line += " " + _("(a superuser: may still do everything meanwhile)")
            self.stdout.write(line % {"user": user})
        if not accountable:
            self.stdout.write(
                _(
                    "no active staff member is in the accountable role %(role)s: give it with "
                    "`gallra staff role USER %(role)s`"
                )
                % {"role": policy.organisation.accountable}
            )
        self._handed(handed)

    def add(self, options):
        database.require_ready()
        policy = policy_for_command()
        try:
            user, password, secret, handed = accounts.add(
                policy,
                options["username"],
                options["role"],
                email=options["email"],
                actor=getpass.getuser(),
            )
        except accounts.StaffError as exc:
            self.fail(str(exc), FOUND)
        self.stdout.write(
            _("added staff user %(user)r (%(roles)s)")
            % {"user": user.username, "roles": ", ".join(options["role"])}
        )
        self.stdout.write("    " + _("password: %(password)s") % {"password": password})
        self._secret(user.username, secret, policy)
        self._handed(handed)

    def role(self, options):
        database.require_ready()
        policy = policy_for_command()
        try:
            user, before, handed = accounts.set_roles(
                policy, options["username"], options["roles"], actor=getpass.getuser()
            )
        except accounts.StaffError as exc:
            self.fail(str(exc) + "; " + _("nothing changed"), USAGE)
        self.stdout.write(
            _("%(user)s: roles %(after)s (were: %(before)s)")
            % {
                "user": user.username,
                "after": ", ".join(roles.of(user)),
                "before": ", ".join(before) or "-",
            }
        )
        self._handed(handed)

    def email(self, options):
        database.require_ready()
        try:
            user = accounts.set_email(
                options["username"], options["address"], actor=getpass.getuser()
            )
        except accounts.StaffError as exc:
            self.fail(str(exc) + "; " + _("nothing changed"), USAGE)
        self.stdout.write(
            _("%(user)s's task reminders now go to %(email)s")
            % {"user": user.username, "email": user.email}
        )

    def _handed(self, handed: dict[str, int]) -> None:
        """Say who got open manual tasks because of the change (tasks.follow_staff)."""
        for user, n in handed.items():
            self.stdout.write(
                ngettext(
                    "%(user)s got %(n)s open manual task of their areas (gallra tasks list)",
                    "%(user)s got %(n)s open manual tasks of their areas (gallra tasks list)",
                    n,
                )
                % {"user": user, "n": n}
            )

    def totp(self, options):
        user = self._user(options["username"])
        secret = accounts.enrol(user, actor=getpass.getuser())
        self._secret(user.username, secret, policy_for_command())

    def password(self, options):
        user = self._user(options["username"])
        if not sys.stdin.isatty():
            self.fail(
                _("no terminal to ask for the password on: run it in a terminal; nothing changed"),
                USAGE,
            )
        for _try in range(PASSWORD_TRIES):
            try:
                first = getpass.getpass(_("New password for %(user)s: ") % {"user": user.username})
                second = getpass.getpass(_("The same again: "))
            except (EOFError, KeyboardInterrupt):
                self.stderr.write("")
                self.fail(_("no password given; nothing changed"), USAGE)
            if first != second:
                self.stderr.write(_("The two differ; try again."))
                continue
            try:
                accounts.set_password(user, first, actor=getpass.getuser())
            except ValidationError as exc:
                self.stderr.write("\n".join(exc.messages))
                continue
            self.stdout.write(
                _("password of %(user)r changed; its sessions elsewhere have ended")
                % {"user": user.username}
            )
            return
        self.fail(
            ngettext(
                "no password set after %(n)s try; nothing changed",
                "no password set after %(n)s tries; nothing changed",
                PASSWORD_TRIES,
            )
            % {"n": PASSWORD_TRIES},
            FOUND,
        )

    def list_staff(self, options):
        database.require_ready()
        users = get_user_model().objects.filter(is_staff=True).prefetch_related("groups")
        two_factor = set(TwoFactor.objects.values_list("user_id", flat=True))
        rows = [
            {
                "username": user.username,
                "roles": [g.name for g in user.groups.all()],
                "two_factor": user.pk in two_factor,
                "active": user.is_active,
                "last_login": user.last_login,
            }
            for user in users.order_by("username")
        ]
        if options["format"] == "json":
            for row in rows:
                row["last_login"] = row["last_login"] and row["last_login"].isoformat()
            self.write_json(rows)
            return
        for row in rows:
            groups = ",".join(row["roles"]) or "-"
            second = _("2FA") if row["two_factor"] else _("no 2FA")
            state = _("active") if row["active"] else _("inactive")
            last = f"{row['last_login']:%Y-%m-%d %H:%M}" if row["last_login"] else _("never")
            self.stdout.write(f"{row['username']:<20} {groups:<25} {second:<7} {state:<9} {last}")

    def unlock(self, options):
        user = self._user(options["username"])
        count, _kinds = LoginFailure.objects.filter(
            key=LoginFailure.key_for("account", user.username.lower())
        ).delete()
        self.stdout.write(
            ngettext(
                "unlocked %(user)r (%(n)s failed login forgotten)",
                "unlocked %(user)r (%(n)s failed logins forgotten)",
                count,
            )
            % {"user": user.username, "n": count}
        )

    def _user(self, username: str):
        database.require_ready()
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            self.fail(_("no staff user %(user)r") % {"user": username}, FOUND)
        return user

    def _secret(self, username: str, secret: str, policy) -> None:
        issuer = policy.organisation.brand or policy.organisation.name
        self.stdout.write("    " + _("authenticator secret: %(secret)s") % {"secret": secret})
        self.stdout.write(
            "    " + _("or scan/open: %(uri)s") % {"uri": totp.uri(secret, username, issuer)}
        )
        self.stdout.write(
            _(
                "Add it to an authenticator app now: it is shown this once. Logging in asks for "
                "the six-digit code the app shows."
            )
        )
