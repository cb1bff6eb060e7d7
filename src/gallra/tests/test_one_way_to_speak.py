"""One way to speak (issue 18): every sentence gallra writes is a gettext message with an
English msgid and its Swedish in locale/sv, and the language is chosen with
`translation.override(lang)`. No hand-made `(sv, en)` tables, no `{"sv": ..., "en": ...}`
dicts of sentences, no `words.py`, no `0 if lang == "sv" else 1`.

The provider's own texts (`{ sv = "...", en = "..." }` in the policy file) are data, not
gallra's sentences; they are not checked here.
"""

from __future__ import annotations

import ast
import io
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext, ngettext, pgettext

import gallra
from gallra import config
from gallra.consent.texts import banner_text
from gallra.notice.content import render as render_notice
from gallra.policy import describe
from gallra.policy.durations import Duration
from gallra.policy.loading import PolicyError, current_policy, load_policy, registry_fields
from gallra.retention import explaining
from gallra.retention.planner import Decision
from gallra.subjects import cases

GALLRA = Path(gallra.__file__).resolve().parent
PO = GALLRA / "locale" / "sv" / "LC_MESSAGES" / "django.po"

# Whole words that only Swedish uses (none is an English word or a usual identifier).
_SWEDISH = """och att inte som för till efter eller hos inga ingen inget sparas raderas kunder
avtal uppgifter uppgift varför nej sedan dagar ansvarig tjänst kaka kakor personuppgifter
begäran dig dina"""
SWEDISH_WORDS = frozenset(_SWEDISH.split())
LANGUAGE_CODES = frozenset({"sv", "en"})
LOCALE = re.compile(r"^[a-z]{2}(?:[_-][A-Za-z]{2})?(?:\.[\w-]+)?$")  # "sv", "sv_SE.UTF-8"


def sources() -> Iterator[Path]:
    """gallra's own Python, without its tests (a test may well spell out both languages)."""
    for path in sorted(GALLRA.rglob("*.py")):
        parts = path.relative_to(GALLRA).parts
        if {"tests", "migrations"} & set(parts) or path.name == "conftest.py":
            continue
        yield path


def looks_swedish(text: str) -> bool:
    words = re.findall(r"\w+", text.lower())
    return bool(re.search("[åäö]", text, re.IGNORECASE)) or any(w in SWEDISH_WORDS for w in words)


def _strings(node: ast.AST) -> list[str] | None:
    if not isinstance(node, ast.Tuple | ast.List):
        return None
    if not all(isinstance(e, ast.Constant) and isinstance(e.value, str) for e in node.elts):
        return None
    return [e.value for e in node.elts]


def _words_in(node: ast.AST) -> Iterator[str]:
    """The strings of words written out in a literal: not the keys of a dict inside it, not
    what a call is given (`_("Swedish")` is the catalogue's), not a locale name, not a format
    such as "%d %b %Y"."""
    skipped = set()
    for inner in ast.walk(node):
        if isinstance(inner, ast.Dict):
            skipped |= {id(k) for k in inner.keys}
        elif isinstance(inner, ast.Call):
            skipped |= {id(n) for n in ast.walk(inner)}
    for inner in ast.walk(node):
        if not isinstance(inner, ast.Constant) or not isinstance(inner.value, str):
            continue
        text = inner.value
        if id(inner) not in skipped and re.search(r"[^\W\d_]{2,}", text) and not LOCALE.match(text):
            yield text


def _by_language(node: ast.AST) -> str | None:
    """The first sentence of a dict keyed by language (`{"sv": "...", "en": "..."}`,
    `dict(sv=..., en=...)`, values as deep as `{"sv": {"title": "..."}}`), or None."""
    if isinstance(node, ast.Dict):
        keys = [k.value if isinstance(k, ast.Constant) else None for k in node.keys]
        values = node.values
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict":
        keys, values = [k.arg for k in node.keywords], [k.value for k in node.keywords]
    else:
        return None
    if len(keys) < 2 or not set(keys) <= LANGUAGE_CODES:
        return None
    return next((words for value in values for words in _words_in(value)), None)


def _language_test(node: ast.AST) -> bool:
    """`lang == "sv"`, `"en" != lang` and the like."""
    return isinstance(node, ast.Compare) and any(
        isinstance(side, ast.Constant) and side.value in LANGUAGE_CODES
        for side in (node.left, *node.comparators)
    )


