"""The list behind a bar of the deletion chart: which records a rule deletes on a day.

Staff only (wrapped in the admin's login check in urls.py). Refs, types, rules and dates: no
personal field, so everyone who uses the front page may open it.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.contrib import admin
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from gallra.dashboard.chart import type_name
from gallra.dashboard.timeline import DAYS, TypeQuery, Window, quick_queries
from gallra.datasets.enforcement import forecast as dataset_forecast
from gallra.policy.loading import current_policy
from gallra.policy.model import Rule
from gallra.registry.models import BY_RECORD_TYPE
from gallra.retention.kinds import KINDS

LIMIT = 500  # rows per record type on one page


def planned(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    last_day = today + timedelta(days=DAYS)
    first = _day(request.GET.get("on"), today)
    last = _day(request.GET.get("to"), first)
    if not today <= first <= last <= last_day:
        raise Http404(
            _("Choose days from %(first)s to %(last)s.") % {"first": today, "last": last_day}
        )
    policy = current_policy()
    rule = next((r for r in policy.rule if r.id == request.GET.get("rule")), None)
    sections = []
    rows_elsewhere = _dataset_sections(rule, today, first, last) if rule else []
    with quick_queries():
        window = Window(policy, today)
        if rule is None or (rule.id not in window.rule_ids and not rows_elsewhere):
            raise Http404(_("No deletion rule of that name reaches registry records."))
        for kind in sorted(KINDS.values(), key=lambda k: k.stage):
            if not kind.follows and rule in window.reaching[kind.record_type]:
                sections += _sections(TypeQuery(kind, window), rule, first, last)
    sections += rows_elsewhere
    context = {
        **admin.site.each_context(request),
        "title": _("Deleted under %(rule)s") % {"rule": rule.id},
        "rule": rule,
        "first": first,
        "last": last,
        "sections": sections,
        "limit": LIMIT,
    }
    return render(request, "dashboard/plan.html", context)


def _day(value: str | None, default: date) -> date:
    if not value:
        return default
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise Http404(_("%(value)s is not a date (YYYY-MM-DD).") % {"value": value}) from None


def _dataset_sections(rule: Rule, today: date, first: date, last: date) -> list[dict]:
    """The provider's datasets, counted by the last `enforce` or `plan` (a page view never
    opens them): a count per table, the rows themselves with `gallra plan --type`."""
    totals: dict[str, int] = {}
    for (day, rule_id, record_type), n in dataset_forecast(today, DAYS).items():
        if rule_id == rule.id and first <= day <= last:
            totals[record_type] = totals.get(record_type, 0) + n
    return [
        {"name": type_name(t, 2), "rows": [], "total": n, "cut": False, "elsewhere": t}
        for t, n in sorted(totals.items())
    ]


def _sections(query: TypeQuery, rule: Rule, first: date, last: date) -> list[dict]:
    """A table per record type: the kind's own rows and those that go with them."""
    totals = query.counts()
    found = query.records(rule, first, last, LIMIT)
    sections = []
    for record_type in [query.kind.record_type] + [f.record_type for f in query.followers]:
        model = BY_RECORD_TYPE[record_type]._meta
        change = f"admin:{model.app_label}_{model.model_name}_change"
        rows = [(p, reverse(change, args=[p.pk])) for p in found if p.record_type == record_type]
        total = sum(
            n
            for (d, r, t), n in totals.items()
            if r == rule.id and t == record_type and first <= d <= last
        )
        if total:
            sections.append(
                {
                    "name": type_name(record_type, 2),
                    "rows": rows,
                    "total": total,
                    "cut": total > len(rows),
                }
            )
    return sections
