"""A sentence gallra says about a problem, kept so that it can be shown in any language.

A policy problem or a refused request is made where the language of its reader is not
known: `load_policy` runs for a command (the terminal's language), a page (the visitor's),
the scheduler and tests (none chosen: Django's default, Swedish). So the sentence is a
`Sentence`: a `str` holding its English (the msgid filled in), which logs, the evidence
log, JSON and tests read the same whoever runs them, and which `translated()` says in the
language active where it is shown (`translation.override(lang)`, issue 18).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext, ngettext


class Sentence(str):
    """English as a `str`; `translated()` in the active language, from the catalogue."""

    msgid: str
    plural: str | None
    values: dict[str, Any]

    def __new__(cls, msgid: str, plural: str | None = None, **values: Any) -> Sentence:
        english = plural if plural is not None and values.get("n") != 1 else msgid
        if values:
            if any(isinstance(v, Promise) for v in values.values()):
                with translation.override("en"):  # a lazy label (a model choice) in English
                    english = english % values
            else:
                english = english % values
        self = super().__new__(cls, english)
        self.msgid, self.plural, self.values = msgid, plural, values
        return self

    def translated(self) -> str:
        """The sentence in the active language (values that are sentences too)."""
        if self.plural is not None:
            text = ngettext(self.msgid, self.plural, self.values["n"])
        else:
            text = gettext(self.msgid)
        if not self.values:
            return text
        return text % {name: translated(value) for name, value in self.values.items()}


class Joined(Sentence):
    """Sentences joined by a separator (`"; "`), each translated on its own."""

    separator: str
    parts: tuple[object, ...]

    def __new__(cls, separator: str, parts: Iterable[object]) -> Joined:  # type: ignore[misc]
        parts = tuple(parts)
        self = str.__new__(cls, separator.join(str(p) for p in parts))
        self.msgid, self.plural, self.values = str(self), None, {}
        self.separator, self.parts = separator, parts
        return self

    def __getnewargs__(self) -> tuple[str, tuple[object, ...]]:  # type: ignore[override]
        return self.separator, self.parts

    def translated(self) -> str:
        return self.separator.join(str(translated(p)) for p in self.parts)


def said(msgid: str, **values: Any) -> Sentence:
    """A sentence: `msgid` with its `%(name)s` placeholders filled in from `values`."""
    return Sentence(msgid, **values)


def said_n(singular: str, plural: str, n: int, **values: Any) -> Sentence:
    """A sentence about `n` things (`%(n)s` in it): singular or plural in each language."""
    return Sentence(singular, plural, n=n, **values)


def either(names: list[str]) -> str:
    """The names joined by "or" ("a string or a table"), in each language."""
    found = names[0]
    for name in names[1:]:
        found = said("%(first)s or %(second)s", first=found, second=name)
    return found


def joined(separator: str, parts: Iterable[object]) -> Sentence:
    """`separator.join(parts)`, each part translated where the whole is."""
    return Joined(separator, parts)


def translated(text: object) -> Any:
    """`text` in the active language when it is a Sentence; anything else as it is."""
    return text.translated() if isinstance(text, Sentence) else text
