"""Django's list of common passwords is English; Swedish staff pick Swedish words. This
refuses a password that is a common Swedish word, or the provider's own name, dressed up with
digits and punctuation ("Sommar2026!!", "RedCloud#2026"): the first guesses of any attack on
a Swedish company. The words are ours, written for this check; it ships offline."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# Seasons, months, days, greetings, places, names and words that top Swedish password leaks,
# written folded (a for å and ä, o for ö), as `letters()` compares them.
_LIST = """
    losenord password sommar vinter var host sommaren vintern varen hosten midsommar jul julafton
    januari februari mars april maj juni juli augusti september oktober november december
    mandag tisdag onsdag torsdag fredag lordag sondag helg semester
    hej hejhej hejsan tjena tjenare halla valkommen admin administrator
    sverige svensk svenska stockholm goteborg malmo uppsala vasteras orebro linkoping
    helsingborg jonkoping norrkoping lund umea sundsvall gavle
    kalle anka kalleanka pippi bamse emil mamma pappa alskling karlek
    fotboll hockey aik djurgarden hammarby ifk blavitt
    hund katt hemlig hemligt qwerty qwertyuiop asdfgh zxcvbn abc abcdef
    test testar prova start borja byt bytmig andra andramig ny nytt
    kaffe fika kanelbulle glass godis volvo saab ikea ericsson spotify
"""
WORDS = set(_LIST.split())
_FOLD = str.maketrans("åäöéü", "aaoeu")


def letters(password: str) -> str:
    """The password's letters alone, lower-case, å/ä/ö folded: what is left to guess."""
    return re.sub(r"[^a-z]", "", password.casefold().translate(_FOLD))


class SwedishCommonPasswordValidator:
    def validate(self, password: str, user=None) -> None:
        core = letters(password)
        if len(core) < 4 or core in WORDS or core in _own_names():
            raise ValidationError(
                _(
                    "This password is a common word or the company's name with digits and "
                    "signs added: it is among the first an attacker tries."
                ),
                code="password_too_common",
            )

    def get_help_text(self) -> str:
        return _("Your password can't be a common Swedish word or the company's name.")


def _own_names() -> set[str]:
    """The provider's name and brand, whole and in runs of words ("redcloud", "jufcorp")."""
    from gallra.policy.loading import PolicyError, current_policy

    try:
        organisation = current_policy().organisation
    except (PolicyError, OSError):
        return set()
    names = set()
    for name in (organisation.name, organisation.brand):
        words = [letters(part) for part in name.split()]
        # every run of whole words: "red", "redcloud", "redcloudit", "cloudit", ...
        for i in range(len(words)):
            for j in range(i + 1, len(words) + 1):
                names.add("".join(words[i:j]))
    names.discard("ab")
    return names
