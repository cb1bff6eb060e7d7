"""The deletion timeline drawn as SVG on the server: stacked bars, one colour per rule.

Only SVG elements and presentation attributes (fill=, x=, ...): no script, no style
attribute, no <style> block, so the page works under a strict Content-Security-Policy.
Every number is computed here (`draw`), and the elements are written out here too (`svg`):
a template took longer than the rest of the chart, some 450 nodes for a month of bars.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlencode

from django.urls import reverse
from django.utils import dateformat
from django.utils.formats import get_format, number_format
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from gallra.dashboard.timeline import DAYS, Timeline
from gallra.registry.models import BY_RECORD_TYPE

# Okabe and Ito's palette: told apart with any colour vision; black and yellow last.
COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000", "#F0E442")
WIDTH = 960
LEFT, RIGHT, TOP, PLOT_HEIGHT = 56, 12, 24, 200
LEGEND_LINE = 20


@dataclass(frozen=True)
class Segment:
    x: float
    y: float
    width: float
    height: float
    fill: str
    title: str
    href: str


@dataclass(frozen=True)
class Label:
    x: float
    y: float
    text: str


@dataclass(frozen=True)
class LegendItem:
    y: float
    fill: str
    text: str
    href: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    plot_left: float
    plot_right: float
    plot_bottom: float
    segments: list[Segment]
    totals: list[Label]  # a day's total above its bar
    x_labels: list[Label]
    y_labels: list[Label]  # with a grid line at each y
    legend: list[LegendItem]
    x_title: Label
    y_title: Label
    empty: bool


def plan_link(rule: str, first: date, last: date | None = None, base: str = "") -> str:
    """The list of records behind a bar (one day) or a legend entry (the window); `base`,
    the list's address, when the caller has it already."""
    query = {"rule": rule, "on": first.isoformat()}
    if last is not None and last != first:
        query["to"] = last.isoformat()
    return f"{base or reverse('dashboard:plan')}?{urlencode(query)}"


def type_name(record_type: str, n: int) -> str:
    if record_type not in BY_RECORD_TYPE:  # a dataset's rows: `DATASET:TABLE`
        return ngettext("row in %(table)s", "rows in %(table)s", n) % {"table": record_type}
    meta = BY_RECORD_TYPE[record_type]._meta
    return str(meta.verbose_name if n == 1 else meta.verbose_name_plural)


def draw(timeline: Timeline) -> Chart:
    """Every shape and label of the chart, placed; a day's rules stacked in policy order."""
    colour = {rule: COLOURS[i % len(COLOURS)] for i, rule in enumerate(timeline.rules)}
    base = reverse("dashboard:plan")
    grouped = _grouping()
    names: dict[tuple[str, int], str] = {}  # a record type's name, singular or plural

    def name(record_type: str, n: int) -> str:
        key = (record_type, min(n, 2))
        if key not in names:
            names[key] = type_name(record_type, n)
        return names[key]

    days = timeline.days
    plot_right = WIDTH - RIGHT
    plot_bottom = TOP + PLOT_HEIGHT
    step_x = (plot_right - LEFT) / len(days)
    bar = step_x * 0.7
    by_type: dict[tuple[date, str], dict[str, int]] = {}
    for (day, rule, record_type), n in timeline.counts.items():
        if n:
            by_type.setdefault((day, rule), {})[record_type] = n
    per_day = [
        {rule: sum(by_type.get((day, rule), {}).values()) for rule in timeline.rules}
        for day in days
    ]
    top = max((sum(d.values()) for d in per_day), default=0)
    step = nice_step(max(top, 1))
    y_max = step * max(1, math.ceil(top / step))

    def y_of(value: float) -> float:
        return plot_bottom - PLOT_HEIGHT * value / y_max

    segments, totals = [], []
    for k, (day, counts) in enumerate(zip(days, per_day, strict=True)):
        x = LEFT + k * step_x + (step_x - bar) / 2
        y = plot_bottom
        for rule in timeline.rules:
            n = counts[rule]
            if not n:
                continue
            # At least 2 px, so that a day with one record beside one with thousands shows.
            height = max(PLOT_HEIGHT * n / y_max, 2)
            y -= height
            segments.append(
                Segment(
                    round(x, 1),
                    round(y, 1),
                    round(bar, 1),
                    round(height, 1),
                    colour[rule],
                    _title(day, rule, by_type[(day, rule)], grouped, name),
                    plan_link(rule, day, base=base),
                )
            )
        total = sum(counts.values())
        if total:
            text = grouped(total)
            totals.append(Label(round(x + bar / 2, 1), round(y - 4, 1), text))
    x_labels = [
        Label(
            round(LEFT + k * step_x + step_x / 2, 1),
            plot_bottom + 16,
            dateformat.format(day, "j b"),
        )
        for k, day in enumerate(days)
        if k % 5 == 0
    ]
    y_labels = [Label(LEFT - 6, round(y_of(v), 1), grouped(v)) for v in range(0, y_max + 1, step)]
    legend_top = plot_bottom + 52
    legend = [
        LegendItem(
            legend_top + i * LEGEND_LINE,
            colour[rule],
            _("%(rule)s: %(count)s in %(days)s days")
            % {
                "rule": rule,
                "count": grouped(timeline.total(rule)),
                "days": DAYS + 1,
            },
            plan_link(rule, days[0], days[-1], base=base),
        )
        for i, rule in enumerate(timeline.rules)
    ]
    return Chart(
        width=WIDTH,
        height=legend_top + len(legend) * LEGEND_LINE,
        plot_left=LEFT,
        plot_right=plot_right,
        plot_bottom=plot_bottom,
        segments=segments,
        totals=totals,
        x_labels=x_labels,
        y_labels=y_labels,
        legend=legend,
        x_title=Label((LEFT + plot_right) / 2, plot_bottom + 36, _("Day of deletion")),
        y_title=Label(14, TOP + PLOT_HEIGHT / 2, _("Records")),
        empty=not segments,
    )


