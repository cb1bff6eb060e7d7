"""Why something about a subject is kept, and until when, as the subject reads it in the access
export and the erasure certificate. In the active language (`translation.override(lang)`)."""

from __future__ import annotations

from datetime import date

from django.utils.translation import gettext


def why_kept(reason: str, until: date | str | None, detail: str = "") -> str:
    """ "sparas enligt lag (Bokföringslagen) till och med 2031-12-31" and the like."""
    values = {"until": until, "detail": detail}
    if reason == "law":
        return gettext("kept by law (%(detail)s) until %(until)s") % values
    if reason == "hold":
        if until is None:
            return gettext("kept because of %(detail)s until further notice") % values
        return gettext("kept because of %(detail)s until %(until)s") % values
    if reason == "contract":
        if until is None:
            return gettext(
                "the customer agreement is active: deleted under the retention rules once it ends"
            )
        return (
            gettext(
                "the customer agreement: deleted under the retention rules, at the latest %(until)s"
            )
            % values
        )
    if reason == "dependant":
        return gettext("needed by a record that is kept")
    raise ValueError(f"unknown reason {reason!r}")
