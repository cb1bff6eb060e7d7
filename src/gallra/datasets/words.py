"""The datasets' part of `plan`, `explain` and `enforce` in words, in Swedish or English."""

from __future__ import annotations

from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from gallra.retention.planner import Decision


def is_row_type(record_type: str) -> bool:
    """`DATASET:TABLE`, as the datasets store names a table's rows."""
    return record_type.count(":") == 1 and all(record_type.split(":"))


def type_name(record_type: str, lang: str) -> str | None:
    if not is_row_type(record_type):
        return None
    with translation.override(lang):
        return _("row of %(table)s") % {"table": record_type}


def reason(decision: Decision, lang: str) -> str | None:
    if decision.reason != "owner_unknown":
        return None
    owner = decision.details.get("owner") or ""
    with translation.override(lang):
        if not owner:
            return _("the row names no owner: the registry cannot date it")
        return _(
            "its owner %(owner)s is not in the registry, nor among what gallra deleted: "
            "check the row"
        ) % {"owner": owner}


def summary_lines(part: dict, lang: str) -> list[str]:
    lines = []
    with translation.override(lang):
        if part.get("dry_run"):
            n = part.get("due", 0)
            if n:
                said = ngettext(
                    "%(n)s row in the datasets would be deleted or overwritten",
                    "%(n)s rows in the datasets would be deleted or overwritten",
                    n,
                )
                lines.append("  " + said % {"n": n})
            return lines
        for item in part.get("by_rule", []):
            n = item["count"]
            values = {"rule": item["rule"], "n": n, "table": item["type"]}
            if item["erase"] == "delete":
                said = ngettext(
                    "%(rule)s: %(n)s row of %(table)s deleted",
                    "%(rule)s: %(n)s rows of %(table)s deleted",
                    n,
                )
            else:
                said = ngettext(
                    "%(rule)s: %(n)s row of %(table)s overwritten",
                    "%(rule)s: %(n)s rows of %(table)s overwritten",
                    n,
                )
            lines.append("  " + said % values)
        n = part.get("resumed", 0)
        if n:
            said = ngettext(
                "%(n)s dataset row changed by an interrupted run, recorded now",
                "%(n)s dataset rows changed by an interrupted run, recorded now",
                n,
            )
            lines.append("  " + said % {"n": n})
    return lines
