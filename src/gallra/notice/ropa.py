"""The record of processing activities (GDPR Art. 30(1)), one row per activity, from the
policy file. An activity is a category of the policy: one purpose, one legal basis, one
set of retention rules. The fields are those of Art. 30(1)(a)-(g), as the Swedish
regulator IMY's checklist lists them; `gallra policy check` refuses a policy that would
leave one empty.

A cookie category of the website that is not necessary and declares cookies (visitor
statistics, embedded video, ...) is an activity too, after the categories: on consent (Art.
6(1)(a), and the cookie rule of the ePrivacy directive, in Sweden LEK 9 kap. 28 §), for the
website's visitors, kept as long as its cookies last.
"""

from __future__ import annotations

import csv
import io
import json

from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext, pgettext

from gallra.notice.content import (
    category_block,
    contact,
    country,
    duration_text,
    join,
    role_name,
    security,
    subjects_text,
)
from gallra.policy.loading import EEA
from gallra.policy.model import CookieCategory, Policy, Recipient

# The columns: key, and the letter of Art. 30(1) it answers ("" for the activity's name).
FIELDS = [
    ("activity", ""),
    ("controller", "a"),
    ("purposes", "b"),
    ("subjects", "c"),
    ("data", "c"),
    ("recipients", "d"),
    ("transfers", "e"),
    ("erasure", "f"),
    ("security", "g"),
]


def _field_name(key: str) -> str:
    names = {
        "activity": gettext("Processing activity"),
        "controller": gettext("Controller and contact details"),
        "purposes": gettext("Purposes and legal basis"),
        "subjects": gettext("Categories of data subjects"),
        "data": gettext("Categories of personal data"),
        "recipients": gettext("Categories of recipients"),
        "transfers": gettext("Transfers to third countries and safeguards"),
        "erasure": gettext("Time limits for erasure"),
        "security": gettext("Technical and organisational security measures"),
    }
    return names[key]


def activities(policy: Policy, lang: str) -> list[dict[str, str]]:
    org = policy.organisation
    controller = ", ".join(x for x in (org.name, org.org_number, contact(policy)) if x)
    controller += f"; {role_name(policy, org.accountable, lang)}"
    measures = " ".join(s.text for s in security(policy, lang))
    places = set(policy.residency.allowed_countries) | set(policy.backups.countries)
    places |= {s.country for s in policy.store} | {d.country for d in policy.dataset}
    rows = []
    for category in policy.category:
        block = category_block(policy, category, lang)
        recipients = [r for r in policy.recipient if category.id in r.categories]
        transfers = _transfers(recipients, places, lang)
        rows.append(
            {
                "activity": block.name,
                "controller": controller,
                "purposes": f"{block.purpose} ({block.basis})",
                "subjects": block.subjects,
                "data": block.data,
                "recipients": "; ".join(
                    f"{r.name} ({r.kind}): {policy.text(r.purpose, lang)}" for r in recipients
                )
                or _none(lang),
                "transfers": transfers,
                "erasure": "; ".join(block.how_long),
                "security": measures,
            }
        )
    own = _transfers([], places, lang)  # the provider's own servers
    for cookie_category in policy.cookies.category:
        row = cookie_activity(policy, cookie_category, lang, own)
        if row is not None:
            rows.append(row | {"controller": controller, "security": measures})
    return rows


def _transfers(recipients: list[Recipient], places: set[str], lang: str) -> str:
    """Art. 30(1)(e): the recipients and places outside the EU/EEA, or that there are none."""
    outside = [r for r in recipients if r.country not in EEA]
    outside_places = sorted(c for c in places if c not in EEA)
    if outside or outside_places:
        return "; ".join(
            [f"{r.name} ({country(r.country, lang)}): {r.safeguards}" for r in outside]
            + [country(c, lang) for c in outside_places]
        )
    names = join([country(c, lang) for c in sorted(places)], lang)
    with translation.override(lang):
        return gettext("None: all data stays within the EU/EEA (%(countries)s).") % {
            "countries": names
        }


