"""The privacy notice, built from the policy file (Art. 12-14): what, why, on which basis,
how long, who answers, the promises, the subject's rights, and the cookies.

Each statement carries the policy clauses it keeps (P1 ... P24), so that a reader (and a
test) can trace every promise of the provider's published policy to the words shown. The
clauses are the ones the policy file gives (`clauses` of its categories and rules); gallra's
own statements (promises, security) follow JufCorp's numbering and are shown only when the
policy numbers its clauses at all: a policy without `clauses` shows none.

Every duration, window, country, password rule and reveal period is said from its structured
key (backups.window, logins.sealed_ip_key_lifetime, ...), never from free text.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.apps import apps
from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext, ngettext, pgettext

from gallra.policy import describe
from gallra.policy.durations import CookieDuration, Duration
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


def country(code: str, lang: str) -> str:
    """A country by its name in `lang` ("Sverige"); an unknown code as it is."""
    with translation.override(lang):
        names = {
            "SE": pgettext("country", "Sweden"),
            "NO": pgettext("country", "Norway"),
            "DK": pgettext("country", "Denmark"),
            "FI": pgettext("country", "Finland"),
            "DE": pgettext("country", "Germany"),
            "IE": pgettext("country", "Ireland"),
            "NL": pgettext("country", "the Netherlands"),
            "US": pgettext("country", "the United States"),
        }
    return names.get(code, code)


def join(items: list[str], lang: str) -> str:
    """ "a, b och c": a list as a reader writes it in `lang`."""
    if len(items) <= 1:
        return "".join(items)
    with translation.override(lang):
        return gettext("%(items)s and %(last)s") % {
            "items": ", ".join(items[:-1]),
            "last": items[-1],
        }


def subjects_text(subjects: list[str], lang: str) -> str:
    """Whom a category concerns ("kunder och användare"); an unknown kind as it is named."""
    with translation.override(lang):
        names = {
            "customers": pgettext("data subjects", "customers"),
            "users": pgettext("data subjects", "users"),
            "prospects": pgettext("data subjects", "prospective customers"),
            "visitors": pgettext("data subjects", "website visitors"),
            "staff": pgettext("data subjects", "staff members"),
        }
    return join([names.get(s, s) for s in subjects], lang)


def duration_text(duration: Duration | CookieDuration, lang: str) -> str:
    """A retention duration ("1 år") or a cookie's ("30 minuter", "until you close the
    browser") in `lang`."""
    with translation.override(lang):
        if isinstance(duration, CookieDuration):
            return describe.cookie_duration_text(duration)
        return describe.duration_text(duration)


def uses_clauses(policy: Policy) -> bool:
    """Whether the policy numbers its clauses (P1 ...): only then are clause ids shown."""
    return any(c.clauses for c in policy.category) or any(r.clauses for r in policy.rule)


def _clauses(policy: Policy, statements: list[Statement]) -> list[Statement]:
    """gallra's own statements, without their clause ids for a policy that has none."""
    if uses_clauses(policy):
        return statements
    return [Statement(s.text) for s in statements]


def area_names(policy: Policy, lang: str) -> list[tuple[str, str]]:
    """(area, role) for each area of responsibility, both by their names in `lang`."""
    with translation.override(lang):
        return [
            (describe.area_name(area), role_name(policy, role, lang))
            for area, role in policy.responsibilities.items()
        ]


def rule_text(rule: Rule, lang: str) -> str:
    with translation.override(lang):
        return _rule_text(rule, lang)