def hand_made_translations(source: str) -> list[tuple[int, str]]:
    """(line, what) of every hand-made translation in `source`: a pair of strings whose first
    is Swedish and whose second is not (`("raderas för hand", "deleted by hand")`), a dict of
    sentences keyed by language (`{"sv": {"title": "Vi använder kakor"}, "en": ...}`), and a
    choice by language between two sentences or two indexes (`0 if lang == "sv" else 1`)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        words = _by_language(node)
        if words is not None:
            found.append((node.lineno, f"sentences keyed by language: {words!r}, ..."))
        pair = _strings(node)
        if pair is not None and len(pair) == 2:
            sv, en = pair
            if looks_swedish(sv) and not looks_swedish(en) and re.search(r"[a-z]", en, re.I):
                found.append((node.lineno, f"(sv, en) pair {sv!r}, {en!r}"))
        if isinstance(node, ast.IfExp) and _language_test(node.test):
            body, orelse = node.body, node.orelse
            if isinstance(body, ast.Constant) and isinstance(orelse, ast.Constant):
                chosen = {body.value, orelse.value}
                if chosen <= LANGUAGE_CODES:  # picking the language itself is the one way
                    continue
                if all(isinstance(v, str | int) for v in chosen):
                    found.append((node.lineno, f"chosen by language: {body.value!r} or ..."))
    return found


def po_plural(msgid: str) -> tuple[str, str]:
    """msgstr[0] and msgstr[1] of the plural entry `msgid` in django.po, read here from the
    text (not through gettext or Django), to check what the code says against the file."""
    entries = []
    for block in PO.read_text(encoding="utf-8").split("\n\n"):
        lines = dict(line.split(" ", 1) for line in block.splitlines() if line.startswith("msg"))
        if "msgctxt" not in lines and lines.get("msgid") == f'"{msgid}"':
            entries.append((lines["msgstr[0]"][1:-1], lines["msgstr[1]"][1:-1]))
    assert len(entries) == 1, f"{msgid!r}: {len(entries)} entries in {PO}"
    return entries[0]


def swedish(msgid: str, context: str | None = None) -> str:
    """The catalogue's Swedish for `msgid`; fails when there is none."""
    with translation.override("sv"):
        said = pgettext(context, msgid) if context else gettext(msgid)
    assert said != msgid, f"{msgid!r} has no Swedish in the catalogue"
    return said


def english(msgid: str) -> str:
    with translation.override("en"):
        return gettext(msgid)


# -- (a) no hand-made tables ------------------------------------------------------------------


def test_no_words_module_is_left():
    left = [str(p.relative_to(GALLRA)) for p in GALLRA.rglob("words.py")]
    assert left == [], "sentences belong in the catalogue (locale/sv), not in a words.py"


def test_no_module_translates_by_hand():
    found = [
        f"{path.relative_to(GALLRA)}:{line}: {what}"
        for path in sources()
        for line, what in hand_made_translations(path.read_text(encoding="utf-8"))
    ]
    assert found == []


PLANTED = """
TRIGGERS = {"created": ("efter att uppgiften registrerades", "after the data was recorded")}
UNITS = {"months": ("månad", "månader", "month", "months")}
MANUAL = ["raderas för hand", "deleted by hand"]
def i(lang):
    return 0 if lang == "sv" else 1
def join(items, lang):
    return ", ".join(items[:-1]) + (" och " if lang == "sv" else " and ") + items[-1]
"""

LEGITIMATE = """
from django.utils.translation import gettext as _
LANGUAGES = [("sv", _("Swedish")), ("en", _("English"))]
choices = ("sv", "en")
lang = "en" if request.GET.get("lang") == "en" else "sv"
columns = ("created", "last_activity")
pair = ("--lang", "sv")
names = ("Anna Svensson", "anna@example.se")
place = ("SE", "Sweden")
period = ("P1Y", "P6M")
weights = (1, 2)
"""


def test_the_check_finds_a_planted_table_and_leaves_ordinary_code_alone():
    found = hand_made_translations(PLANTED)
    lines = sorted({line for line, _ in found})
    assert lines == [2, 4, 6, 8], found  # TRIGGERS, MANUAL, i(), join(); not UNITS' 4-tuple
    assert hand_made_translations(LEGITIMATE) == []


