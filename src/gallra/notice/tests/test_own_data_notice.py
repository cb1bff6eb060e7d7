"""The privacy notice and the record of processing (Art. 30) say what gallra keeps of its own
(closed requests, consent proofs, duplicate marks, the outbox, anti-spam state, the evidence
log) and for how long: read from the policy, so they follow the file."""

from __future__ import annotations

import html
import re

import pytest
from django.utils import translation

from gallra.notice.content import render
from gallra.notice.ropa import activities
from gallra.policy import describe
from gallra.policy.loading import current_policy

KINDS = (
    "subject_requests",
    "consent_proofs",
    "duplicate_marks",
    "outbox",
    "form_guard",
    "evidence",
)


def text_of(page: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_the_notice_and_the_record_name_each_kind_and_how_long_it_is_kept(db, lang):
    policy = current_policy()
    notice = text_of(render(policy, lang))
    record = {row["activity"]: row for row in activities(policy, lang)}
    for kind in KINDS:
        category = policy.category_by_id(getattr(policy.own_data, kind))
        rule = policy.own_data_rule(kind)
        with translation.override(lang):
            how_long = describe.rule_text(rule)
        name = policy.text(category.name, lang)
        assert name in notice and how_long in notice, kind
        assert policy.text(category.held_outside, lang) in notice, kind
        assert how_long in record[name]["erasure"], kind
        assert policy.text(category.purpose, lang) in record[name]["purposes"], kind


def test_the_words_a_reader_gets(db):
    policy = current_policy()
    notice = text_of(render(policy, "sv"))
    assert (
        "3 år efter den senaste aktiviteten. Räknas från den dag ärendet avslutades; "
        "ett öppet ärende raderas aldrig."
    ) in notice
    assert "10 år efter att uppgiften registrerades" in notice
    record = {row["activity"]: row for row in activities(policy, "en")}
    assert record["Closed data-subject requests"]["erasure"] == (
        "3 years after the last activity. Counted from the day the request was closed; an open "
        "request is never deleted."
    )
    assert record["Proof of cookie consent"]["erasure"] == "2 years after the data was recorded"
    assert record["Protection against spam and password guessing"]["subjects"] == (
        "website visitors and staff members"
    )
