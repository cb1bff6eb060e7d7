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

from gallra.notice.content import category_block, contact, role_name, security
from gallra.notice.words import country, i, join
from gallra.policy.loading import EEA
from gallra.policy.model import Policy

FIELDS = [
    ("activity", "Behandling", "Processing activity", ""),
    (
        "controller",
        "Personuppgiftsansvarig och kontaktuppgifter",
        "Controller and contact details",
        "a",
    ),
    ("purposes", "Ändamål och rättslig grund", "Purposes and legal basis", "b"),
    ("subjects", "Kategorier av registrerade", "Categories of data subjects", "c"),
    ("data", "Kategorier av personuppgifter", "Categories of personal data", "c"),
    ("recipients", "Kategorier av mottagare", "Categories of recipients", "d"),
    (
        "transfers",
        "Överföringar till tredjeland och skyddsåtgärder",
        "Transfers to third countries and safeguards",
        "e",
    ),
    ("erasure", "Tidsfrister för radering", "Time limits for erasure", "f"),
    (
        "security",
        "Tekniska och organisatoriska säkerhetsåtgärder",
        "Technical and organisational security measures",
        "g",
    ),
]
NONE = ("Inga", "None")
NO_TRANSFERS = (
    "Inga: alla uppgifter stannar inom EU/EES ({countries}).",
    "None: all data stays within the EU/EEA ({countries}).",
)


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
            transfers = NO_TRANSFERS[i(lang)].format(countries=names)
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
                or NONE[i(lang)],
                "transfers": transfers,
                "erasure": "; ".join(block.how_long),
                "security": measures,
            }
        )
    return rows


def headings(lang: str) -> dict[str, str]:
    out = {}
    for key, sv, en, letter in FIELDS:
        name = sv if lang == "sv" else en
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
