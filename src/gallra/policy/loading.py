"""Read a policy file and report every problem as `PATH:LINE: key: message`.

Loading runs in three steps: TOML syntax (tomllib), the shape of each key (model.py), then
the checks that tie keys together (`_cross_checks`). The first step that fails stops the
next, so one mistake does not echo as many.
"""

from __future__ import annotations

import functools
import re
import tomllib
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from gallra.policy import freetext, template
from gallra.policy.durations import Duration
from gallra.policy.locations import Path as KeyPath
from gallra.policy.locations import key_lines, line_for
from gallra.policy.model import NOT_AN_ID, NOT_AN_ID_LIKE, OWN_DATA_TRIGGERS, Policy, Text
from gallra.policy.sentences import Sentence, either, joined, said, said_n, translated

ALL_STAFF = "all_staff"
# The EU member states and Iceland, Liechtenstein and Norway: transfers elsewhere need a
# safeguard (GDPR chapter V).
EEA = frozenset(
    {
        "AT",
        "BE",
        "BG",
        "CY",
        "CZ",
        "DE",
        "DK",
        "EE",
        "ES",
        "FI",
        "FR",
        "GR",
        "HR",
        "HU",
        "IE",
        "IT",
        "LT",
        "LU",
        "LV",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SE",
        "SI",
        "SK",
        "IS",
        "LI",
        "NO",
    }
)


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    key: str
    message: str

    def __str__(self) -> str:
        where = f"{self.key}: " if self.key else ""
        return f"{self.file}:{self.line}: {where}{self.message}"

    def translated(self) -> str:
        """The problem in the active language, to show a person (str() is its English)."""
        where = f"{self.key}: " if self.key else ""
        return f"{self.file}:{self.line}: {where}{translated(self.message)}"


class PolicyError(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))

    def translated(self) -> str:
        """Every problem, one a line, in the active language."""
        return "\n".join(p.translated() for p in self.problems)


