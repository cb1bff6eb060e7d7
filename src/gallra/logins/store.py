"""Login events as a retention store: `enforce` purges them after their rule and destroys the
keys of months past the reveal period (retention.py); a deleted account's name is forgotten."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime

from django.db.models import QuerySet
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from gallra.logins.models import WebEventSeen
from gallra.logins.retention import forget_accounts, purge
from gallra.policy.model import Policy
from gallra.retention.own import OwnDataStore, made_before
from gallra.retention.stores import Store


class LoginStore(Store):
    id = "logins"
    order = 10  # after the registry, before the mailboxes (as before stores had a name)

    def enforce(
        self,
        policy: Policy,
        at: date,
        *,
        actor: str,
        now: Callable[[], datetime],
        dry_run: bool = False,
    ) -> dict:
        return purge(policy, at, now(), actor, dry_run=dry_run)

    def summary_lines(self, part: dict, lang: str) -> list[str]:
        lines = []
        with translation.override(lang):
            if part.get("deleted"):
                n = part["deleted"]
                said = ngettext("%(rule)s: %(n)s login", "%(rule)s: %(n)s logins", n)
                lines.append("  " + said % {"rule": part["rule"], "n": n})
            for month in part.get("keys_destroyed", []):
                lines.append(
                    "  "
                    + _(
                        "Keys of the logins of %(month)s destroyed: their addresses can never "
                        "be shown."
                    )
                    % {"month": month}
                )
        return lines

    def would_delete(self, part: dict) -> int:
        return part.get("deleted", 0)


class WebEventMarkStore(OwnDataStore):
    """The web ingest's duplicate marks (own_data `duplicate_marks`), counted from the day each
    event was received: a sender's retry comes within hours; a mark is not needed after."""

    id = "web_event_marks"
    kind = "duplicate_marks"
    record_type = "web_event_mark"

    def due(self, policy: Policy, at: date) -> QuerySet:
        before = made_before(policy, self.kind, at)
        if before is None:
            return WebEventSeen.objects.none()
        return WebEventSeen.objects.filter(received__lt=before)

    def said(self, n: int) -> str:
        return ngettext(
            "%(rule)s: %(n)s mark of a received web login event",
            "%(rule)s: %(n)s marks of received web login events",
            n,
        )


def forget_deleted_accounts(sender, record_type: str, names: Iterable[str] = (), **kwargs) -> None:
    """`enforce` deleted accounts: their login events keep the names only as pseudonyms."""
    if record_type == "account" and names:
        forget_accounts(names)
