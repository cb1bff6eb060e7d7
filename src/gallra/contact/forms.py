"""The public forms. Every field refuses control characters: a line break in a name would
become a second line in a mail header (header injection), a NUL cannot be stored on
PostgreSQL, and bidirectional overrides make a name read differently in staff's mail."""

from __future__ import annotations

import unicodedata

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from gallra.subjects.models import SubjectRequest

MESSAGE_MAX = 5000
# Bidirectional embeddings, overrides and isolates: text that displays in another order.
BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
MULTI_LINE_ALLOWED = frozenset("\t\n\r")
CONTROL_SINGLE_LINE = _("Line breaks and control characters are not allowed here (%(char)s).")
CONTROL_MULTI_LINE = _("Control characters are not allowed here (%(char)s).")


def refused_character(text: str, *, multi_line: bool) -> str | None:
    """The first character a field may not hold, or None. Control characters (C0, DEL, C1
    with NEL), line and paragraph separators (U+2028, U+2029) and bidi overrides are refused;
    a multi-line field keeps tab and line breaks."""
    for char in text:
        if multi_line and char in MULTI_LINE_ALLOWED:
            continue
        if unicodedata.category(char) in ("Cc", "Zl", "Zp", "Cs") or char in BIDI:
            return char
    return None


class PublicForm(forms.Form):
    """A form anyone may post: each field's text, as posted (before trimming), is checked for
    characters it may not hold."""

    def clean(self):
        data = super().clean()
        for name, field in self.fields.items():
            posted = self.data.get(self.add_prefix(name))
            if not isinstance(posted, str) or name in self.errors:
                continue
            multi_line = isinstance(field.widget, forms.Textarea)
            char = refused_character(posted, multi_line=multi_line)
            if char is not None:
                message = CONTROL_MULTI_LINE if multi_line else CONTROL_SINGLE_LINE
                shown = {"char": f"U+{ord(char):04X}"}
                self.add_error(name, ValidationError(message, params=shown))
        return data


class ContactForm(PublicForm):
    name = forms.CharField(label=_("Your name"), max_length=200)
    email = forms.EmailField(label=_("Your e-mail address"), max_length=254)
    message = forms.CharField(label=_("Message"), max_length=MESSAGE_MAX, widget=forms.Textarea)


class SubjectRequestForm(PublicForm):
    kind = forms.ChoiceField(label=_("What do you want?"), choices=SubjectRequest.Kind.choices)
    email = forms.EmailField(label=_("Your e-mail address"), max_length=254)
    name = forms.CharField(label=_("Your name"), max_length=200, required=False)
    details = forms.CharField(
        label=_("Anything we should know (for a correction: what is wrong and what is right)"),
        max_length=2000,
        required=False,
        widget=forms.Textarea,
    )