def key_name(path: KeyPath) -> str:
    """("category", 2, "fields") -> "category[2].fields"."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def load_policy(path: Path | str, known_fields: Iterable[str] | None = None) -> Policy:
    """The policy in `path`, or PolicyError listing every problem found.

    `known_fields` are the registry's personal-data fields (`record_type.field`); when given,
    each must belong to exactly one category and categories may name no others.
    """
    path = Path(path)
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(
            [Problem(name, 1, "", said("cannot read the policy file: %(error)s", error=str(exc)))]
        ) from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"\(at line (\d+), column \d+\)|\(at end of document\)", str(exc))
        line = int(match.group(1)) if match and match.group(1) else text.count("\n") + 1
        message = re.sub(r"\s*\(at (line \d+, column \d+|end of document)\)", "", str(exc))
        syntax = said("TOML syntax error: %(error)s", error=message)
        raise PolicyError([Problem(name, line, "", syntax)]) from exc

    lines = key_lines(text)
    unfilled = [
        Problem(name, line_for(lines, where), key_name(where), _unfilled(found))
        for where, found in template.placeholders(data)
    ]
    if unfilled:
        raise PolicyError(_unique(unfilled))
    try:
        policy = Policy.model_validate(data)
    except ValidationError as exc:
        problems = [_shape_problem(name, lines, error) for error in _one_per_union(exc.errors())]
        raise PolicyError(_unique(_one_per_id(problems))) from exc

    problems = [
        Problem(name, line_for(lines, where), key_name(where), message)
        for where, message in _cross_checks(policy, known_fields)
    ]
    if problems:
        raise PolicyError(_unique(problems))
    return policy


def located(path: Path | str, found: Iterable[tuple[KeyPath, str]]) -> list[Problem]:
    """Problems found outside loading (e.g. against a dataset's database), with their lines."""
    lines = key_lines(Path(path).read_text(encoding="utf-8"))
    return _unique([Problem(str(path), line_for(lines, k), key_name(k), m) for k, m in found])


def _unique(problems: list[Problem]) -> list[Problem]:
    return sorted(dict.fromkeys(problems), key=lambda p: p.line)


def _unfilled(placeholder: str) -> Sentence:
    return said(
        'unfilled placeholder "%(placeholder)s": write your own value in its place',
        placeholder=placeholder,
    )


def _one_per_id(problems: list[Problem]) -> list[Problem]:
    """One problem per wrong id, not one per key that names it: said where the id is
    defined (an `id` key), or else where it is first named, with every other use listed."""
    wrong: dict[object, list[Problem]] = {}
    others = []
    for problem in problems:
        if getattr(problem.message, "msgid", None) in (NOT_AN_ID, NOT_AN_ID_LIKE):
            wrong.setdefault(problem.message.values["value"], []).append(problem)
        else:
            others.append(problem)
    for uses in wrong.values():
        uses.sort(key=lambda p: (not re.search(r"(^|\.)id$", p.key), p.line))
        first, rest = uses[0], uses[1:]
        if rest:
            places = joined(
                ", ", (said("%(key)s (line %(line)s)", key=p.key, line=p.line) for p in rest)
            )
            message = said(
                "%(problem)s; also named at %(places)s", problem=first.message, places=places
            )
            first = Problem(first.file, first.line, first.key, message)
        others.append(first)
    return others


_TYPE_NAMES = {
    "string_type": said("a string"),
    "int_type": said("an integer"),
    "bool_type": said("true or false"),
    "list_type": said("an array"),
    "dict_type": said("a table"),
    "model_type": said("a table"),
    "model_attributes_type": said("a table"),
}


def _is_union_tag(part: str | int) -> bool:
    # Pydantic names the alternative of a union it tried ("str", "dict[str,str]",
    # "function-plain[...]"); those are not keys of the file.
    return isinstance(part, str) and bool(re.match(r"^[a-z-]+\[|^str$", part))


def _one_per_union(errors: list[dict]) -> list[dict]:
    """One error per key, where a union (Text: a string or a table) failed in each alternative.

    When the value has the type of one alternative, only that alternative's errors tell what is
    wrong (`name.sv` must be a string); otherwise the wrong-type errors are merged into one
    ("must be a string or a table").
    """
    groups: dict[tuple, list[dict]] = {}
    for error in errors:
        loc = tuple(error["loc"])
        tag = next((i for i, part in enumerate(loc) if _is_union_tag(part)), None)
        key = loc[:tag] if tag is not None else (id(error),)
        groups.setdefault(key, []).append(error)
    result = []
    for key, group in groups.items():
        if len(group) == 1:
            result.extend(group)
            continue
        type_errors = [
            e for e in group if e["type"] in _TYPE_NAMES and len(e["loc"]) == len(key) + 1
        ]
        inner = [e for e in group if e not in type_errors]
        if inner:
            result.extend(inner)
        else:
            names = list(dict.fromkeys(_TYPE_NAMES[e["type"]] for e in type_errors))
            result.append({**type_errors[0], "type": "union_type", "expected": either(names)})
    return result


def _shape_problem(name: str, lines: dict[KeyPath, int], error: dict) -> Problem:
    loc = tuple(p for p in error["loc"] if not _is_union_tag(p))
    kind = error["type"]
    found = _toml_type(error.get("input"))
    if kind == "extra_forbidden":
        message = said("unknown key")
    elif kind == "missing":
        message = said("required key is missing")
    elif kind in _TYPE_NAMES:
        message = said(
            "must be %(expected)s, not %(found)s", expected=_TYPE_NAMES[kind], found=found
        )
    elif kind == "union_type":
        message = said(
            "must be %(expected)s, not %(found)s", expected=error["expected"], found=found
        )
    elif kind == "value_error":
        message = _raised(error["ctx"]["error"])
    elif kind == "string_pattern_mismatch" and loc and loc[-2:-1] == ("clauses",):
        message = said('%(value)r is not a clause id such as "P15"', value=error["input"])
    else:  # pydantic's own words
        message = error["msg"].replace("Input should be", "must be")
        message = message[0].lower() + message[1:]
    return Problem(name, line_for(lines, loc), key_name(loc), message)


def _raised(error: Exception) -> str:
    """What a validator of model.py said: its Sentence, kept for translation."""
    first = error.args[0] if error.args else None
    return first if isinstance(first, Sentence) else str(error)


def _toml_type(value: object) -> str:
    kinds = {
        str: said("a string"),
        bool: said("a boolean"),
        int: said("an integer"),
        float: said("a float"),
        list: said("an array"),
        dict: said("a table"),
    }
    return kinds.get(type(value), type(value).__name__)


def _cross_checks(policy: Policy, known_fields: Iterable[str] | None) -> Iterator[tuple]:
    """(key path, message) for each way the keys of a well-formed policy disagree."""
    yield from _duplicate_ids(policy)
    roles = {r.id for r in policy.role}
    for i, role in enumerate(policy.role):
        yield from _texts(policy, ("role", i), name=role.name)

    if not (policy.organisation.email or policy.organisation.phone):
        yield (
            ("organisation",),
            said(
                "the controller needs contact details (`email` or `phone`): the notice and the "
                "record of processing (Art. 30(1)(a)) name them"
            ),
        )
    yield from _texts(policy, ("organisation",), opening_hours=policy.organisation.opening_hours)
    if policy.security.measures is None:
        yield (
            ("security",),
            said(
                "describe the security measures in `measures` (Art. 30(1)(g)): the record of "
                "processing and the notice show them"
            ),
        )
    else:
        yield from _texts(policy, ("security",), measures=policy.security.measures)
    if policy.organisation.accountable not in roles:
        yield ("organisation", "accountable"), _unknown("role", policy.organisation.accountable)
    for area, role in policy.responsibilities.items():
        if role not in roles:
            yield ("responsibilities", area), _unknown("role", role)

    categories = {c.id for c in policy.category}
    owner: dict[str, int] = {}
    known = set(known_fields) if known_fields is not None else None
    for i, category in enumerate(policy.category):
        here = ("category", i)
        if category.responsible not in roles:
            yield (*here, "responsible"), _unknown("role", category.responsible)
        if not category.fields and category.held_outside is None:
            yield here, said("a category must name its `fields` or say where it is `held_outside`")
        for field in category.fields:
            if known is not None and field not in known:
                yield (
                    (*here, "fields"),
                    said("%(field)r is not a personal-data field of the registry", field=field),
                )
            elif field in owner:
                yield (
                    (*here, "fields"),
                    said(
                        "%(field)r already belongs to category[%(index)s]",
                        field=field,
                        index=owner[field],
                    ),
                )
            owner.setdefault(field, i)
        if not policy.rules_for(category.id):
            yield here, said("category %(id)r has no retention rule", id=category.id)
        if not category.subjects:
            yield (
                here,
                said(
                    "name the categories of data subjects in `subjects` (Art. 30(1)(c)), "
                    'e.g. ["customers", "users"]'
                ),
            )
        yield from _texts(
            policy,
            here,
            name=category.name,
            purpose=category.purpose,
            held_outside=category.held_outside,
        )
        if category.legal_basis == "legal_obligation" and not category.legal_source:
            yield here, said("a legal obligation needs its `legal_source` (the law it follows)")
    for field in sorted((known or set()) - owner.keys()):
        yield (
            ("category",),
            said("personal-data field %(field)r belongs to no category", field=field),
        )

    for i, rule in enumerate(policy.rule):
        here = ("rule", i)
        for category_id in rule.applies_to:
            if category_id not in categories:
                yield (*here, "applies_to"), _unknown("category", category_id)
        if rule.action == "manual" and rule.trigger != "agreement_ended":
            yield (
                (*here, "trigger"),
                said('a manual rule starts when a relationship ends: "agreement_ended"'),
            )
        if rule.action == "manual" and not rule.assign_to:
            yield here, said('a manual rule needs `assign_to` (a role, or "all_staff")')
        if rule.assign_to and rule.assign_to not in roles | {ALL_STAFF}:
            yield (*here, "assign_to"), _unknown("role", rule.assign_to)
        if rule.overrides_erasure and not rule.legal_source:
            yield here, said("a rule that overrides erasure needs its `legal_source`")
        yield from _texts(policy, here, description=rule.description, task=rule.task)

    allowed = set(policy.residency.allowed_countries)
    places = [(("organisation", "country"), policy.organisation.country)]
    places += [(("store", i, "country"), s.country) for i, s in enumerate(policy.store)]
    places += [(("backups", "countries"), c) for c in policy.backups.countries]
    places += [(("recipient", i, "country"), r.country) for i, r in enumerate(policy.recipient)]
    places += [(("dataset", i, "country"), d.country) for i, d in enumerate(policy.dataset)]
    places += [(("mailbox", i, "country"), m.country) for i, m in enumerate(policy.mailbox)]
    for where, country in places:
        if country not in allowed:
            others = ", ".join(sorted(allowed))
            yield (
                where,
                said(
                    "%(country)s is outside the allowed countries (%(allowed)s)",
                    country=country,
                    allowed=others,
                ),
            )

    for i, recipient in enumerate(policy.recipient):
        yield from _texts(policy, ("recipient", i), purpose=recipient.purpose)
        if recipient.country not in EEA and not recipient.safeguards:
            yield (
                ("recipient", i, "safeguards"),
                said(
                    "%(country)s is outside the EU/EEA: name the safeguard for the transfer "
                    "(Art. 30(1)(e), Art. 46), e.g. standard contractual clauses",
                    country=recipient.country,
                ),
            )
        for category_id in recipient.categories:
            if category_id not in categories:
                yield ("recipient", i, "categories"), _unknown("category", category_id)
        if policy.commitments.share_with_third_parties is False:
            yield ("recipient", i), _NO_SHARING

    for i, folder in enumerate(policy.backups.directories):
        if not folder.startswith("/"):
            yield (
                ("backups", "directories", i),
                said("%(path)r is not an absolute path", path=folder),
            )
    if policy.logins.escrow_threshold > policy.logins.escrow_shares:
        yield ("logins", "escrow_threshold"), said("cannot be larger than escrow_shares")
    if policy.logins.category not in categories:
        yield ("logins", "category"), _unknown("category", policy.logins.category)
    else:
        login_rules = policy.rules_for(policy.logins.category)
        if len(login_rules) > 1 or any(r.trigger != "created" for r in login_rules):
            yield (
                ("logins", "category"),
                said('login events need exactly one rule, with trigger = "created"'),
            )

    memory = policy.deletion_memory.category
    if memory not in categories:
        yield ("deletion_memory", "category"), _unknown("category", memory)
    elif len(policy.rules_for(memory)) != 1 or policy.rules_for(memory)[0].trigger != "created":
        yield (
            ("deletion_memory", "category"),
            said(
                'the deletion memory needs exactly one rule, with trigger = "created" (the day '
                "the record was deleted)"
            ),
        )

    yield from _own_data_checks(policy, categories)
    yield from _dataset_checks(policy, categories)
    yield from _mailbox_checks(policy, categories)
    yield from _source_checks(policy)

    required = [c for c in policy.cookies.category if c.required]
    if len(required) != 1:
        yield (
            ("cookies",),
            said("exactly one cookie category must be `required = true` (necessary)"),
        )
    for i, category in enumerate(policy.cookies.category):
        here = ("cookies", "category", i)
        yield from _texts(policy, here, name=category.name, purpose=category.purpose)
        for j, cookie in enumerate(category.cookie):
            yield from _texts(policy, (*here, "cookie", j), purpose=cookie.purpose)
        for j, service in enumerate(category.service):
            for k, cookie in enumerate(service.cookie):
                yield from _texts(
                    policy, (*here, "service", j, "cookie", k), purpose=cookie.purpose
                )


_NO_SHARING = said(
    "the policy promises to share no data with third parties "
    "(commitments.share_with_third_parties = false)"
)


def _unknown(kind: str, value: str) -> Sentence:
    """A key names a `kind` ("role", "category", "rule", "dataset") that is not there."""
    if kind == "role":
        return said("names role %(value)r, which the policy does not define", value=value)
    if kind == "category":
        return said("names category %(value)r, which the policy does not define", value=value)
    if kind == "rule":
        return said("names rule %(value)r, which the policy does not define", value=value)
    return said("names dataset %(value)r, which the policy does not define", value=value)


def _duplicate_ids(policy: Policy) -> Iterator[tuple]:
    groups = {
        ("role",): policy.role,
        ("category",): policy.category,
        ("rule",): policy.rule,
        ("store",): policy.store,
        ("recipient",): policy.recipient,
        ("cookies", "category"): policy.cookies.category,
        ("dataset",): policy.dataset,
        ("mailbox",): policy.mailbox,
        ("source",): policy.source,
    }
    for prefix, items in groups.items():
        seen = Counter()
        for i, item in enumerate(items):
            seen[item.id] += 1
            if seen[item.id] == 2:
                yield (*prefix, i, "id"), said("duplicate id %(id)r", id=item.id)


# What each kind of gallra's own data is, and the day its rule counts from (docs/retention.md).
_OWN_DATA_WORDS = {
    "subject_requests": (
        said("closed data-subject requests"),
        said("the day the request was closed"),
    ),
    "consent_proofs": (said("consent proofs"), said("the day of the decision")),
    "duplicate_marks": (
        said("duplicate marks of received login events"),
        said("the day of receipt"),
    ),
    "outbox": (said("mails waiting in the outbox"), said("the day the mail was queued")),
    "form_guard": (
        said("used form time stamps and failed staff logins"),
        said("the day they were made"),
    ),
    "evidence": (said("the evidence log's entries"), said("the day of the entry")),
}


def _own_data_checks(policy: Policy, categories: set[str]) -> Iterator[tuple]:
    """Each kind of gallra's own data is a category with exactly one rule that deletes,
    counting from the day its store dates it by, and long enough for gallra to work."""
    rules = list(policy.rule)
    for kind, trigger in OWN_DATA_TRIGGERS.items():
        what, day = _OWN_DATA_WORDS[kind]
        category = getattr(policy.own_data, kind)
        if category not in categories:
            yield (
                ("own_data", kind),
                said(
                    "%(problem)s (own data: %(what)s)",
                    problem=_unknown("category", category),
                    what=what,
                ),
            )
            continue
        found = policy.rules_for(category)
        if len(found) != 1 or found[0].trigger != trigger:
            yield (
                ("own_data", kind),
                said(
                    '%(what)s need exactly one rule, with trigger = "%(trigger)s" (%(day)s)',
                    what=what,
                    trigger=trigger,
                    day=day,
                ),
            )
            continue
        rule, at = found[0], ("rule", rules.index(found[0]))
        if rule.unless:
            yield (
                (*at, "unless"),
                said("%(what)s are kept by no hold or other role: leave out `unless`", what=what),
            )
        for minimum, why in _own_data_minimums(policy, kind):
            if not _at_least(rule.keep_for, minimum):
                yield (
                    (*at, "keep_for"),
                    said(
                        "%(what)s must be kept at least %(minimum)s: %(why)s",
                        what=what,
                        minimum=minimum,
                        why=why,
                    ),
                )


def _own_data_minimums(policy: Policy, kind: str) -> Iterator[tuple[Duration, Sentence]]:
    """(shortest keep_for, why) below which gallra could not do what the kind is for."""
    if kind == "consent_proofs":
        yield policy.cookies.renew_after, said("a decision holds until the banner asks again")
        cookies = [c for cat in policy.cookies.category for c in cat.cookie]
        cookies += [c for cat in policy.cookies.category for s in cat.service for c in s.cookie]
        for cookie in cookies:
            yield (
                cookie.duration.bound(),  # a session or PT30M cookie: one day
                said("cookie %(name)r set under a decision lasts that long", name=cookie.name),
            )
    elif kind == "form_guard":
        # A time stamp is good for a day (contact/guard.py); whole days from its issue.
        yield (
            Duration(days=2, text="P2D"),
            said("a used time stamp could otherwise be posted again"),
        )
    elif kind == "outbox":
        # A mail is tried for three days (outbox/delivery.py); whole days from its queuing.
        yield Duration(days=4, text="P4D"), said("mails still being tried would be dropped")
    elif kind == "evidence":
        yield policy.backups.window, said("a restore replays every deletion since its snapshot")


def _at_least(duration: Duration, minimum: Duration) -> bool:
    """`duration` ends no earlier than `minimum` from any start day (months and days each at
    least as many, or more whole days than the minimum can ever span)."""
    months = duration.years * 12 + duration.months
    if months >= minimum.years * 12 + minimum.months and duration.days >= minimum.days:
        return True
    shortest = 365 * duration.years + 28 * duration.months + duration.days
    longest = 366 * minimum.years + 31 * minimum.months + minimum.days
    return shortest >= longest


def _dataset_checks(policy: Policy, categories: set[str]) -> Iterator[tuple]:
    """A dataset declaration must say, for every table, whose rows are whose and what erasure
    does, consistently: gallra runs exactly what it says against someone else's database."""
    rules = {r.id: r for r in policy.rule}
    for i, dataset in enumerate(policy.dataset):
        here = ("dataset", i)
        yield from _texts(policy, here, name=dataset.name)
        if bool(dataset.url) == bool(dataset.url_env):
            yield here, said("give exactly one of `url` and `url_env`")
        if dataset.url and re.match(r"^[a-z0-9+]+://[^/@]*:[^/@]*@", dataset.url):
            yield (
                (*here, "url"),
                said("the url holds a password; name an environment variable in `url_env` instead"),
            )
        if dataset.url and not re.match(
            r"^(postgresql|mysql|mariadb|sqlite)[a-z0-9+]*://", dataset.url
        ):
            yield (
                (*here, "url"),
                said("must be a postgresql://, mysql:// (MariaDB) or sqlite:/// url"),
            )
        tables: dict[str, object] = {}
        dated: set[str] = set()  # tables whose rows have an end
        for j, table in enumerate(dataset.table):
            at = (*here, "table", j)
            if table.name in tables:
                yield (*at, "name"), said("table %(name)r is declared twice", name=table.name)
            yield from _table_checks(table, at, tables, categories, rules)
            yield from _dating_checks(policy, dataset.id, table, at, dated)
            tables[table.name] = table


def _table_checks(table, at, earlier: dict, categories: set[str], rules: dict) -> Iterator[tuple]:
    from gallra.policy.model import FINDING_ATTRIBUTES

    personal = set(table.columns)
    for column, category in table.columns.items():
        if category not in categories:
            yield (
                (*at, "columns"),
                said(
                    "column %(column)r: %(problem)s",
                    column=column,
                    problem=_unknown("category", category),
                ),
            )
    finds = [c for c, a in table.identity.items() if a in FINDING_ATTRIBUTES]
    if not finds and table.via is None:
        yield (
            at,
            said(
                "the table needs an `identity` column holding an email, username or personnummer, "
                "or `via` to a table declared before it"
            ),
        )
    for key, columns in (("identity", table.identity), ("text", table.text)):
        for column in columns:
            if column not in personal:
                yield (
                    (*at, key),
                    said("column %(column)r must also be listed in `columns`", column=column),
                )
    if table.via is not None:
        parent = earlier.get(table.via.table)
        if parent is None:
            yield (
                (*at, "via"),
                said(
                    "names table %(table)r, which is not declared before it", table=table.via.table
                ),
            )
        elif (
            parent.erase == "delete"
            and table.erase != "delete"
            and table.via.column not in table.set_null
        ):
            yield (
                (*at, "set_null" if table.set_null else "erase"),
                said(
                    "erasure deletes the rows of %(parent)r that these rows point to: "
                    "delete these too, or add %(column)r to `set_null`",
                    parent=parent.name,
                    column=table.via.column,
                ),
            )
    changeable = personal | ({table.via.column} if table.via else set())
    for column in [*table.set, *table.set_null]:
        if column not in changeable:
            yield (
                (*at, "set" if column in table.set else "set_null"),
                said(
                    "column %(column)r must be listed in `columns` (or be the `via` column)",
                    column=column,
                ),
            )
    if table.erase == "overwrite" and not (table.set or table.set_null):
        yield (
            (*at, "erase"),
            said('"overwrite" needs `set` or `set_null`: the columns to overwrite'),
        )
    if table.erase != "overwrite" and (table.set or table.set_null):
        yield (*at, "erase"), said('`set` and `set_null` belong to erase = "overwrite"')
    if table.erase == "keep":
        rule = rules.get(table.kept_by or "")
        if table.kept_by is None or table.dated_by is None:
            yield (
                (*at, "erase"),
                said(
                    '"keep" needs `kept_by` (the rule that keeps the rows by law) and `dated_by` '
                    "(the date column the rule counts from)"
                ),
            )
        elif rule is None:
            yield (*at, "kept_by"), _unknown("rule", table.kept_by)
        elif not rule.overrides_erasure:
            yield (
                (*at, "kept_by"),
                said(
                    "rule %(rule)r does not override erasure (`overrides_erasure = true` and "
                    "its legal source): only the law keeps rows a subject asked to erase",
                    rule=rule.id,
                ),
            )
    elif table.kept_by or table.dated_by:
        yield (*at, "kept_by" if table.kept_by else "dated_by"), said('belongs to erase = "keep"')


RECORD_TYPE_LENGTH = 30  # evidence names a dataset row's table as `DATASET:TABLE`


def _dating_checks(policy: Policy, dataset_id: str, table, at, dated: set[str]) -> Iterator[tuple]:
    """Every row of personal data must have an end: some rule of the table's categories must
    be able to date it (from its owner, its own date columns, or its `via` parent's fate)."""
    if len(f"{dataset_id}:{table.name}") > RECORD_TYPE_LENGTH:
        yield (
            (*at, "name"),
            said_n(
                "'%(name)s' is longer than %(n)s character: the evidence log names a row's "
                "dataset and table so; shorten the dataset id",
                "'%(name)s' is longer than %(n)s characters: the evidence log names a row's "
                "dataset and table so; shorten the dataset id",
                RECORD_TYPE_LENGTH,
                name=f"{dataset_id}:{table.name}",
            ),
        )
    if table.dates is not None and not any(table.dates.model_dump().values()):
        yield (*at, "dates"), said("`dates` names no column")
    rules = policy.table_rules(table)
    if any(table.can_date(r) for r in rules):
        dated.add(table.name)
        return
    if table.via is not None and not table.own_dates:
        if table.via.table in dated:
            dated.add(table.name)  # it goes with its parent row
        return  # else its parent is refused already (or undeclared): said once, there
    if not rules:
        yield (
            at,
            said(
                "no rule that deletes reaches table %(table)r (its categories have none): "
                "every row of personal data must have an end",
                table=table.name,
            ),
        )
        return
    needs = joined(
        "; ",
        (
            said("%(trigger)s needs %(need)s", trigger=trigger, need=_dating_need(table, trigger))
            for trigger in dict.fromkeys(r.trigger for r in rules)
        ),
    )
    if table.via:
        yield (
            at,
            said(
                "no rule can date the rows of table %(table)r, so they would never be deleted "
                "(%(needs)s): declare `owner` or `dates`",
                table=table.name,
                needs=needs,
            ),
        )
    else:
        yield (
            at,
            said(
                "no rule can date the rows of table %(table)r, so they would never be deleted "
                "(%(needs)s): declare `owner` or `dates`, or `via` to a table whose rows are dated",
                table=table.name,
                needs=needs,
            ),
        )


def _dating_need(table, trigger: str) -> str:
    from gallra.policy.model import OWNER_TRIGGERS

    if trigger in ("agreement_ended", "account_closed"):
        records = either([r for r, t in OWNER_TRIGGERS.items() if trigger in t])
        if table.owner is not None:
            return said(
                "an `owner` of record %(records)s, not %(record)s",
                records=records,
                record=table.owner.record,
            )
        return said("an `owner` of record %(records)s", records=records)
    return f"`dates.{trigger}`"


def _mailbox_checks(policy: Policy, categories: set[str]) -> Iterator[tuple]:
    """A mailbox is weeded by its category's rules: they must delete, counting per message."""
    for i, mailbox in enumerate(policy.mailbox):
        here = ("mailbox", i)
        if len(set(mailbox.folders)) != len(mailbox.folders):
            yield (*here, "folders"), said("a folder is named twice")
        if mailbox.category not in categories:
            yield (*here, "category"), _unknown("category", mailbox.category)
            continue
        rules = [r for r in policy.rules_for(mailbox.category) if r.action == "delete"]
        if not rules:
            yield (
                (*here, "category"),
                said(
                    "category %(category)r has no rule that deletes: gallra would never delete "
                    "a message",
                    category=mailbox.category,
                ),
            )
        for rule in rules:
            if rule.trigger not in ("created", "last_activity"):
                yield (
                    (*here, "category"),
                    said(
                        "rule %(rule)r counts from %(trigger)r; a message counts from "
                        '"created" (its date) or "last_activity" (the last message of its thread)',
                        rule=rule.id,
                        trigger=rule.trigger,
                    ),
                )


def _source_checks(policy: Policy) -> Iterator[tuple]:
    """A source says where gallra reads facts, and nothing more: only its kind's keys, a
    declared dataset, and queries that can only read (gallra runs them as written)."""
    from gallra.policy.model import SOURCE_KEYS

    datasets = {d.id for d in policy.dataset}
    for i, source in enumerate(policy.source):
        here = ("source", i)
        for key in sorted(source.model_fields_set - {"id", "kind"} - SOURCE_KEYS[source.kind]):
            owner = next(k for k, keys in SOURCE_KEYS.items() if key in keys)
            yield (
                (*here, key),
                said(
                    'belongs to kind = "%(owner)s", not "%(kind)s"', owner=owner, kind=source.kind
                ),
            )
        if source.kind == "sql":
            if not source.dataset:
                yield here, said('a "sql" source needs `dataset`: the declared dataset it reads')
            elif source.dataset not in datasets:
                yield (*here, "dataset"), _unknown("dataset", source.dataset)
            if not source.queries():
                yield here, said('a "sql" source needs a query for a section, e.g. `customers`')
            for section, query in source.queries().items():
                problem = select_only(query)
                if problem:
                    yield (*here, section), problem
            queries = source.queries()
            if queries and "customers" not in queries and any(s in queries for s in _NESTED):
                yield here, said("records that belong to a customer need the `customers` query too")
        elif source.kind == "passwd":
            if source.getent and source.path:
                yield (*here, "path"), said("give `path` or `getent = true`, not both")
            if source.path and not source.path.startswith("/"):
                yield (*here, "path"), said("%(path)r is not an absolute path", path=source.path)
            if source.uid_min > source.uid_max:
                yield (*here, "uid_min"), said("cannot be larger than uid_max")
        else:
            yield from _ldap_checks(source, here)


_NESTED = ("agreements", "people", "accounts", "requests", "documents", "credentials", "invoices")


def _ldap_checks(source, here: KeyPath) -> Iterator[tuple]:
    if not re.match(r"^ldaps?://[^/\s]+/?$", source.url):
        yield (*here, "url"), said("must be ldap://HOST[:PORT] or ldaps://HOST[:PORT]")
    if not source.base_dn:
        yield here, said('an "ldap" source needs `base_dn`: where the accounts are')
    if bool(source.bind_dn) != bool(source.password_file):
        yield (
            here,
            said("give both `bind_dn` and `password_file`, or neither (an anonymous search)"),
        )
    for key in ("password_file", "ca_file"):
        value = getattr(source, key)
        if value and not value.startswith("/"):
            yield (*here, key), said("%(path)r is not an absolute path", path=value)
    if source.ca_file and not source.url.startswith("ldaps://"):
        yield (*here, "ca_file"), said("belongs to an ldaps:// url")
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9-]*", source.username_attribute):
        yield (
            (*here, "username_attribute"),
            said("%(value)r is not an attribute", value=source.username_attribute),
        )
    depth = 0
    for char in source.filter:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth < 0:
            break
    if not (source.filter.startswith("(") and source.filter.endswith(")")) or depth != 0:
        yield (
            (*here, "filter"),
            said("%(value)r is not an LDAP filter such as (uid=*)", value=source.filter),
        )