def _consent_basis(policy: Policy) -> str:
    """Consent (Art. 6(1)(a)) and the law that asks it for a cookie: LEK in Sweden, else the
    ePrivacy directive itself."""
    if policy.organisation.country == "SE":
        return gettext(
            "consent, GDPR Art. 6(1)(a); for the cookies, consent under the Electronic "
            "Communications Act (2022:482) chapter 9 section 28"
        )
    return gettext(
        "consent, GDPR Art. 6(1)(a); for the cookies, consent under Art. 5(3) of the ePrivacy "
        "Directive (2002/58/EC)"
    )


def cookie_activity(
    policy: Policy, category: CookieCategory, lang: str, own_transfers: str
) -> dict[str, str] | None:
    """The activity of a cookie category the visitor must say yes to ("Visitor statistics on
    the website"), or None for the necessary one and a category that sets no cookie; without
    `controller` and `security`, which are those of every activity. `own_transfers`: what
    Art. 30(1)(e) says of the provider's own servers, where cookies it reads itself end up."""
    cookies = list(category.cookie) + [c for s in category.service for c in s.cookie]
    if category.required or not cookies:
        return None
    lasts = [(c.name, duration_text(c.duration, lang)) for c in cookies]
    with translation.override(lang):
        # Who reads the category's cookies besides the provider: its services' providers, and
        # whoever sets a cookie declared readable by a third party.
        providers = [f"{s.provider} ({s.name})" if s.provider else s.name for s in category.service]
        providers += [
            gettext("the third party that sets %(cookie)s") % {"cookie": c.name}
            for c in category.cookie
            if c.third_party
        ]
        providers = list(dict.fromkeys(providers))
        basis = _consent_basis(policy)
        data = gettext(
            "Cookies in the visitor's browser (what each is for, and how long it lasts): "
            "%(cookies)s"
        ) % {
            "cookies": "; ".join(
                f"{name}: {policy.text(c.purpose, lang).rstrip('.')} ({duration})"
                for (name, duration), c in zip(lasts, cookies, strict=True)
            )
        }
        if providers:
            recipients = gettext(
                "%(providers)s, which reads its cookies in the visitor's browser"
            ) % {"providers": join(providers, lang)}
            transfers = gettext(
                "Decided by %(providers)s, which receives the data directly from the visitor's "
                "browser: see its own privacy notice."
            ) % {"providers": join(providers, lang)}
        else:
            recipients = pgettext("recipients", "None")
            transfers = own_transfers
        # The banner deletes on withdrawal only the cookies the website itself can reach.
        if category.service or any(c.third_party for c in cookies):
            erasure = gettext(
                "Each cookie ends after its duration; the website's own cookies also when the "
                "visitor withdraws consent: %(cookies)s"
            )
        else:
            erasure = gettext(
                "Each cookie ends after its duration, or when the visitor withdraws consent: "
                "%(cookies)s"
            )
        erasure %= {"cookies": "; ".join(f"{name}: {duration}" for name, duration in lasts)}
        name = gettext("%(category)s on the website") % {
            "category": policy.text(category.name, lang)
        }
        return {
            "activity": name,
            "purposes": f"{policy.text(category.purpose, lang)} ({basis})",
            "subjects": subjects_text(["visitors"], lang),
            "data": data,
            "recipients": recipients,
            "transfers": transfers,
            "erasure": erasure,
        }


def _none(lang: str) -> str:
    with translation.override(lang):
        return pgettext("recipients", "None")


def headings(lang: str) -> dict[str, str]:
    out = {}
    with translation.override(lang):
        for key, letter in FIELDS:
            name = _field_name(key)
            out[key] = f"{name} (art. 30.1 {letter})" if letter else name
    return out


def render(policy: Policy, fmt: str, lang: str) -> str:
    rows = activities(policy, lang)
    names = headings(lang)
    if fmt == "json":
        return json.dumps(
            {
                "controller": policy.organisation.name,
                "revision": policy.revision,
                "fields": names,
                "activities": rows,
            },
            ensure_ascii=False,
            indent=2,
        )
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow([names[k] for k, *_ in FIELDS])
        for row in rows:
            writer.writerow([row[k] for k, *_ in FIELDS])
        return out.getvalue()
    org = policy.organisation
    with translation.override(lang):
        return render_to_string(
            "notice/ropa.html",
            {
                "lang": lang,
                "org": org.brand or org.name,
                "revision": policy.revision,
                "names": [names[k] for k, *_ in FIELDS],
                "rows": [[row[k] for k, *_ in FIELDS] for row in rows],
            },
        )
