"""The front page's panels: what needs someone's attention today, in counts, refs and dates.

Each panel costs a fixed number of queries whatever the size of the registry (aggregates and
at most ROWS rows), and shows no personal data: a technician who may not see any uses the
page too. Staff appear by user name (who a task is for), never by name or e-mail.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from urllib.parse import urlencode

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db.models import Count, Min, Model, Q, Subquery, Window
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from gallra.backups.models import BackupRun
from gallra.dashboard.chart import draw, plan_link, svg
from gallra.dashboard.forecast import stored_deletions
from gallra.dashboard.models import Forecast
from gallra.dashboard.timeline import DAYS, Timeline
from gallra.datasets.enforcement import forecast as dataset_forecast
from gallra.evidence.models import Entry
from gallra.instance import checklist
from gallra.instance.schedule import JOBS, today_failures
from gallra.logins.models import LoginAlert
from gallra.outbox import delivery as outbox
from gallra.policy.loading import PolicyError, current_policy
from gallra.policy.model import Policy
from gallra.registry.models import BY_RECORD_TYPE, Hold
from gallra.retention import arming
from gallra.retention.models import EnforcementRun, ManualTask
from gallra.retention.tasks import unreachable
from gallra.subjects.models import SubjectRequest

ROWS = 10  # rows a list panel shows; "show all" leads to the rest
STALE = timedelta(days=2)  # a daily run older than this counts as not run
SOON = 30  # days: holds ending within this many days


def changelist(model: type[Model], **filters) -> str:
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    return f"{url}?{urlencode(filters)}" if filters else url


def change(obj: Model) -> str:
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])


# -- data-subject requests --------------------------------------------------------------------


def subject_requests(today: date) -> dict:
    """Open requests by deadline, overdue first (Art. 12(3): one month, extended at most two)."""
    open_ = SubjectRequest.objects.filter(status__in=SubjectRequest.OPEN)
    week = today + timedelta(days=7)
    first = list(
        open_.order_by("due", "received", "pk")
        .only("ref", "kind", "status", "due")
        .annotate(
            total=Window(Count("pk")),
            overdue=Window(Count("pk", filter=Q(due__lt=today))),
            week=Window(Count("pk", filter=Q(due__gte=today, due__lte=week))),
        )[:ROWS]
    )
    statuses = ",".join(SubjectRequest.OPEN)
    rows = [
        {
            "ref": r.ref,
            "kind": r.get_kind_display(),
            "status": r.get_status_display(),
            "due": r.due,
            "days": (r.due - today).days,
            "href": change(r),
        }
        for r in first
    ]
    return {
        **{name: getattr(first[0], name) if first else 0 for name in ("total", "overdue", "week")},
        "rows": rows,
        "all": changelist(SubjectRequest, status__in=statuses),
        "overdue_href": changelist(SubjectRequest, status__in=statuses, due__lt=today),
        "week_href": changelist(SubjectRequest, status__in=statuses, due__gte=today, due__lte=week),
    }


# -- manual tasks ------------------------------------------------------------------------------


def manual_tasks(today: date, policy: Policy | None = None) -> dict:
    """Deletion only a person can do (P16), outstanding, per person, most overdue first; in
    red, the tasks that reach no one (retention.tasks.unreachable)."""
    username = f"assignee__{get_user_model().USERNAME_FIELD}"
    outstanding = ManualTask.objects.filter(done_at__isnull=True)
    counts = outstanding.aggregate(
        total=Count("pk"),
        overdue=Count("pk", filter=Q(due__lt=today)),
        people=Count("assignee", distinct=True),
    )
    people = (
        outstanding.values("assignee", username)
        .annotate(n=Count("pk"), overdue=Count("pk", filter=Q(due__lt=today)), first=Min("due"))
        .order_by("-overdue", "first", username)[:ROWS]
    )
    rows = [
        {
            "who": p[username],
            "n": p["n"],
            "overdue": p["overdue"],
            "first": p["first"],
            "href": changelist(ManualTask, done_at__isempty=1, assignee__id__exact=p["assignee"]),
            "overdue_href": changelist(
                ManualTask, done_at__isempty=1, due__lt=today, assignee__id__exact=p["assignee"]
            ),
        }
        for p in people
    ]
    return {
        **counts,
        "rows": rows,
        "all": changelist(ManualTask, done_at__isempty=1),
        "overdue_href": changelist(ManualTask, done_at__isempty=1, due__lt=today),
        "unreachable": [str(u) for u in unreachable(policy, today)] if policy else [],
    }


# -- login alerts ------------------------------------------------------------------------------


def login_alerts() -> dict:
    """Attack patterns not yet acknowledged; which network or account is on the alert's page."""
    waiting = LoginAlert.objects.filter(acknowledged__isnull=True)
    first = list(
        waiting.order_by("-last_at")
        .only("kind", "events", "first_at", "last_at")
        .annotate(total=Window(Count("pk")))[:ROWS]
    )
    rows = [
        {
            "kind": a.get_kind_display(),
            "events": a.events,
            "first_at": a.first_at,
            "last_at": a.last_at,
            "href": change(a),
        }
        for a in first
    ]
    return {
        "total": first[0].total if first else 0,
        "rows": rows,
        "all": changelist(LoginAlert, acknowledged__isempty=1),
    }