# A query of a source is read, never written: one SELECT (or WITH ... SELECT), none of the
# words that change data or lock it, outside strings and quoted names. `gallra sync` also runs
# it in a read-only transaction where the database has one.
_SQL_TOKEN = re.compile(
    r"""'(?:[^'\\]|\\.|'')*'|"(?:[^"]|"")*"|`[^`]*`|--[^\n]*|/\*.*?\*/|\$(\w*)\$.*?\$\1\$"""
    r"""|(?P<word>[A-Za-z_][A-Za-z0-9_$]*)|(?P<other>[^\s])""",
    re.S,
)
_WRITES = frozenset(
    {
        "insert",
        "update",
        "delete",
        "merge",
        "upsert",
        "drop",
        "alter",
        "create",
        "truncate",
        "grant",
        "revoke",
        "copy",
        "call",
        "into",
        "lock",
        "execute",
        "nextval",
        "setval",
        "vacuum",
        "reindex",
        "cluster",
        "refresh",
        "comment",
        "notify",
        "listen",
    }
)


def select_only(query: str) -> Sentence | None:
    """Why `query` is not one read-only SELECT, or None when it is."""
    words, ends = [], 0
    for match in _SQL_TOKEN.finditer(query):
        token = match.group()
        if token in ("'", '"', "`") or query.startswith("/*", match.start()) and len(token) == 1:
            return said("has a quote or comment that is not closed")
        if match.group("word"):
            words.append(match.group("word").lower())
        if token == ";":  # noqa: S105 (a statement's end, not a password)
            ends += 1
        elif ends:
            return said("must be one statement: nothing may follow ';'")
    if not words or words[0] not in ("select", "with"):
        return said("must be a SELECT (or WITH ... SELECT) statement")
    changes = sorted(set(words) & _WRITES)
    if changes:
        return said(
            "must only read: %(word)s is not allowed in a source's query", word=changes[0].upper()
        )
    return None