def svg(chart: Chart) -> SafeString:
    """The chart as an <svg> element, every text and address escaped."""
    title = escape(_("Deletions in the next 30 days, per rule"))
    left, right, bottom = chart.plot_left, chart.plot_right, chart.plot_bottom
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="dashboard-chart" '
        f'viewBox="0 0 {chart.width} {chart.height}" width="{chart.width}" '
        f'height="{chart.height}" aria-labelledby="dashboard-chart-title">',
        f'<title id="dashboard-chart-title">{title}</title>',
        '<g class="dashboard-grid" font-size="11" fill="#666666">',
    ]
    for label in chart.y_labels:
        out.append(
            f'<line x1="{left}" x2="{right}" y1="{label.y}" y2="{label.y}" stroke="#dddddd" '
            f'stroke-width="1"/><text x="{label.x}" y="{label.y}" text-anchor="end" '
            f'dominant-baseline="middle">{escape(label.text)}</text>'
        )
    out.append('</g><g class="dashboard-bars">')
    for b in chart.segments:
        out.append(
            f'<a href="{escape(b.href)}"><rect class="dashboard-segment" x="{b.x}" y="{b.y}" '
            f'width="{b.width}" height="{b.height}" fill="{b.fill}">'
            f"<title>{escape(b.title)}</title></rect></a>"
        )
    out.append(
        '</g><g class="dashboard-totals" font-size="10" fill="#333333" text-anchor="middle">'
    )
    for label in chart.totals:
        out.append(f'<text x="{label.x}" y="{label.y}">{escape(label.text)}</text>')
    out.append(
        f'</g><line x1="{left}" x2="{right}" y1="{bottom}" y2="{bottom}" stroke="#333333" '
        'stroke-width="1"/>'
        '<g class="dashboard-axis" font-size="11" fill="#333333" text-anchor="middle">'
    )
    for label in chart.x_labels:
        out.append(
            f'<line x1="{label.x}" x2="{label.x}" y1="{bottom}" y2="{bottom + 4}" '
            f'stroke="#333333" stroke-width="1"/>'
            f'<text x="{label.x}" y="{label.y}">{escape(label.text)}</text>'
        )
    x, y = chart.x_title, chart.y_title
    out.append(
        f'<text x="{x.x}" y="{x.y}" font-weight="bold">{escape(x.text)}</text>'
        f'<text x="{y.x}" y="{y.y}" font-weight="bold" transform="rotate(-90 {y.x} {y.y})">'
        f"{escape(y.text)}</text></g>"
        '<g class="dashboard-legend" font-size="12" fill="#333333">'
    )
    for item in chart.legend:
        out.append(
            f'<a href="{escape(item.href)}"><rect x="{left}" y="{item.y}" width="12" '
            f'height="12" fill="{item.fill}"/><text x="{left + 18}" y="{item.y + 10}">'
            f"{escape(item.text)}</text></a>"
        )
    out.append("</g></svg>")
    return mark_safe("\n".join(out))  # noqa: S308 - every text and address escaped above


def nice_step(top: int, ticks: int = 4) -> int:
    """A round step (1, 2 or 5 times a power of ten) giving about `ticks` grid lines."""
    raw = max(top / ticks, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    return next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)


def _title(day: date, rule: str, by_type: dict[str, int], grouped, name) -> str:
    n = sum(by_type.values())
    types = ", ".join(
        f"{grouped(m)} {name(t, m)}" for t, m in sorted(by_type.items(), key=lambda item: -item[1])
    )
    return _("%(day)s, %(rule)s: %(count)s records (%(types)s)") % {
        "day": day.isoformat(),
        "rule": rule,
        "count": grouped(n),
        "types": types,
    }


def _grouping() -> Callable[[int], str]:
    """number_format(n, force_grouping=True) for whole numbers, the language's separator
    looked up once: a chart writes hundreds of numbers."""
    if get_format("NUMBER_GROUPING") != 3:
        return lambda n: number_format(n, force_grouping=True)
    separator = get_format("THOUSAND_SEPARATOR")
    return lambda n: f"{n:,}".replace(",", separator)