# -- the daily runs ----------------------------------------------------------------------------


@dataclass
class Run:
    """The last run of a daily job: green when it passed within STALE, red otherwise; amber
    (`waiting`) when it waits for a person, as enforcement that is not armed does."""

    label: str
    at: datetime | None
    passed: bool
    problems: list[str] = field(default_factory=list)
    href: str = ""
    stale: bool = False
    waiting: str = ""  # what a person must do first, e.g. arm enforcement
    links: list[tuple[str, str]] = field(default_factory=list)  # (text, href) to review

    @property
    def ok(self) -> bool:
        return self.at is not None and self.passed and not self.stale and not self.waiting

    @property
    def state(self) -> str:
        """The row's colour: ok (green), waiting (amber: for a person; nothing failed) or
        failed (red)."""
        if self.ok:
            return "ok"
        failed = self.at is not None and (not self.passed or self.stale)
        return "waiting" if self.waiting and not failed else "failed"


# The daily jobs of `gallra serve` (instance.schedule) that have a row of their own here.
ROW_OF_JOB = {"enforce": 0, "drill": 1, "backup": 2, "residency": 3}


def runs(now: datetime, armed: Run | None = None) -> list[Run]:
    backups = _latest(BackupRun, "kind", "started", [BackupRun.Kind.VERIFY, BackupRun.Kind.BACKUP])
    entries = _latest(Entry, "action", "seq", ["residency_checked", "evidence_verified"])
    out = [
        armed or _enforcement(),
        _backup(BackupRun.Kind.VERIFY, gettext_lazy("Restore drill (backup verify)"), backups),
        _backup(BackupRun.Kind.BACKUP, gettext_lazy("Backup"), backups),
        _residency(entries.get("residency_checked")),
        _evidence(entries.get("evidence_verified")),
        _outbox(now),
    ]
    for run in out:
        run.stale = run.at is not None and now - run.at > STALE
    # A daily job that failed today after its last record: its row says why, at once.
    for failure in today_failures(timezone.localdate(now)):
        href = changelist(Entry, action__exact="daily_job_failed")
        row = out[ROW_OF_JOB[failure.job]] if failure.job in ROW_OF_JOB else None
        if row is None:
            label = next((str(j.label) for j in JOBS if j.name == failure.job), failure.job)
            out.append(Run(label, failure.started, False, [failure.problem], href))
        elif row.at is None or failure.started > row.at:
            row.at, row.passed, row.stale = failure.started, False, False
            row.problems = [failure.problem]
    return out


def _outbox(now: datetime) -> Run:
    """Mail from the web pages waits in the outbox: red while it waits too long (the relay is
    down, or nothing delivers) or when a mail was given up (docs/mail.md)."""
    found, problems = outbox.status(now), []
    if found.failing:
        error = found.last_error or _("not tried yet: does `gallra serve` or cron deliver?")
        waiting = _(
            "%(count)s mails waiting since %(since)s, tried up to %(attempts)s times: "
            "is the SMTP relay down? %(error)s"
        )
        since = f"{timezone.localtime(found.oldest):%Y-%m-%d %H:%M}"
        values = {"count": found.waiting, "since": since, "attempts": found.most_attempts}
        problems.append(waiting % (values | {"error": error}))
    if found.given_up_today:
        given_up = _("%(count)s mails given up in the last 24 hours")
        problems.append(given_up % {"count": found.given_up_today})
    href = changelist(Entry, action__exact=outbox.RELAY_FAILING)
    return Run(_("Outgoing mail (outbox)"), now, not problems, problems, href)


