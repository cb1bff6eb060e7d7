"""What the API accepts and answers, field by field: the OpenAPI schema is made from these."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from ninja import Field, Schema
from pydantic import field_validator

from gallra.logins.models import WEB_METHODS, WEB_SERVICES
from gallra.logins.views import MAX_EVENTS
from gallra.retention.kinds import KINDS
from gallra.subjects.models import SubjectRequest

MAX_LIMIT = 500
MAX_OFFSET = 1_000_000_000  # past any table here; keeps OFFSET inside every database's integer
EARLIEST, LATEST = date(1900, 1, 1), date(2999, 12, 31)  # the days `plan` looks at
RecordType = Literal[tuple(sorted([*KINDS, "mail"]))]  # what `gallra plan --type` takes


class Error(Schema):
    detail: str = Field(description="what went wrong, in words")
    field: str | None = Field(None, description="the field at fault, when it is one field")


class ValidationProblem(Schema):
    type: str
    loc: list[str | int] = Field(description='where: ["query", "limit"], ["body", ...], ...')
    msg: str
    ctx: dict[str, Any] | None = None


class ValidationErrors(Schema):
    detail: list[ValidationProblem]


class Paging(Schema):
    limit: int = Field(50, ge=1, le=MAX_LIMIT, description="at most this many items")
    offset: int = Field(0, ge=0, le=MAX_OFFSET, description="skip this many items first")


class PageInfo(Schema):
    count: int = Field(description="items in all pages")
    limit: int
    offset: int


# -- consent ------------------------------------------------------------------------------


class DecisionFilter(Schema):
    consent_id: str | None = Field(
        None,
        max_length=36,
        pattern=r"^[0-9a-f-]{1,36}$",
        description="only this visitor's decisions (the id their browser keeps)",
    )


class Decision(Schema):
    id: int
    consent_id: str
    action: str
    categories: dict[str, bool]
    services: dict[str, bool]
    banner_revision: int
    policy_revision: int
    text_hash: str
    locale: str
    at: datetime


class DecisionPage(PageInfo):
    items: list[Decision]


# -- web logins ---------------------------------------------------------------------------


class LoginEventIn(Schema):
    """One login attempt as the web application saw it; the address is never stored whole."""

    model_config = {"extra": "forbid"}

    id: str = Field(min_length=1, max_length=200, description="the sender's id, for retries")
    at: str = Field(
        max_length=40,
        json_schema_extra={"format": "date-time"},
        description="RFC 3339 with its offset, e.g. 2026-11-25T03:14:15Z",
    )
    outcome: Literal["success", "failure"]
    username: str = Field("", max_length=150)
    ip: str = Field(
        max_length=45,
        json_schema_extra={"anyOf": [{"format": "ipv4"}, {"format": "ipv6"}]},
        description="IPv4 or IPv6; stored truncated and sealed",
    )
    service: Literal[WEB_SERVICES] = Field("web", description="what was logged in to")
    method: Literal[WEB_METHODS] = Field(
        "password", description="how: password, a second factor, a key, single sign-on, ..."
    )


class LoginEventsIn(Schema):
    model_config = {"extra": "forbid"}

    events: list[LoginEventIn] = Field(min_length=1, max_length=MAX_EVENTS)


class Received(Schema):
    stored: int
    duplicates: int = Field(description="already stored by an earlier post (same id)")
    skipped: dict[str, int] = Field(description="events not stored, by reason")


# -- data-subject requests ----------------------------------------------------------------


class RequestFilter(Schema):
    status: list[SubjectRequest.Status] = Field(
        [], description="only these statuses (repeat the parameter for several)"
    )


class StoreStep(Schema):
    store: str
    status: str
    at: datetime


class Personal(Schema):
    """The subject's own data and free text about them: only for `registry.view_personal_data`."""

    email: str
    name: str
    username: str
    personnummer: str
    change_value: str
    note: str
    extension_reason: str
    verified_how: str
    verified_by: str
    answer: dict[str, Any]


class Request(Schema):
    ref: str
    kind: str
    status: str
    received: date
    due: date
    overdue: bool
    extension_months: int
    extension_told_on: date | None
    verified_at: datetime | None
    closed_at: datetime | None
    change_field: str
    category: str
    stores: list[StoreStep]
    personal: Personal | None = Field(
        description="null unless the token's user has registry.view_personal_data"
    )


class RequestPage(PageInfo):
    items: list[Request]


# -- plan ---------------------------------------------------------------------------------


class PlanQuery(Schema):
    at: date | None = Field(None, description="the day (default today, Europe/Stockholm)")
    type: RecordType | None = Field(None, description="only this record type")

    @field_validator("at")
    @classmethod
    def _within(cls, value: date | None) -> date | None:
        if value is not None and not EARLIEST <= value <= LATEST:
            raise ValueError(f"must be between {EARLIEST} and {LATEST}")
        return value


class Due(Schema):
    type: str
    ref: str
    rule: str
    due: date | None


class PlanPage(PageInfo):
    at: date
    items: list[Due]


# -- evidence -----------------------------------------------------------------------------


class Entry(Schema):
    seq: int
    at: datetime
    actor: str
    action: str
    rule: str
    record_type: str
    count: int
    refs: list[str]
    customers: list[str]
    data: dict[str, Any]
    prev_hash: str
    hash: str


class EntryPage(PageInfo):
    items: list[Entry]


class Verified(Schema):
    ok: bool
    count: int = Field(description="entries checked")
    head: str = Field(description="the last good entry's hash")
    bad_seq: int | None = Field(description="the first bad entry")
    problem: str
    pruned: dict[str, str | int] | None = Field(
        None,
        description="the entries pruned under the log's rule (through_seq, rule, on, before); "
        "the chain is checked from the last one's hash on",
    )