def _texts(policy: Policy, where: KeyPath, **texts: Text | None) -> Iterator[tuple]:
    """Each text given per language must have every language of `languages`, and no other,
    and state no duration and no country the structured values contradict (freetext.py)."""
    allowed = policy.residency.allowed_countries
    for key, text in texts.items():
        if text:
            for lang, problem in freetext.problems(text, allowed):
                yield ((*where, key, lang) if lang else (*where, key)), problem
        if isinstance(text, dict):
            missing = [lang for lang in policy.languages if lang not in text]
            extra = [lang for lang in text if lang not in policy.languages]
            if missing:
                yield (
                    (*where, key),
                    said(
                        "the text lacks the language(s) %(languages)s", languages=", ".join(missing)
                    ),
                )
            if extra:
                names = ", ".join(extra)
                yield (
                    (*where, key),
                    said(
                        "the text has language(s) not in `languages`: %(languages)s",
                        languages=names,
                    ),
                )


def registry_fields() -> set[str]:
    """The registry's personal-data fields, as it registers them (policy/hooks.py)."""
    from gallra.policy import hooks

    return hooks.personal_fields()


def current_policy() -> Policy:
    """The provider's policy (see config.policy_path), checked against the registry."""
    from gallra import config

    path = config.policy_path()
    stat = path.stat()
    return _cached(str(path), stat.st_mtime_ns, stat.st_size)


def policy_for_command() -> Policy:
    """current_policy() for a command: an invalid policy stops it with exit status 2."""
    from django.core.management.base import CommandError
    from django.utils.translation import gettext

    try:
        return current_policy()
    except PolicyError as exc:
        message = gettext("the policy is not valid:\n%(problems)s")
        raise CommandError(message % {"problems": exc.translated()}, returncode=2) from exc


@functools.lru_cache(maxsize=4)
def _cached(path: str, _mtime_ns: int, _size: int) -> Policy:
    """Loaded again when the file changes: its modification time and size are the cache key."""
    return load_policy(path, registry_fields())
