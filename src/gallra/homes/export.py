"""Access grants in a subject's data export (Art. 15): the owner sees who may enter their
home, the grantee whose home they may enter. Of the other party only the username is shown,
the name the grant gives access by."""

from __future__ import annotations

from django.db.models import Q

from gallra.homes.models import AccessGrant
from gallra.policy.model import Policy
from gallra.subjects.registry_store import STORE, Item, field_categories


def grant_items(policy: Policy, items: list[Item]) -> list[Item]:
    """The grants naming any of the subject's accounts, one item per side the subject is on."""
    refs = {i.key for i in items if i.store == STORE and i.table == "account"}
    if not refs:
        return []
    categories = field_categories(policy)
    username, home = categories.get("account.username", ""), categories.get("account.home", "")
    grants = (
        AccessGrant.objects.filter(Q(owner__ref__in=refs) | Q(grantee__ref__in=refs))
        .select_related("owner", "grantee", "agreement")
        .order_by("pk")
    )
    out = []
    for g in grants:
        terms = {
            "agreement": g.agreement.ref,
            "until": g.until.isoformat(),
            "read_only": g.read_only,
            "granted": g.created.date().isoformat(),
        }
        if g.owner.ref in refs:
            values = {
                "account": g.owner.username,
                "home": g.owner.home,
                "access_for": g.grantee.username,
                **terms,
            }
            out.append(
                Item(
                    STORE,
                    "access_grant",
                    g.ref,
                    values,
                    {"account": username, "home": home},
                    g.created.date(),
                )
            )
        if g.grantee.ref in refs:
            values = {"account": g.grantee.username, "access_to_home_of": g.owner.username, **terms}
            out.append(
                Item(STORE, "access_grant", g.ref, values, {"account": username}, g.created.date())
            )
    return out
