"""The policy file's model: what each key means and which values it takes.

The shape is checked by pydantic (unknown keys, types, allowed values); what ties keys
together (a rule names a category that exists, every category has a rule, every country is
allowed, ...) is checked in `checks.py`. See docs/policy-file.md for every key.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    ValidationInfo,
    field_validator,
    model_validator,
)

from gallra import idnumbers
from gallra.policy.durations import CookieDuration, Duration, parse_cookie_duration, parse_duration
from gallra.policy.sentences import said


def _duration(value: object) -> Duration:
    if not isinstance(value, str):
        raise ValueError(said('must be a duration string such as "P1Y", "P3M" or "P7D"'))
    return parse_duration(value)


def _country(value: object) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"[A-Z]{2}", value):
        raise ValueError(
            said('%(value)r is not a two-letter country code (ISO 3166-1, e.g. "SE")', value=value)
        )
    return value


IDENT = re.compile(r"[a-z][a-z0-9_-]*")
# What an id error says; loading.py reports one per wrong id, where it is defined.
NOT_AN_ID = "%(value)r is not an id: use only a–z, 0–9, _ and -, starting with a letter"
NOT_AN_ID_LIKE = (
    "%(value)r is not an id: use only a–z, 0–9, _ and -, starting with a letter, "
    "e.g. %(suggestion)r"
)


def _ident(value: object) -> str:
    if not isinstance(value, str) or not IDENT.fullmatch(value):
        suggestion = _id_like(value) if isinstance(value, str) else None
        if suggestion:
            raise ValueError(said(NOT_AN_ID_LIKE, value=value, suggestion=suggestion))
        raise ValueError(said(NOT_AN_ID, value=value))
    return value


def _id_like(value: str) -> str | None:
    """The id a person most likely meant ("sälj" -> "salj", "Tech Support" -> "tech_support")."""
    plain = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode().lower()
    guess = re.sub(r"[^a-z0-9_-]", "", re.sub(r"\s+", "_", plain.strip()))
    return guess if IDENT.fullmatch(guess) else None


def _sql_name(value: object) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,62}", value):
        raise ValueError(
            said(
                "%(value)r is not a table or column name: letters, digits and '_', "
                "starting with a letter or '_', at most 63 characters",
                value=value,
            )
        )
    return value


def _cookie_duration(value: object) -> CookieDuration:
    if not isinstance(value, str):
        raise ValueError(said('must be a duration string such as "P6M", "PT30M" or "session"'))
    return parse_cookie_duration(value)


IsoDuration = Annotated[Duration, PlainValidator(_duration), PlainSerializer(str)]
CookieLifetime = Annotated[CookieDuration, PlainValidator(_cookie_duration), PlainSerializer(str)]
Country = Annotated[str, PlainValidator(_country)]
Ident = Annotated[str, PlainValidator(_ident)]
SqlName = Annotated[str, PlainValidator(_sql_name)]
Clause = Annotated[str, Field(pattern=r"^P\d+$")]
# Human text: one string for every language, or a table with one string per language.
Text = str | dict[str, str]

LegalBasis = Literal[
    "consent",
    "contract",
    "legal_obligation",
    "vital_interests",
    "public_task",
    "legitimate_interests",
]
Trigger = Literal[
    "agreement_ended", "account_closed", "created", "last_activity", "fiscal_year_ended"
]
Exception_ = Literal["hold", "other_role"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Organisation(Strict):
    name: str
    brand: str = ""
    country: Country
    accountable: Ident
    org_number: str = ""
    email: str = ""
    phone: str = ""
    address: str = ""
    opening_hours: Text = ""  # one text, or { sv = "Mån–fre 09–18", en = "Mon–Fri 09–18" }
    website: str = ""

    @field_validator("org_number")
    @classmethod
    def _swedish_org_number(cls, value: str, info: ValidationInfo) -> str:
        """The check `gallra import` makes, in its words: a number the import refuses is
        refused here, and said alike (idnumbers.org_number_problem)."""
        swedish = value and info.data.get("country") == "SE"
        why = idnumbers.org_number_problem(value) if swedish else None
        if why is not None:
            raise ValueError(said(why[0], **why[1]))
        return value


class Role(Strict):
    id: Ident
    name: Text
    personal_data: bool = False  # may open the customer register's personal fields (P22)


class Category(Strict):
    id: Ident
    name: Text
    clauses: list[Clause] = []
    fields: list[str] = []
    held_outside: Text | None = None
    purpose: Text
    legal_basis: LegalBasis
    legal_source: str = ""
    responsible: Ident
    subjects: list[str] = []


class Rule(Strict):
    id: Ident
    clauses: list[Clause] = []
    applies_to: list[Ident] = Field(min_length=1)
    trigger: Trigger
    keep_for: IsoDuration
    counted_from: Literal["trigger", "end_of_calendar_year"] = "trigger"
    unless: list[Exception_] = []
    action: Literal["delete", "manual"] = "delete"
    assign_to: str = ""
    legal_source: str = ""
    overrides_erasure: bool = False
    description: Text | None = None
    task: Text | None = None  # what a manual rule asks each person to do

    def due_date(self, trigger: date) -> date:
        """The day a record whose trigger happened on `trigger` becomes due under this rule."""
        anchor = trigger if self.counted_from == "trigger" else date(trigger.year + 1, 1, 1)
        return self.keep_for.after(anchor)

    def threshold(self, at: date) -> date:
        """The last trigger date whose record is due by `at` (due_date is monotone)."""
        low, high = date.min.toordinal(), at.toordinal()  # due_date(at) >= at: high is safe
        if self.due_date(date.fromordinal(low)) > at:
            return date.min
        while low < high:
            middle = (low + high + 1) // 2
            if self.due_date(date.fromordinal(middle)) <= at:
                low = middle
            else:
                high = middle - 1
        return date.fromordinal(low)


class Residency(Strict):
    allowed_countries: list[Country] = Field(min_length=1)


class Store(Strict):
    id: Ident
    kind: Literal["database", "files", "backup", "mailbox", "connector"]
    country: Country


class Backups(Strict):
    window: IsoDuration
    encrypted: bool = True
    countries: list[Country] = Field(min_length=1)
    directories: list[str] = []  # absolute paths backed up with the database, e.g. /home


class LoginAlerts(Strict):
    """When the anonymised login events raise an alert (defaults like fail2ban's)."""

    failures: int = Field(5, ge=1)  # from one network within the window
    window_minutes: int = Field(10, ge=1, le=1440)
    accounts: int = Field(10, ge=2)  # distinct accounts failing within the window
    success_after_failures: int = Field(5, ge=1)  # failures on an account, then a success
    new_country: bool = True  # a success from a country the account never used


class Logins(Strict):
    category: Ident = "login_events"  # the category login events are (its rule: retention)
    ipv4_prefix: int = Field(24, ge=8, le=32)
    ipv6_prefix: int = Field(48, ge=16, le=128)
    sealed_ip_key_lifetime: IsoDuration
    escrow_shares: int = Field(3, ge=2, le=10)
    escrow_threshold: int = Field(2, ge=2, le=10)
    alerts: LoginAlerts = LoginAlerts()


class DeletionMemory(Strict):
    """What gallra remembers of a deleted record so that no import brings it back (keyed
    digests of its ref); the category's rule gives that memory its own end."""

    category: Ident = "deletion_memory"


# gallra's own data: each kind, and the trigger its category's one rule must count from.
OWN_DATA_TRIGGERS: dict[str, Trigger] = {
    "subject_requests": "last_activity",  # the day the request was closed; an open one stays
    "consent_proofs": "created",  # the day of the decision
    "duplicate_marks": "created",  # the day the event was received
    "outbox": "created",  # the day the mail was queued
    "form_guard": "created",  # the day the form time stamp was issued, or the failed login
    "evidence": "created",  # the day of the entry
}


class OwnData(Strict):
    """What gallra itself keeps to do its work (closed requests, consent proofs, the evidence
    log, ...), each kind in a category whose one rule ends it, like any other data."""

    subject_requests: Ident = "subject_requests"
    consent_proofs: Ident = "consent_proofs"
    duplicate_marks: Ident = "duplicate_marks"
    outbox: Ident = "outbox"
    form_guard: Ident = "form_guard"
    evidence: Ident = "evidence_log"


class Security(Strict):
    password_min_length: int = Field(12, ge=8, le=128)
    two_factor: bool = True
    # Art. 30(1)(g): the general description of the security measures, for the record of
    # processing and the notice. gallra adds what it enforces itself (backups, IP sealing, ...).
    measures: Text | None = None


class Commitments(Strict):
    """Promises the notice makes. Each default is the side that promises nothing: a provider
    makes a promise by writing it, never by leaving a key out (docs/policy-file.md)."""

    home_directories_private: bool = False
    third_party_access: bool = True
    share_with_third_parties: bool = True
    advertising_mailings: bool = True
    customer_trademarks_in_marketing: bool = True
    website_stores_personal_data: bool = True
    contact_form_stores_messages: bool = True


class Recipient(Strict):
    id: Ident
    name: str
    kind: Literal["processor", "recipient", "joint_controller"]
    country: Country
    categories: list[Ident] = Field(min_length=1)
    purpose: Text
    safeguards: str = ""


class Cookie(Strict):
    name: str
    purpose: Text
    duration: CookieLifetime  # "session", "PT30M", "PT1H" or calendar time like "P13M"
    third_party: bool = False


class Service(Strict):
    id: Ident
    name: str
    provider: str = ""
    cookie: list[Cookie] = []


class CookieCategory(Strict):
    id: Ident
    name: Text
    purpose: Text
    required: bool = False
    cookie: list[Cookie] = []
    service: list[Service] = []


class Cookies(Strict):
    revision: int = Field(ge=1)
    renew_after: IsoDuration
    category: list[CookieCategory] = Field(min_length=1)


# What identifies a data subject in a connected dataset. Names are not unique, so `name`
# never finds a subject; it tells whose a row is (for redaction) and what to rectify.
IdentityAttribute = Literal["email", "username", "personnummer", "name"]
FINDING_ATTRIBUTES = ("email", "username", "personnummer")


class DatasetLink(Strict):
    table: SqlName
    column: SqlName


# The registry records a dataset row may belong to, and the triggers of theirs it follows.
OWNER_TRIGGERS: dict[str, tuple[str, ...]] = {
    "customer": ("agreement_ended",),
    "person": ("agreement_ended", "account_closed"),
    "account": ("agreement_ended", "account_closed"),
    "prospect": (),
}
ROW_TRIGGERS = ("created", "last_activity", "fiscal_year_ended")  # dated by the row itself


class DatasetOwner(Strict):
    """The registry record a row belongs to: `column` holds its `ref`."""

    record: Literal["customer", "person", "account", "prospect"]
    column: SqlName


class DatasetDates(Strict):
    """The row's own trigger dates: the columns that hold them."""

    created: SqlName | None = None
    last_activity: SqlName | None = None
    fiscal_year_ended: SqlName | None = None


class DatasetTable(Strict):
    name: SqlName
    key: SqlName = "id"
    identity: dict[SqlName, IdentityAttribute] = {}
    lowercase_match: bool = False
    via: DatasetLink | None = None
    columns: dict[SqlName, Ident] = Field(min_length=1)
    text: list[SqlName] = []
    since: SqlName | None = None
    erase: Literal["delete", "overwrite", "keep"]
    set: dict[SqlName, str] = {}
    set_null: list[SqlName] = []
    kept_by: Ident | None = None
    dated_by: SqlName | None = None
    owner: DatasetOwner | None = None
    dates: DatasetDates | None = None

    @property
    def own_dates(self) -> bool:
        """It says itself how its rows are dated (otherwise a `via` table follows its parent)."""
        return self.owner is not None or self.dates is not None or bool(self.dated_by)

    def date_columns(self, rule: Rule) -> list[str]:
        """The row's columns `rule`'s trigger counts from, the first that holds a date
        winning: `last_activity` falls back to `created`, and the rule a `keep` table is kept
        by counts from `dated_by`. Empty: the row does not date this trigger itself."""
        dates = self.dates or DatasetDates()
        found = [getattr(dates, rule.trigger, None)] if rule.trigger in ROW_TRIGGERS else []
        if rule.trigger == "last_activity":
            found.append(dates.created)
        if self.kept_by == rule.id and self.dated_by:
            found.append(self.dated_by)
        return list(dict.fromkeys(c for c in found if c))

    def can_date(self, rule: Rule) -> bool:
        """Whether the row itself, or its owner, says when `rule` starts counting."""
        if self.owner is not None and rule.trigger in OWNER_TRIGGERS[self.owner.record]:
            return True
        return bool(self.date_columns(rule))


class Dataset(Strict):
    id: Ident
    name: Text
    url: str = ""
    url_env: str = ""
    country: Country
    table: list[DatasetTable] = Field(min_length=1)


class Mailbox(Strict):
    """One of the provider's mailboxes, weeded by the rule of the category it holds (P19, P21).

    gallra reads only the headers it needs to date and link each message, and keeps none of
    them; see docs/mailboxes.md.
    """

    id: Ident
    kind: Literal["maildir", "imap"]
    category: Ident  # what the messages are, e.g. "correspondence"; its rule applies
    country: Country
    folders: list[str] = Field(["INBOX"], min_length=1)
    path: str = ""  # maildir: the Maildir folder
    host: str = ""  # imap: the server, reached over TLS only
    port: int = Field(993, ge=1, le=65535)
    user: str = ""
    password_file: str = ""  # a file holding the password, never the password itself
    ca_file: str = ""  # the CA certificates (PEM) the server's must chain to; "": the system's

    @model_validator(mode="after")
    def _keys_of_its_kind(self) -> Mailbox:
        paths = {"path": self.path, "password_file": self.password_file, "ca_file": self.ca_file}
        for key, value in paths.items():
            if value and not value.startswith("/"):
                raise ValueError(
                    said("%(key)s: %(value)r is not an absolute path", key=key, value=value)
                )
        for folder in self.folders:
            if not folder.strip() or any(c in folder for c in '\r\n\0"\\*%'):
                raise ValueError(said("folders: %(folder)r is not a folder name", folder=folder))
        imap_keys = [k for k in ("host", "user", "password_file", "ca_file") if getattr(self, k)]
        if self.kind == "maildir":
            if not self.path:
                raise ValueError(said('a "maildir" mailbox needs `path`: its Maildir folder'))
            if imap_keys:
                raise ValueError(said('`%(key)s` belongs to kind = "imap"', key=imap_keys[0]))
        else:
            missing = [k for k in ("host", "user", "password_file") if not getattr(self, k)]
            if missing:
                keys = "`, `".join(missing)
                raise ValueError(said('an "imap" mailbox needs `%(keys)s`', keys=keys))
            if self.path:
                raise ValueError(said('`path` belongs to kind = "maildir"'))
        return self


# The registry sections a `sql` source may fill, in the import file's own words (docs/import.md).
SOURCE_SECTIONS = (
    "customers",
    "agreements",
    "people",
    "accounts",
    "requests",
    "documents",
    "credentials",
    "invoices",
    "prospects",
    "quotes",
    "correspondence",
    "holds",
)
SOURCE_KEYS = {
    "sql": frozenset({"dataset", *SOURCE_SECTIONS}),
    "passwd": frozenset({"path", "getent", "uid_min", "uid_max"}),
    "ldap": frozenset(
        {"url", "base_dn", "bind_dn", "password_file", "ca_file", "filter", "username_attribute"}
    ),
}


class Source(Strict):
    """Where the registry's facts are read from by `gallra sync` (docs/sync.md): SQL queries
    over a declared dataset, the passwd database, or an LDAP directory. The keys of the other
    kinds are refused by the checks (loading.py), at their line."""

    id: Ident
    kind: Literal["sql", "passwd", "ldap"]
    # sql: one SELECT per section; its column names are the import file's keys
    dataset: str = ""
    customers: str = ""
    agreements: str = ""
    people: str = ""
    accounts: str = ""
    requests: str = ""
    documents: str = ""
    credentials: str = ""
    invoices: str = ""
    prospects: str = ""
    quotes: str = ""
    correspondence: str = ""
    holds: str = ""
    # passwd
    path: str = ""  # default /etc/passwd
    getent: bool = False  # `getent passwd` instead of a file: every NSS source (LDAP, sssd)
    uid_min: int = Field(1000, ge=0, le=4294967294)
    uid_max: int = Field(60000, ge=0, le=4294967294)
    # ldap
    url: str = ""
    base_dn: str = ""
    bind_dn: str = ""
    password_file: str = ""  # a file holding the password, never the password itself
    ca_file: str = ""  # ldaps://: the CA certificates (PEM); "": the system's
    filter: str = "(objectClass=posixAccount)"
    username_attribute: str = "uid"

    def queries(self) -> dict[str, str]:
        """section -> SELECT, for the sections this source fills, in the import's order."""
        return {s: getattr(self, s) for s in SOURCE_SECTIONS if getattr(self, s)}

    def passwd_path(self) -> str:
        return self.path or "/etc/passwd"


class Policy(Strict):
    revision: int = Field(ge=1)
    languages: list[Literal["sv", "en"]] = Field(min_length=1)
    organisation: Organisation
    role: list[Role] = Field(min_length=1)
    responsibilities: dict[str, Ident] = {}
    category: list[Category] = Field(min_length=1)
    rule: list[Rule] = Field(min_length=1)
    residency: Residency
    store: list[Store] = []
    backups: Backups
    logins: Logins
    deletion_memory: DeletionMemory = DeletionMemory()
    own_data: OwnData = OwnData()
    security: Security = Security()
    commitments: Commitments = Commitments()
    recipient: list[Recipient] = []
    cookies: Cookies
    dataset: list[Dataset] = []
    mailbox: list[Mailbox] = []
    source: list[Source] = []  # gallra sync (docs/sync.md)

    def category_by_id(self, category_id: str) -> Category:
        return next(c for c in self.category if c.id == category_id)

    def rules_for(self, category_id: str) -> list[Rule]:
        return [r for r in self.rule if category_id in r.applies_to]

    def table_rules(self, table: DatasetTable) -> list[Rule]:
        """The deleting rules that reach a dataset table's rows, in policy order: those of its
        columns' categories; for a `keep` table only the rule that keeps it (the law)."""
        if table.erase == "keep":
            return [r for r in self.rule if r.id == table.kept_by and r.action == "delete"]
        categories = set(table.columns.values())
        return [
            r for r in self.rule if r.action == "delete" and categories.intersection(r.applies_to)
        ]

    def login_rule(self) -> Rule:
        """The retention rule of login events (the checks make sure there is one)."""
        return self.rules_for(self.logins.category)[0]

    def deletion_memory_rule(self) -> Rule:
        """The retention rule of the deletion memory (the checks make sure there is one)."""
        return self.rules_for(self.deletion_memory.category)[0]

    def own_data_rule(self, kind: str) -> Rule:
        """The retention rule of one kind of gallra's own data (a key of `own_data`; the
        checks make sure there is exactly one)."""
        return self.rules_for(getattr(self.own_data, kind))[0]

    def text(self, value: Text | None, language: str) -> str:
        """A human text in `language`, falling back to the policy's first language."""
        if value is None:
            return ""
        if isinstance(value, str):
            return value
        return value.get(language) or value[self.languages[0]]
