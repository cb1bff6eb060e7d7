"""`gallra api token create USERNAME --name NAME | list | revoke NAME`: tokens for the HTTP
API (docs/api.md). A token acts with its user's permissions; it is printed once."""

from __future__ import annotations

import getpass

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.timezone import localtime

from gallra.api.models import ApiToken, TokenError


class Command(BaseCommand):
    help = "Make, list and revoke the bearer tokens of the HTTP API (/api/v1/)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        token = sub.add_parser("token", help="bearer tokens, each acting for one staff user")
        actions = token.add_subparsers(dest="what", required=True)
        p = actions.add_parser("create", help="make a token for a user and print it, once")
        p.add_argument("username", help="the staff user whose permissions the token has")
        p.add_argument("--name", required=True, help="what the token is for, e.g. billing-sync")
        actions.add_parser("list", help="every token: whom it acts for, when last used")
        p = actions.add_parser("revoke", help="refuse a token from now on")
        p.add_argument("name")

    def handle(self, *args, **options):
        now, actor = timezone.now(), f"cli:{getpass.getuser()}"
        try:
            if options["what"] == "create":
                user = get_user_model().objects.filter(username=options["username"]).first()
                if user is None:
                    raise CommandError(f"no user {options['username']!r}", returncode=2)
                self.stdout.write(ApiToken.issue(options["name"], user, now=now, actor=actor))
            elif options["what"] == "revoke":
                ApiToken.revoke(options["name"], now=now, actor=actor)
                self.stdout.write(f"token {options['name']} revoked")
            else:
                self._list()
        except TokenError as exc:
            raise CommandError(str(exc), returncode=1) from exc

    def _list(self) -> None:
        for token in ApiToken.objects.select_related("user"):
            used = f"{localtime(token.last_used):%Y-%m-%d %H:%M}" if token.last_used else "never"
            line = (
                f"{token.name}  for {token.user.get_username()}  made "
                f"{localtime(token.created):%Y-%m-%d}  last used {used}"
            )
            if token.revoked:
                line += f"  revoked {localtime(token.revoked):%Y-%m-%d}"
            self.stdout.write(line)