def _enforcement(policy: Policy | None = None, timeline: Timeline | None = None) -> Run:
    label = _("Deletion (enforce)")
    run = EnforcementRun.objects.order_by("-started").first()
    href = changelist(EnforcementRun)
    if run is None:
        found = Run(label, None, False, href=href)
    elif run.finished is None:
        problem = _("did not finish (still running, or stopped): the next run finishes it")
        found = Run(label, run.started, False, [problem], href)
    else:
        found = Run(label, run.finished, True, href=href)
    if policy is not None:
        _armed(found, policy, timeline)
    return found


def _armed(found: Run, policy: Policy, timeline: Timeline | None) -> None:
    """Not armed: nothing is deleted unattended; say why, and what would go today."""
    state = arming.state(policy)
    if state.armed:
        return
    today = timeline.start if timeline else timezone.localdate()
    per_rule: dict[str, int] = {}
    for (day, rule, _type), n in timeline.counts.items() if timeline else []:
        if day == today and n:
            per_rule[rule] = per_rule.get(rule, 0) + n
    total = sum(per_rule.values())
    found.waiting = _(
        "not armed (%(why)s): nothing is deleted until a person has reviewed the plan and "
        "armed it. Today %(n)s records of the registry would be deleted. Review: gallra "
        "enforce --dry-run; arm: gallra enforce --arm"
    ) % {"why": state.why, "n": total}
    found.links = [(f"{rule}: {n}", plan_link(rule, today)) for rule, n in per_rule.items()]
    found.href = changelist(Entry, action__exact="enforcement_skipped")


def _latest(model: type[Model], name: str, order: str, values: list[str]) -> dict:
    """The latest row of `model` for each of `values` of the field `name`, in one query."""
    latest = [
        Subquery(model.objects.filter(**{name: v}).order_by(f"-{order}").values("pk")[:1])
        for v in values
    ]
    query = Q()
    for pk in latest:
        query |= Q(pk=pk)
    return {getattr(row, name): row for row in model.objects.filter(query)}


def _backup(kind: str, label: str, latest: dict) -> Run:
    run = latest.get(kind)
    href = changelist(BackupRun, kind__exact=kind)
    if run is None:
        return Run(str(label), None, False, href=href)
    return Run(str(label), run.finished or run.started, run.ok, run.problem.splitlines(), href)


def _residency(entry: Entry | None) -> Run:
    label = _("Where the data is (gallra check)")
    href = changelist(Entry, action__exact="residency_checked")
    if entry is None:
        return Run(label, None, False, href=href)
    failed = entry.data.get("failed", [])
    return Run(label, entry.at, not failed, list(failed), href)


def _evidence(entry: Entry | None) -> Run:
    label = _("Evidence log intact (evidence verify)")
    href = changelist(Entry, action__exact="evidence_verified")
    if entry is None:
        return Run(label, None, False, href=href)
    ok = bool(entry.data.get("ok"))
    problems = []
    if not ok:
        where = entry.data.get("bad_seq")
        problem = entry.data.get("problem", "")
        problems.append(
            _("entry %(seq)s: %(problem)s") % {"seq": where, "problem": problem}
            if where
            else problem
        )
    return Run(label, entry.at, ok, problems, href)


# -- the production checklist ------------------------------------------------------------------


def setup_problems(policy: Policy | None, now: datetime) -> list[checklist.Item]:
    """The checklist's failing items (`gallra check`) as this server process sees them: a
    setting the server lacks shows here even when a shell's `gallra check` passes."""
    if policy is None:  # the deletion chart says the policy cannot be read
        return []
    return checklist.failing(checklist.Context(policy, now, actor="dashboard"))


# -- holds ---------------------------------------------------------------------------------------