# consent/texts.py as it was (its first lines), and the other ways to write such a dict.
PLANTED_BY_LANGUAGE = """
TEXT = {
    "sv": {
        "title": "Vi använder kakor",
        "accept": "Acceptera alla",
    },
    "en": {
        "title": "We use cookies",
        "accept": "Accept all",
    },
}
MESSAGES = {"en": "The link is not valid.", "sv": "Länken är ogiltig."}
GREETING = dict(sv=f"Hej {name}!", en=f"Hello {name}!")
SHORT = {"sv": ("ja", "nej"), "en": ("yes", "no")}
"""

LEGITIMATE_BY_LANGUAGE = """
from django.utils.translation import gettext_lazy as _
NAMES = {"sv": _("Swedish"), "en": _("English")}
LOCALES = {"sv": "sv_SE.UTF-8", "en": "en_GB.UTF-8"}
FORMATS = {"sv": "%Y-%m-%d", "en": "%d %b %Y"}
FIRST = {"sv": 0, "en": 1}
shown = {"sv": banner_text("sv"), "en": banner_text("en")}
fields = {"sv": {"title": title_sv}, "en": {"title": title_en}}
other = {"title": "We use cookies", "lang": "en"}
"""


def test_the_check_finds_sentences_keyed_by_language():
    found = hand_made_translations(PLANTED_BY_LANGUAGE)
    assert sorted({line for line, _ in found}) == [2, 12, 13, 14], found
    assert "'Vi använder kakor'" in found[0][1]
    assert hand_made_translations(LEGITIMATE_BY_LANGUAGE) == []


# -- (b) the same sentence in both languages, the Swedish from the catalogue ------------------


@pytest.fixture
def policy(db):
    return current_policy()


def test_a_notice_line(policy):
    org = policy.organisation.brand or policy.organisation.name
    msgid = "Privacy notice of %(org)s"
    sv, en = (f"<title>{m % {'org': org}}</title>" for m in (swedish(msgid), english(msgid)))
    assert sv != en
    assert sv in render_notice(policy, "sv") and en not in render_notice(policy, "sv")
    assert en in render_notice(policy, "en") and sv not in render_notice(policy, "en")


def test_a_retention_explanation(policy):
    day = date(2033, 1, 10)
    decision = Decision("invoice", "F-1", "delete", "accounting-records", day, "due", {})
    said = {lang: explaining.explanation(policy, decision, day, lang) for lang in ("sv", "en")}
    msgid = "%(name)s is deleted on %(day)s under rule %(rule)s (due since %(due)s)."
    values = {"day": day, "rule": "accounting-records", "due": day}
    name = swedish("invoice", "record type") + " F-1"
    assert said["sv"] == swedish(msgid) % {**values, "name": name}
    assert said["en"] == msgid % {**values, "name": "invoice F-1"}
    assert said["sv"] != said["en"]


def test_a_subject_request_text(client, db):
    url = reverse("subjects:verify", args=["not-a-token"])
    msgid = "Press the button to confirm that you sent the request about your personal data."
    sv = client.get(url).content.decode()
    en = client.get(url + "?lang=en").content.decode()
    assert swedish(msgid) in sv and msgid not in sv
    assert msgid in en and swedish(msgid) not in en


def check_line(path: Path, lang: str, monkeypatch) -> str:
    monkeypatch.setenv("LANGUAGE", lang)  # the terminal's language
    out = io.StringIO()
    call_command("policy", "check", str(path), "--offline", stdout=out)
    return out.getvalue().strip()


def test_a_policy_check_message(policy, monkeypatch):
    path = GALLRA / "policies" / "jufcorp.toml"
    sv, en = check_line(path, "sv", monkeypatch), check_line(path, "en", monkeypatch)
    msgid = "%(path)s: ok (%(categories)s categories, %(rules)s rules)"
    values = {"path": path, "categories": len(policy.category), "rules": len(policy.rule)}
    assert sv == swedish(msgid) % values
    assert en == msgid % values
    assert sv != en


def test_a_command_line(policy):
    said = {}
    for lang in ("sv", "en"):
        out = io.StringIO()
        call_command("plan", "--at", "2026-06-01", "--lang", lang, stdout=out)
        said[lang] = out.getvalue().splitlines()[0]
    msgid = "Retention plan for %(org)s on %(day)s:"
    values = {"org": policy.organisation.brand or policy.organisation.name, "day": "2026-06-01"}
    assert said["sv"] == swedish(msgid) % values
    assert said["en"] == msgid % values
    assert said["sv"] != said["en"]


# -- (c) a Swedish plural, for one and for several --------------------------------------------