def _rule_text(rule: Rule, lang: str) -> str:
    if rule.action == "manual":
        text = gettext("%(rule)s: deleted by hand") % {"rule": describe.rule_text(rule)}
        return text + (
            f" ({rule.task[lang] if isinstance(rule.task, dict) else rule.task})"
            if rule.task
            else ""
        )
    text = describe.rule_text(rule)
    if "hold" in rule.unless:
        text = gettext(
            "%(rule)s, unless an agreement, an ongoing negotiation or a legal requirement "
            "justifies longer"
        ) % {"rule": text}
    if "other_role" in rule.unless:
        text = gettext("%(rule)s, or longer while the person has another role at the customer") % {
            "rule": text
        }
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
    with translation.override(lang):
        basis = describe.legal_basis_text(category.legal_basis)
    if category.legal_source:
        basis += f" ({category.legal_source})"
    clauses = list(dict.fromkeys([*category.clauses, *(c for r in rules for c in r.clauses)]))
    return CategoryBlock(
        id=category.id,
        name=policy.text(category.name, lang),
        data=data,
        purpose=policy.text(category.purpose, lang),
        basis=basis,
        how_long=[rule_text(r, lang) for r in rules],
        responsible=role_name(policy, category.responsible, lang),
        subjects=subjects_text(category.subjects, lang),
        clauses=clauses,
    )


def contact(policy: Policy) -> str:
    org = policy.organisation
    return ", ".join(x for x in (org.email, org.phone, org.address) if x)


def promises(policy: Policy, lang: str) -> list[Statement]:
    c = policy.commitments
    out = []
    with translation.override(lang):
        if c.home_directories_private:
            text = gettext(
                "No user gets access to another user's home directory without explicit agreement."
            )
            out.append(Statement(text, ["P3"]))
        if not c.third_party_access:
            text = gettext(
                "We use no third-party suppliers with insight into our data, our customers' "
                "data or our customer register, and our servers are not accessible to third "
                "parties."
            )
            out.append(Statement(text, ["P10"]))
        if not c.share_with_third_parties:
            out.append(Statement(gettext("We share no data with third parties."), ["P14"]))
        if not c.advertising_mailings:
            out.append(Statement(gettext("We send no advertising mailings."), ["P14"]))
        if not c.customer_trademarks_in_marketing:
            text = gettext("We do not use our customers' trademarks in our marketing.")
            out.append(Statement(text, ["P9"]))
        if not c.website_stores_personal_data:
            text = gettext("Our website stores no personal data unless you type it in.")
            out.append(Statement(text, ["P20"]))
        if not c.contact_form_stores_messages:
            text = gettext(
                "Messages from the contact form reach us as e-mail and are not stored on the "
                "website; the mail is deleted under the rule for correspondence."
            )
            out.append(Statement(text, ["P21"]))
    return _clauses(policy, out)


def _passwords(n: int, two_factor: bool) -> str:
    if two_factor:
        return ngettext(
            "Staff passwords have at least %(n)d character and login needs two factors.",
            "Staff passwords have at least %(n)d characters and login needs two factors.",
            n,
        ) % {"n": n}
    return ngettext(
        "Staff passwords have at least %(n)d character.",
        "Staff passwords have at least %(n)d characters.",
        n,
    ) % {"n": n}


def _backups(encrypted: bool, window: str, countries: str) -> str:
    values = {"window": window, "countries": countries}
    if encrypted:
        return (
            gettext(
                "Disaster-recovery backups are encrypted and kept for at most %(window)s, in "
                "%(countries)s. So after an agreement has ended nothing remains that could be "
                "restored."
            )
            % values
        )
    return (
        gettext(
            "Disaster-recovery backups are unencrypted and kept for at most %(window)s, in "
            "%(countries)s. So after an agreement has ended nothing remains that could be "
            "restored."
        )
        % values
    )


