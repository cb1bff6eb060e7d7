"""The banner's own words (its heading, buttons and table headings), from the catalogue in
the visitor's language; everything else (categories, cookies, purposes) is the provider's
and comes from the policy file."""

from __future__ import annotations

from django.utils import translation
from django.utils.translation import pgettext


def banner_text(lang: str) -> dict[str, str]:
    """The banner's words in `lang`, by the keys banner.js reads; it fills in `{categories}`."""
    with translation.override(lang):
        return {
            "title": pgettext("cookie banner", "We use cookies"),
            "body": pgettext(
                "cookie banner",
                "Necessary cookies make the website work. With your consent we also use: "
                "{categories}. It is your choice, and you can change your mind or withdraw "
                "your consent at any time through the Cookie settings link.",
            ),
            "accept": pgettext("cookie banner", "Accept all"),
            "reject": pgettext("cookie banner", "Reject all"),
            "settings": pgettext("cookie banner", "Let me choose"),
            "save": pgettext("cookie banner", "Save my choices"),
            "reopen": pgettext("cookie banner", "Cookie settings"),
            "details": pgettext(
                "cookie banner", "About the cookies: purpose, duration and who can read them"
            ),
            "choose": pgettext("cookie banner", "Choose which cookies you accept"),
            "always": pgettext("cookie banner", "always on"),
            "cookie": pgettext("cookie banner", "Cookie"),
            "purpose": pgettext("cookie banner", "Purpose"),
            "duration": pgettext("cookie banner", "Duration"),
            "third": pgettext("cookie banner", "Readable by a third party"),
            "yes": pgettext("cookie banner", "yes"),
            "no": pgettext("cookie banner", "no"),
            "service": pgettext("cookie banner", "Service"),
        }
