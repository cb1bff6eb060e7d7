"""`gallra api token create USERNAME --name NAME | list | revoke NAME`: tokens for the HTTP
API (docs/api.md). A token acts with its user's permissions; it is printed once."""

from __future__ import annotations

import getpass

from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from gallra.api.models import ApiToken, TokenError
from gallra.policy.command import FOUND, USAGE, GallraCommand


class Command(GallraCommand):
    help = gettext_lazy("Make, list and revoke the bearer tokens of the HTTP API (/api/v1/).")
    examples = (
        "gallra api token create admin --name crm",
        "gallra api token list",
        "gallra api token list --format json",
        "gallra api token revoke crm",
    )

    def add_arguments(self, parser):
        token = self.action(
            parser,
            "token",
            self.token,
            help=gettext_lazy("bearer tokens, each acting for one staff user"),
        )
        p = self._token_action(
            token,
            "create",
            self.create,
            gettext_lazy("make a token for a user and print it, once"),
        )
        p.add_argument(
            "username", help=gettext_lazy("the staff user whose permissions the token has")
        )
        p.add_argument(
            "--name",
            required=True,
            help=gettext_lazy("what the token is for, e.g. billing-sync"),
        )
        p = self._token_action(
            token,
            "list",
            self.list_tokens,
            gettext_lazy("every token: whom it acts for, when last used"),
        )
        self.add_format(p)
        p = self._token_action(
            token, "revoke", self.revoke, gettext_lazy("refuse a token from now on")
        )
        p.add_argument("name", help=gettext_lazy("the token's name"))

    def _token_action(self, token, name: str, run, help: str):
        """`gallra api token NAME`, its help ending with its own examples."""
        sub = self.action(token, name, run, help=help)
        sub.epilog = self._epilog([e for e in self.examples if f" api token {name}" in e])
        return sub

    def token(self, options: dict) -> None:
        """Not reached: argparse requires create, list or revoke."""
        self.fail(_("`gallra api token create|list|revoke`"), USAGE)

    def create(self, options: dict) -> None:
        user = get_user_model().objects.filter(username=options["username"]).first()
        if user is None:
            self.fail(_("no user '%(name)s'") % {"name": options["username"]}, USAGE)
        try:
            made = ApiToken.issue(options["name"], user, now=timezone.now(), actor=_actor())
        except TokenError as exc:
            self.fail(str(exc), FOUND)
        self.stdout.write(made)

    def revoke(self, options: dict) -> None:
        try:
            ApiToken.revoke(options["name"], now=timezone.now(), actor=_actor())
        except TokenError as exc:
            self.fail(str(exc), FOUND)
        self.stdout.write(_("token %(name)s revoked") % {"name": options["name"]})

    def list_tokens(self, options: dict) -> None:
        tokens = ApiToken.objects.select_related("user")
        if options["format"] == "json":
            self.write_json(
                [
                    {
                        "name": t.name,
                        "user": t.user.get_username(),
                        "created": t.created.isoformat(),
                        "last_used": t.last_used and t.last_used.isoformat(),
                        "revoked": t.revoked and t.revoked.isoformat(),
                    }
                    for t in tokens
                ]
            )
            return
        for token in tokens:
            used = f"{localtime(token.last_used):%Y-%m-%d %H:%M}" if token.last_used else _("never")
            line = _("%(name)s  for %(user)s  made %(made)s  last used %(used)s") % {
                "name": token.name,
                "user": token.user.get_username(),
                "made": f"{localtime(token.created):%Y-%m-%d}",
                "used": used,
            }
            if token.revoked:
                line += "  " + _("revoked %(day)s") % {
                    "day": f"{localtime(token.revoked):%Y-%m-%d}"
                }
            self.stdout.write(line)


def _actor() -> str:
    return f"cli:{getpass.getuser()}"
