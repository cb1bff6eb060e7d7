"""The privacy notice, built from the policy file (Art. 12-14): what, why, on which basis,
how long, who answers, the promises, the subject's rights, and the cookies.

Each statement carries the policy clauses it keeps (P1 ... P24), so that a reader (and a
test) can trace every promise of the provider's published policy to the words shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.apps import apps
from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from gallra.notice.words import HOLD, MANUAL, OTHER_ROLE, SUBJECTS, T, country, i, join, t
from gallra.policy import words as policy_words
from gallra.policy.durations import Duration
from gallra.policy.model import Category, Policy, Rule
from gallra.registry.models import BY_RECORD_TYPE


@dataclass
class Statement:
    text: str
    clauses: list[str] = field(default_factory=list)


@dataclass
class CategoryBlock:
    id: str
    name: str
    data: str
    purpose: str
    basis: str
    how_long: list[str]
    responsible: str
    subjects: str
    clauses: list[str]


def field_words(fields: list[str], lang: str) -> list[str]:
    """Registry fields ("person.email") as the admin names them ("e-post")."""
    out = []
    with translation.override(lang):
        for name in fields:
            record_type, column = name.split(".", 1)
            model = BY_RECORD_TYPE.get(record_type) or apps.get_model("registry", record_type)
            out.append(str(model._meta.get_field(column).verbose_name))
    return list(dict.fromkeys(out))


def duration_text(duration: Duration, lang: str) -> str:
    return policy_words.duration_words(duration, lang)


def rule_text(rule: Rule, lang: str) -> str:
    if rule.action == "manual":
        text = f"{policy_words.rule_words(rule, lang)}: {MANUAL[i(lang)]}"
        return text + (
            f" ({rule.task[lang] if isinstance(rule.task, dict) else rule.task})"
            if rule.task
            else ""
        )
    text = policy_words.rule_words(rule, lang)
    if "hold" in rule.unless:
        text += f", {HOLD[i(lang)]}"
    if "other_role" in rule.unless:
        text += f", {OTHER_ROLE[i(lang)]}"
    if rule.legal_source:
        text += f" ({rule.legal_source})"
    if rule.description:
        text += ". " + (
            rule.description.get(lang) or next(iter(rule.description.values()))
            if isinstance(rule.description, dict)
            else rule.description
        )
    return text


def role_name(policy: Policy, role_id: str, lang: str) -> str:
    role = next((r for r in policy.role if r.id == role_id), None)
    return policy.text(role.name, lang) if role else role_id


def category_block(policy: Policy, category: Category, lang: str) -> CategoryBlock:
    data = join(field_words(category.fields, lang), lang) if category.fields else ""
    if category.held_outside is not None:
        outside = policy.text(category.held_outside, lang)
        data = f"{data}; {outside}" if data else outside
    rules = policy.rules_for(category.id)
    basis = policy_words.BASES[category.legal_basis][i(lang)]
    if category.legal_source:
        basis += f" ({category.legal_source})"
    clauses = list(dict.fromkeys([*category.clauses, *(c for r in rules for c in r.clauses)]))
    subjects = [SUBJECTS.get(s, (s, s))[i(lang)] for s in category.subjects]
    return CategoryBlock(
        id=category.id,
        name=policy.text(category.name, lang),
        data=data,
        purpose=policy.text(category.purpose, lang),
        basis=basis,
        how_long=[rule_text(r, lang) for r in rules],
        responsible=role_name(policy, category.responsible, lang),
        subjects=join(subjects, lang),
        clauses=clauses,
    )


def contact(policy: Policy) -> str:
    org = policy.organisation
    return ", ".join(x for x in (org.email, org.phone, org.address) if x)


def promises(policy: Policy, lang: str) -> list[Statement]:
    c = policy.commitments
    out = []
    if c.home_directories_private:
        out.append(Statement(t("home_directories_private", lang), ["P3"]))
    if not c.third_party_access:
        out.append(Statement(t("no_third_party_access", lang), ["P10"]))
    if not c.share_with_third_parties:
        out.append(Statement(t("no_sharing", lang), ["P14"]))
    if not c.advertising_mailings:
        out.append(Statement(t("no_advertising", lang), ["P14"]))
    if not c.customer_trademarks_in_marketing:
        out.append(Statement(t("no_trademarks", lang), ["P9"]))
    if not c.website_stores_personal_data:
        out.append(Statement(t("website", lang), ["P20"]))
    if not c.contact_form_stores_messages:
        out.append(Statement(t("contact_form", lang), ["P21"]))
    return out


def security(policy: Policy, lang: str) -> list[Statement]:
    s, lg, b = policy.security, policy.logins, policy.backups
    two = t("two_factor", lang) if s.two_factor else ""
    countries = join([country(c, lang) for c in b.countries], lang)
    return [
        Statement(policy.text(s.measures, lang), ["P8", "P10"]),
        Statement(t("passwords", lang, n=s.password_min_length, two=two), ["P8"]),
        Statement(
            t(
                "logins",
                lang,
                v4=lg.ipv4_prefix,
                v6=lg.ipv6_prefix,
                k=lg.escrow_threshold,
                n=lg.escrow_shares,
                life=duration_text(lg.sealed_ip_key_lifetime, lang),
            ),
            ["P6", "P7"],
        ),
        Statement(
            t(
                "backups",
                lang,
                enc=t("encrypted" if b.encrypted else "unencrypted", lang),
                window=duration_text(b.window, lang),
                countries=countries,
            ),
            ["P11", "P18"],
        ),
        Statement(
            t(
                "residency",
                lang,
                countries=join(
                    [country(c, lang) for c in policy.residency.allowed_countries], lang
                ),
            ),
            ["P12"],
        ),
    ]


def privacy_centre_url() -> str:
    return settings.GALLRA_BASE_URL.rstrip("/") + reverse("notice:centre")


def render(policy: Policy, lang: str) -> str:
    """The notice as one self-contained HTML page."""
    if lang not in policy.languages:
        lang = policy.languages[0]
    org = policy.organisation
    name = org.brand and f"{org.name} ({org.brand})" or org.name
    areas = [
        (area.replace("_", " "), role_name(policy, role, lang))
        for area, role in policy.responsibilities.items()
    ]
    recipients = [
        {
            "name": r.name,
            "kind": r.kind,
            "country": country(r.country, lang),
            "purpose": policy.text(r.purpose, lang),
            "safeguards": r.safeguards,
        }
        for r in policy.recipient
    ]
    cookie_categories = []
    for category in policy.cookies.category:
        cookies = [(c, None) for c in category.cookie]
        cookies += [(c, s.name) for s in category.service for c in s.cookie]
        cookie_categories.append(
            {
                "name": policy.text(category.name, lang),
                "purpose": policy.text(category.purpose, lang),
                "required": category.required,
                "services": [
                    s.name + (f" ({s.provider})" if s.provider else "") for s in category.service
                ],
                "cookies": [
                    {
                        "name": c.name,
                        "service": service,
                        "purpose": policy.text(c.purpose, lang),
                        "duration": duration_text(c.duration, lang),
                        "third_party": t("yes" if c.third_party else "no", lang),
                    }
                    for c, service in cookies
                ],
            }
        )
    return render_to_string(
        "notice/notice.html",
        {
            "lang": lang,
            "t": {
                k: t(k, lang)
                for k in (
                    "controller",
                    "responsible",
                    "data",
                    "what",
                    "why",
                    "basis",
                    "how_long",
                    "who",
                    "about",
                    "promises",
                    "security",
                    "recipients",
                    "rights",
                    "rights_intro",
                    "complaint",
                    "cookies",
                    "cookie",
                    "duration",
                    "third_party",
                    "service",
                    "required",
                    "no_recipients",
                )
            },
            "title": t("title", lang, org=org.brand or org.name),
            "intro": t("intro", lang),
            "organisation": org,
            "org_name": name,
            "accountable": t("accountable", lang, role=role_name(policy, org.accountable, lang)),
            "areas": areas,
            "categories": [category_block(policy, c, lang) for c in policy.category],
            "promises": promises(policy, lang),
            "security": security(policy, lang),
            "recipients": recipients,
            "rights": T["rights_list"][i(lang)],
            "rights_how": t("rights_how", lang, url=privacy_centre_url(), contact=contact(policy)),
            "cookies_intro": t(
                "cookies_intro", lang, renew=duration_text(policy.cookies.renew_after, lang)
            ),
            "cookie_categories": cookie_categories,
            "version": t("version", lang, revision=policy.revision),
        },
    )