@pytest.mark.parametrize(
    ("msgid", "plural", "forms"),
    [
        ("%(n)d month", "%(n)d months", ("%(n)d månad", "%(n)d månader")),
        ("%(n)d day", "%(n)d days", ("%(n)d dag", "%(n)d dagar")),
        ("%(n)d record", "%(n)d records", ("%(n)d post", "%(n)d poster")),
    ],
)
def test_the_catalogue_has_both_swedish_forms(msgid, plural, forms):
    assert po_plural(msgid) == forms
    with translation.override("sv"):
        assert [ngettext(msgid, plural, n) for n in (1, 3)] == list(forms)


@pytest.mark.parametrize(
    ("duration", "sv", "en"),
    [
        (Duration(months=1), "1 månad", "1 month"),
        (Duration(months=3), "3 månader", "3 months"),
        (Duration(years=1, months=6), "1 år 6 månader", "1 year 6 months"),
        (Duration(years=2, days=1), "2 år 1 dag", "2 years 1 day"),
        (Duration(days=7), "7 dagar", "7 days"),
    ],
)
def test_a_duration_says_one_or_several(duration, sv, en):
    said = {}
    for lang in ("sv", "en"):
        with translation.override(lang):
            said[lang] = describe.duration_text(duration)
    assert said == {"sv": sv, "en": en}
    singular, several = po_plural("%(n)d month")
    if duration.months:
        form = singular if duration.months == 1 else several
        assert form % {"n": duration.months} in said["sv"]


# -- (d) problems and refusals: English as a str, the reader's language where shown ----------


def test_a_policy_problem_is_english_and_says_itself_in_swedish(tmp_path, db):
    text = config.DEFAULT_POLICY.read_text(encoding="utf-8")
    path = tmp_path / "policy.toml"
    path.write_text(
        text.replace("\n[residency]", '\n[own_data]\nevidence = "audit_trail"\n\n[residency]', 1),
        encoding="utf-8",
    )
    with translation.override("sv"), pytest.raises(PolicyError) as refused:
        load_policy(path, registry_fields())
    unknown = "names category %(value)r, which the policy does not define"
    whole, what = "%(problem)s (own data: %(what)s)", "the evidence log's entries"
    en = whole % {"problem": unknown % {"value": "audit_trail"}, "what": what}
    sv = swedish(whole) % {
        "problem": swedish(unknown) % {"value": "audit_trail"},
        "what": swedish(what),
    }
    # str() is the English, whatever language was active: logs, JSON and tests read it.
    assert str(refused.value).endswith(f"own_data.evidence: {en}")
    with translation.override("sv"):
        assert refused.value.translated().endswith(f"own_data.evidence: {sv}")
    with translation.override("en"):
        assert refused.value.translated() == str(refused.value)


def test_a_refused_request_says_why_in_swedish():
    with pytest.raises(cases.CaseError) as refused:
        cases.extend(None, 3, "", date(2026, 1, 1), now=None, actor="anna")
    msgid = "the deadline can be extended by 1 or 2 months"
    assert str(refused.value) == msgid
    with translation.override("sv"):
        assert refused.value.translated() == swedish(msgid)


def _sentences(source: str) -> Iterator[tuple[str, str | None]]:
    """(msgid, plural) of each `said(...)` and `said_n(...)` in `source`."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") in ("said", "said_n"):
            words = [a.value for a in node.args if isinstance(a, ast.Constant)]
            if words and isinstance(words[0], str):
                yield words[0], words[1] if node.func.id == "said_n" else None


def test_every_sentence_said_has_its_swedish():
    found, missing = 0, []
    for path in sources():
        for msgid, plural in _sentences(path.read_text(encoding="utf-8")):
            found += 1
            with translation.override("sv"):
                sv = ngettext(msgid, plural, 2) if plural else gettext(msgid)
            if sv == (plural or msgid):
                missing.append(f"{path.relative_to(GALLRA)}: {msgid!r}")
    assert found > 100  # the policy check's problems, at least: no vacuous pass
    assert missing == []


def test_the_banner_speaks_from_the_catalogue():
    sv, en = banner_text("sv"), banner_text("en")
    assert sv["accept"] == swedish("Accept all", "cookie banner") == "Acceptera alla"
    assert en["accept"] == "Accept all"
    assert sv.keys() == en.keys() and all(sv[k] != en[k] for k in ("title", "body", "save"))
    assert "{categories}" in sv["body"] and "{categories}" in en["body"]  # banner.js fills it