def security(policy: Policy, lang: str) -> list[Statement]:
    s, lg, b = policy.security, policy.logins, policy.backups
    countries = join([country(c, lang) for c in b.countries], lang)
    allowed = join([country(c, lang) for c in policy.residency.allowed_countries], lang)
    with translation.override(lang):
        logins = gettext(
            "Logins are logged with the IP address shortened (IPv4 to /%(v4)s, IPv6 to "
            "/%(v6)s) and the location as a country. The full address is stored encrypted and "
            "can only be opened by %(k)s of %(n)s key holders together, when an authority "
            "asks, for at most %(life)s; after that it cannot be recovered."
        ) % {
            "v4": lg.ipv4_prefix,
            "v6": lg.ipv6_prefix,
            "k": lg.escrow_threshold,
            "n": lg.escrow_shares,
            "life": describe.duration_text(lg.sealed_ip_key_lifetime),
        }
        return _clauses(
            policy,
            [
                Statement(policy.text(s.measures, lang), ["P8", "P10"]),
                Statement(_passwords(s.password_min_length, s.two_factor), ["P8"]),
                Statement(logins, ["P6", "P7"]),
                Statement(
                    _backups(b.encrypted, describe.duration_text(b.window), countries),
                    ["P11", "P18"],
                ),
                Statement(
                    gettext("All data stays within %(countries)s.") % {"countries": allowed},
                    ["P12"],
                ),
            ],
        )


def privacy_centre_url() -> str:
    return settings.GALLRA_BASE_URL.rstrip("/") + reverse("notice:centre")


def rights() -> list[str]:
    """The subject's rights (Art. 15-21, 7(3)), each ending "Du har rätt att ..."."""
    return [
        gettext("know what data we hold about you and get a copy (access)"),
        gettext("have wrong data corrected"),
        gettext("have data erased, except what the law requires us to keep"),
        gettext("ask for processing to be restricted"),
        gettext("receive your data in a machine-readable format (portability)"),
        gettext("object to processing based on legitimate interests"),
        gettext("withdraw a consent, as easily as you gave it"),
    ]


def render(policy: Policy, lang: str) -> str:
    """The notice as one self-contained HTML page, in `lang` if the policy speaks it."""
    if lang not in policy.languages:
        lang = policy.languages[0]
    with translation.override(lang):
        return _render(policy, lang)


def _render(policy: Policy, lang: str) -> str:
    org = policy.organisation
    name = org.brand and f"{org.name} ({org.brand})" or org.name
    areas = area_names(policy, lang)
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
                        "third_party": pgettext("personal data", "yes")
                        if c.third_party
                        else pgettext("personal data", "no"),
                    }
                    for c, service in cookies
                ],
            }
        )
    return render_to_string(
        "notice/notice.html",
        {
            "lang": lang,
            "title": gettext("Privacy notice of %(org)s") % {"org": org.brand or org.name},
            "intro": gettext(
                "This notice says what personal data we hold, why, for how long, who is "
                "responsible and what your rights are. It is generated from the same policy "
                "file that runs our systems, so it describes what they actually do."
            ),
            "organisation": org,
            "opening_hours": policy.text(org.opening_hours, lang),
            "show_clauses": uses_clauses(policy),
            "org_name": name,
            "accountable": gettext("Ultimately responsible: %(role)s. Within each area:")
            % {"role": role_name(policy, org.accountable, lang)},
            "areas": areas,
            "categories": [category_block(policy, c, lang) for c in policy.category],
            "promises": promises(policy, lang),
            "security": security(policy, lang),
            "recipients": recipients,
            "rights": rights(),
            "rights_how": gettext(
                "Send your request through our privacy centre: %(url)s. We confirm it is you "
                "with a one-time link to your e-mail address and answer within one month. You "
                "can also contact us: %(contact)s."
            )
            % {"url": privacy_centre_url(), "contact": contact(policy)},
            "cookies_intro": gettext(
                "The website sets only necessary cookies before you choose. Other categories "
                "are used only if you say yes; going on using the website is not taken as a "
                "yes. You can change your mind at any time through the Cookie settings link on "
                "every page. We ask again after %(renew)s and whenever the categories change."
            )
            % {"renew": describe.duration_text(policy.cookies.renew_after)},
            "cookie_categories": cookie_categories,
            "version": gettext("Version %(revision)s of the policy.")
            % {"revision": policy.revision},
        },
    )
