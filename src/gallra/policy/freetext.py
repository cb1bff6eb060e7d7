"""One truth: a text of the policy may not state what a structured value says.

gallra writes every period in the notice, the record of processing and the banner from the
policy's durations (`keep_for`, `backups.window`, `logins.sealed_ip_key_lifetime`, a cookie's
`duration`), so a period written in a text as well could only repeat one, or contradict it
after the next edit. The rule is simple and predictable (docs/policy-file.md, "One truth"):

* no text states a duration: a number (in digits or words, Swedish or English, "a"/"en"
  included) followed by a unit of time ("one week", "7 days", "en vecka", "14 dagar",
  "sex månader", "2 years", "ett år", "12-month"), or an ISO 8601 duration ("P7D");
* a country a text names must be one `residency.allowed_countries` allows: the structured
  values say where data is, and every store, backup and recipient must be there already.

Both are checked on every text given per language (purpose, held_outside, measures, names,
descriptions, tasks, opening hours, ...), in each of its languages.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from gallra.policy.sentences import Sentence, said

_ENGLISH_NUMBERS = (
    "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty ninety hundred half"
)
_SWEDISH_NUMBERS = (
    "ett två tre fyra fem sex sju åtta nio tio elva tolv tretton fjorton femton sexton "
    "sjutton arton nitton tjugo trettio fyrtio femtio sextio nittio hundra halvt"
)
_NUMBER_WORDS = [*_ENGLISH_NUMBERS.split(), *_SWEDISH_NUMBERS.split()]
# "a" and "en" count as one, except in a frequency: "once a year", "twice a day".
_ARTICLES = r"(?<!\bonce )(?<!\btwice )(?<!\btimes )(?<!\bper )\b(?:an?|en)"
_UNITS = (
    r"(?:working |business |calendar |full |whole )?"
    r"(?:minutes?|hours?|days?|weeks?|fortnights?|months?|years?|decades?)(?:'s|s')?"
    r"|(?:arbets|kalender|bank)?(?:dag|dagar|dagars|dags|dygn|dygns)"
    r"|minut|minuter|minuters|timme|timmar|timmars|timmes"
    r"|vecka|veckor|veckors|veckas|månad|månader|månaders|månads"
    r"|år|års|halvår|halvårs|kvartal|kvartals|decennium|decennier"
)
_DURATION = re.compile(
    rf"(?:\b(?:[0-9]+(?:[.,][0-9]+)?|{'|'.join(_NUMBER_WORDS)})|{_ARTICLES})"
    rf"(?:[\s\u00a0-]+(?:and a half|och en halv))?"
    rf"[\s\u00a0-]+(?:{_UNITS})\b"
    r"|\bPT?[0-9]+[YMWDH](?:[0-9]+[YMWDHS])*\b",
    re.IGNORECASE,
)

# Countries by name, in English and in Swedish, names separated by "|" (genitive forms are
# found by the pattern): the EU/EEA and the countries most often used for hosting. A lexicon
# to recognise names in the provider's texts, not sentences gallra says.
COUNTRY_NAMES: dict[str, tuple[str, str]] = {
    "AT": ("Austria", "Österrike"),
    "BE": ("Belgium", "Belgien"),
    "BG": ("Bulgaria", "Bulgarien"),
    "CY": ("Cyprus", "Cypern"),
    "CZ": ("Czechia|Czech Republic", "Tjeckien"),
    "DE": ("Germany", "Tyskland"),
    "DK": ("Denmark", "Danmark"),
    "EE": ("Estonia", "Estland"),
    "ES": ("Spain", "Spanien"),
    "FI": ("Finland", "Finland"),
    "FR": ("France", "Frankrike"),
    "GR": ("Greece", "Grekland"),
    "HR": ("Croatia", "Kroatien"),
    "HU": ("Hungary", "Ungern"),
    "IE": ("Ireland", "Irland"),
    "IT": ("Italy", "Italien"),
    "LT": ("Lithuania", "Litauen"),
    "LU": ("Luxembourg", "Luxemburg"),
    "LV": ("Latvia", "Lettland"),
    "MT": ("Malta", "Malta"),
    "NL": ("the Netherlands|Netherlands|Holland", "Nederländerna|Holland"),
    "PL": ("Poland", "Polen"),
    "PT": ("Portugal", "Portugal"),
    "RO": ("Romania", "Rumänien"),
    "SE": ("Sweden", "Sverige"),
    "SI": ("Slovenia", "Slovenien"),
    "SK": ("Slovakia", "Slovakien"),
    "IS": ("Iceland", "Island"),
    "LI": ("Liechtenstein", "Liechtenstein"),
    "NO": ("Norway", "Norge"),
    "CH": ("Switzerland", "Schweiz"),
    "GB": ("the United Kingdom|United Kingdom|Great Britain|UK", "Storbritannien"),
    "US": ("the United States|United States|USA", "USA|Förenta staterna"),
    "CA": ("Canada", "Kanada"),
    "AU": ("Australia", "Australien"),
    "NZ": ("New Zealand", "Nya Zeeland"),
    "JP": ("Japan", "Japan"),
    "KR": ("South Korea", "Sydkorea"),
    "CN": ("China", "Kina"),
    "HK": ("Hong Kong", "Hongkong"),
    "SG": ("Singapore", "Singapore"),
    "IN": ("India", "Indien"),
    "IL": ("Israel", "Israel"),
    "TR": ("Türkiye|Turkey", "Turkiet"),
    "UA": ("Ukraine", "Ukraina"),
    "RU": ("Russia", "Ryssland"),
    "BR": ("Brazil", "Brasilien"),
    "ZA": ("South Africa", "Sydafrika"),
}


def _names_pattern(index: int) -> re.Pattern[str]:
    """Whole country names of one language (0 English, 1 Swedish), case as written."""
    names = sorted(
        {name for both in COUNTRY_NAMES.values() for name in both[index].split("|")},
        key=len,
        reverse=True,
    )
    return re.compile(rf"\b(?:{'|'.join(re.escape(n) for n in names)})(?:'s|s)?\b")


_COUNTRY_IN = {"en": _names_pattern(0), "sv": _names_pattern(1)}
_CODE_OF = {
    (lang, name): code
    for code, (english, swedish) in COUNTRY_NAMES.items()
    for lang, names in (("en", english), ("sv", swedish))
    for name in names.split("|")
}


def durations(text: str) -> list[str]:
    """Each phrase of `text` that states a duration."""
    return [m.group().strip() for m in _DURATION.finditer(text)]


def countries(text: str, lang: str) -> list[tuple[str, str]]:
    """(code, phrase) for each country `text`, written in `lang`, names."""
    found = []
    for match in _COUNTRY_IN[lang].finditer(text):
        phrase = match.group()
        name = phrase if (lang, phrase) in _CODE_OF else re.sub(r"('s|s)$", "", phrase)
        found.append((_CODE_OF[(lang, name)], phrase))
    return found


_LANGUAGE = {"sv": said("in Swedish"), "en": said("in English")}


def problems(
    text: str | dict[str, str], allowed: list[str]
) -> Iterator[tuple[str | None, Sentence]]:
    """(language or None for a text of every language, problem) for each duration and each
    country outside `allowed` that `text` states."""
    if isinstance(text, str):
        given = [(None, lang, text) for lang in ("sv", "en")]
    else:
        given = [(lang, lang, value) for lang, value in text.items() if lang in _COUNTRY_IN]
    seen = set()
    for key, lang, value in given:
        language = _LANGUAGE[lang] if key else said("in every language")
        for phrase in durations(value):
            if (key, phrase) not in seen:
                seen.add((key, phrase))
                yield key, _duration_problem(language, phrase)
        for code, phrase in countries(value, lang):
            if code not in allowed and (key, phrase) not in seen:
                seen.add((key, phrase))
                yield key, _country_problem(language, phrase, code, allowed)


def _duration_problem(language: str, phrase: str) -> Sentence:
    return said(
        'states a duration %(language)s: "%(phrase)s". A text never states a duration: '
        "gallra says each one from its structured value (keep_for, backups.window, "
        "logins.sealed_ip_key_lifetime, a cookie's duration); remove it from the text",
        language=language,
        phrase=phrase,
    )


def _country_problem(language: str, phrase: str, code: str, allowed: list[str]) -> Sentence:
    return said(
        'names a country %(language)s: "%(phrase)s" (%(country)s), which is outside the '
        "allowed countries (%(allowed)s): a text may name only a country that "
        "residency.allowed_countries allows",
        language=language,
        phrase=phrase,
        country=code,
        allowed=", ".join(allowed),
    )
