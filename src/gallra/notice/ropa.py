"""The record of processing activities (GDPR Art. 30(1)), one row per activity, from the
policy file. An activity is a category of the policy: one purpose, one legal basis, one
set of retention rules. The fields are those of Art. 30(1)(a)-(g), as the Swedish
regulator IMY's checklist lists them; `gallra policy check` refuses a policy that would
leave one empty.
"""

from __future__ import annotations

import csv
import io
import json

from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext, pgettext

from gallra.notice.content import category_block, contact, country, join, role_name, security
from gallra.policy.loading import EEA
from gallra.policy.model import Policy

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
        outside = [r for r in recipients if r.country not in EEA]
        outside_places = sorted(c for c in places if c not in EEA)
        if outside or outside_places:
            transfers = "; ".join(
                [f"{r.name} ({country(r.country, lang)}): {r.safeguards}" for r in outside]
                + [country(c, lang) for c in outside_places]
            )
        else:
            names = join([country(c, lang) for c in sorted(places)], lang)
            with translation.override(lang):
                transfers = gettext("None: all data stays within the EU/EEA (%(countries)s).") % {
                    "countries": names
                }
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
    return rows


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