def holds_ending(today: date) -> dict:
    """Holds whose end is near: after it, what they keep is deleted unless renewed."""
    last = today + timedelta(days=SOON)
    first = list(
        Hold.objects.filter(until__gte=today, until__lte=last)
        .order_by("until", "ref")
        .only("ref", "target_type", "target_ref", "reason", "until")
        .annotate(total=Window(Count("pk")))[:ROWS]
    )
    rows = [
        {
            "ref": h.ref,
            "target_type": _type_name(h.target_type),
            "target_ref": h.target_ref,
            "reason": h.get_reason_display(),
            "until": h.until,
            "href": change(h),
        }
        for h in first
    ]
    return {
        "total": first[0].total if first else 0,
        "rows": rows,
        "all": changelist(Hold, until__gte=today, until__lte=last),
        "days": SOON,
    }


def _type_name(record_type: str) -> str:
    model = BY_RECORD_TYPE.get(record_type)
    return str(model._meta.verbose_name) if model else record_type


# -- incidents -----------------------------------------------------------------------------------


def incidents(now: datetime) -> dict | None:
    """Breaches whose notification to IMY is due, with the 72-hour clock (Art. 33(1))."""
    if not apps.is_installed("gallra.incidents"):
        return None
    from gallra.incidents.models import Incident

    due = Incident.objects.notification_due().order_by("known_at", "pk").only("known_at", "risk")
    first = list(due.annotate(total=Window(Count("pk")))[:ROWS])
    rows = []
    for incident in first:
        hours = incident.hours_left(now)
        rows.append(
            {
                "ref": incident.ref,
                "risk": incident.get_risk_display(),
                "known_at": incident.known_at,
                "deadline": incident.deadline,
                "hours": abs(round(hours)),
                "late": hours < 0,
                "href": change(incident),
            }
        )
    return {
        "total": first[0].total if first else 0,
        "rows": rows,
        "all": changelist(Incident, state="due"),
    }


# -- the deletion timeline -----------------------------------------------------------------------


def deletion_chart(
    policy: Policy | None, timeline: Timeline | None, counted: Forecast | None = None
) -> dict:
    if policy is None:
        return {
            "chart": None,
            "problem": _("The policy file is not valid: run gallra policy check."),
        }
    chart = draw(timeline)
    return {"chart": chart, "svg": svg(chart), "problem": "", "counted": _counted(counted)}


def _counted(forecast: Forecast | None) -> str:
    """When and by what the registry's counts were counted (dashboard/forecast.py)."""
    if forecast is None:
        return ""
    when = f"{timezone.localtime(forecast.counted_at):%Y-%m-%d %H:%M}"
    if forecast.by == Forecast.By.ENFORCE:
        return _("Counted at enforce, %(when)s.") % {"when": when}
    if forecast.by == Forecast.By.CHANGED:
        text = _("Counted again at %(when)s: the registry changed after the last count.")
    else:
        text = _("Counted at %(when)s, when this page was first shown: enforce has not run today.")
    return text % {"when": when}


def with_datasets(policy: Policy, timeline: Timeline) -> Timeline:
    """The rows of the provider's datasets due in the window, as the last `enforce` or `plan`
    counted them (datasets.Forecast): a page view never opens the provider's databases."""
    counts = dataset_forecast(timeline.start, DAYS)
    if counts:
        timeline.counts.update(counts)
        rules = set(timeline.rules) | {rule for (_, rule, _) in counts}
        timeline.rules = [r.id for r in policy.rule if r.id in rules]
    return timeline


def dashboard(now: datetime, today: date) -> dict:
    """Everything the front page shows, as of `now` (Stockholm's `today`)."""
    try:
        policy = current_policy()
    except (PolicyError, OSError):
        policy = None
    timeline = forecast = None
    if policy is not None:
        registry, forecast = stored_deletions(policy, today)
        timeline = with_datasets(policy, registry)
    return {
        "today": today,
        "deletions": deletion_chart(policy, timeline, forecast),
        "requests": subject_requests(today),
        "tasks": manual_tasks(today, policy),
        "alerts": login_alerts(),
        "runs": runs(now, _enforcement(policy, timeline)),
        "holds": holds_ending(today),
        "incidents": incidents(now),
        "setup": setup_problems(policy, now),
    }
