"""Attack patterns in the anonymised login events, and who is told about them.

Four rules, with the policy's thresholds (`[logins.alerts]`, defaults like fail2ban's):

* brute force: `failures` failures from one network within `window_minutes`;
* credential stuffing: failures on `accounts` different accounts within the window;
* success after failures: a success on an account after `success_after_failures`
  failures on it within the window;
* new country: a success on an account from a country it never logged in from before.

They need no full address: the network stands for the sender and the pseudonym for an
unknown user name. An alert is an episode: triggers of the same kind and key within the
window of each other extend one alert. Running detection again over the same events
changes nothing, so reading a log twice never doubles an alert.
"""

from __future__ import annotations

from collections import Counter, defaultdict, deque
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from gallra.instance.staff import addresses_for
from gallra.logins.models import (
    AFTER_FAILURES,
    BRUTE_FORCE,
    FAILURE,
    NEW_COUNTRY,
    STUFFING,
    SUCCESS,
    LoginAlert,
    LoginEvent,
)
from gallra.outbox import mail as outbox
from gallra.policy.model import Policy

CHUNK = 20_000
PRUNE = 10_000  # events between two sweeps of the networks and names seen only long ago


# What each alert says, and the names of the values it is given (written out once, at save).
DETAILS = {
    BRUTE_FORCE: (gettext_lazy("%(n)d failures within %(m)d minutes"), ("n", "m")),
    STUFFING: (gettext_lazy("%(n)d accounts failed within %(m)d minutes"), ("n", "m")),
    AFTER_FAILURES: (gettext_lazy("success from %(net)s after %(n)d failures"), ("net", "n")),
    NEW_COUNTRY: (
        gettext_lazy("first login from %(c)s; before only from %(known)s"),
        ("c", "known"),
    ),
}


class Episodes:
    """Alerts being built: new ones, and existing ones that triggers extend."""

    def __init__(self, window: timedelta, since: datetime) -> None:
        self.window = window
        self.values: dict[int, tuple] = {}  # the latest values of each changed alert
        self.open: dict[tuple[str, str], LoginAlert] = {}
        for alert in LoginAlert.objects.filter(last_at__gte=since - window).order_by("last_at"):
            self.open[(alert.kind, alert.key)] = alert
        self.changed: dict[int, LoginAlert] = {}

    def trigger(self, kind: str, key: str, at: datetime, events: int, *values) -> None:
        """An event crossed a threshold; `values` fill in the alert's detail (DETAILS)."""
        alert = self.open.get((kind, key))
        if alert is not None and alert.first_at <= at <= alert.last_at:
            return  # seen by an earlier run
        if alert is not None and at - alert.last_at <= self.window:
            alert.last_at = at
            alert.events += 1
        else:
            alert = LoginAlert(kind=kind, key=key, first_at=at, last_at=at, events=events)
            self.open[(kind, key)] = alert
        self.changed[id(alert)] = alert
        self.values[id(alert)] = values

    def save(self) -> list[LoginAlert]:
        """Store what changed; returns the alerts that are new."""
        new = []
        with transaction.atomic():
            for ident, alert in self.changed.items():
                template, names = DETAILS[alert.kind]
                alert.detail = str(template) % dict(zip(names, self.values[ident], strict=True))
                if alert.pk is None:
                    new.append(alert)
                alert.save()
        return new


def detect(policy: Policy, since: datetime, until: datetime) -> list[LoginAlert]:
    """Look at the events from `since` to `until` (with the window before); new alerts.

    Alert details are written in the policy's first language, whoever runs it.

    One detection at a time across processes (web processes on several machines, `gallra
    logins follow`): each reads the open alerts, then extends or creates them, so two at once
    would both create the same alert. The transaction serialises them: SQLite's starts with
    the write lock (BEGIN IMMEDIATE), PostgreSQL's takes an advisory lock until commit.
    """
    with translation.override(policy.languages[0]), transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [DETECT_LOCK_KEY])
        return _detect(policy, since, until)


DETECT_LOCK_KEY = 0x6A11_2E  # PostgreSQL advisory lock id for login detection


def _detect(policy: Policy, since: datetime, until: datetime) -> list[LoginAlert]:
    rules = policy.logins.alerts
    window = timedelta(minutes=rules.window_minutes)
    episodes = Episodes(window, since)
    by_network: dict[str, deque] = defaultdict(deque)
    by_account: dict[str, deque] = defaultdict(deque)
    failing: deque = deque()  # (at, identity) of every failure in the window
    failing_count: Counter = Counter()
    countries = _countries_before(since) if rules.new_country else {}

    minutes = rules.window_minutes
    for n, (at, outcome, account, pseudonym, network, country) in enumerate(
        _events(since - window, until), 1
    ):
        if n % PRUNE == 0:  # memory as for the events of one window, not of every sender
            _prune(by_network, at, window)
            _prune(by_account, at, window)
        counting = at >= since  # the window before `since` only gives context
        identity = account or (pseudonym and "~" + pseudonym)
        if outcome == FAILURE:
            if network:
                seen = _slide(by_network[network], at, window)
                if counting and len(seen) >= rules.failures:
                    episodes.trigger(BRUTE_FORCE, network, at, len(seen), len(seen), minutes)
            if identity:
                _slide(by_account[identity], at, window)
                failing.append((at, identity))
                failing_count[identity] += 1
                while failing and at - failing[0][0] > window:
                    _first, old = failing.popleft()
                    failing_count[old] -= 1
                    if not failing_count[old]:
                        del failing_count[old]
                if counting and len(failing_count) >= rules.accounts:
                    n = len(failing_count)
                    episodes.trigger(STUFFING, "", at, n, n, minutes)
        elif outcome == SUCCESS and counting:
            if identity and identity in by_account:
                before = _slide(by_account[identity], at, window, add=False)
                if len(before) >= rules.success_after_failures:
                    n = len(before)
                    episodes.trigger(
                        AFTER_FAILURES, _shown(account, pseudonym), at, n, network or "?", n
                    )
                    before.clear()
            if rules.new_country and account and country:
                known = countries.setdefault(account, set())
                if known and country not in known:
                    episodes.trigger(
                        NEW_COUNTRY,
                        f"{account} {country}",
                        at,
                        1,
                        country,
                        ", ".join(sorted(known)),
                    )
                known.add(country)
    return episodes.save()


def _events(start: datetime, end: datetime) -> Iterator[tuple]:
    """(at, outcome, account, pseudonym, network, country) in time order, read in chunks."""
    columns = ("at", "outcome", "account", "pseudonym", "network", "country")
    if connection.vendor != "sqlite":  # a server-side cursor: not all rows in memory at once
        events = LoginEvent.objects.filter(at__gte=start, at__lte=end).order_by("at", "id")
        yield from events.values_list(*columns).iterator(CHUNK)
        return
    # SQLite: plain SQL, since the ORM's per-row conversions cost more than the detection
    # itself. Times are stored in UTC without a zone.
    start, end = (t.astimezone(UTC).replace(tzinfo=None).isoformat(" ") for t in (start, end))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(columns)} FROM {LoginEvent._meta.db_table} "  # noqa: S608
            "WHERE at >= %s AND at <= %s ORDER BY at, id",
            [start, end],
        )
        while rows := cursor.fetchmany(CHUNK):
            yield from ((_utc(r[0]), *r[1:]) for r in rows)


def _utc(value: str | datetime) -> datetime:
    """Text, or a naive datetime where Django's converter applies."""
    at = datetime.fromisoformat(value) if isinstance(value, str) else value
    return at.replace(tzinfo=UTC)


def _slide(times: deque, at: datetime, window: timedelta, add: bool = True) -> deque:
    """The times within `window` before `at` (and `at` itself, when `add`)."""
    while times and at - times[0] > window:
        times.popleft()
    if add:
        times.append(at)
    return times


def _prune(times: dict[str, deque], at: datetime, window: timedelta) -> None:
    """Forget the keys whose every time is more than `window` before `at`: `_slide` would
    empty them at their next event anyway."""
    for key in [key for key, seen in times.items() if not seen or at - seen[-1] > window]:
        del times[key]


def _shown(account: str, pseudonym: str) -> str:
    return account or f"~{pseudonym[:8]}"


def _countries_before(since: datetime) -> dict[str, set[str]]:
    """The countries each account logged in from before `since`."""
    pairs = (
        LoginEvent.objects.filter(outcome=SUCCESS, at__lt=since)
        .exclude(account="")
        .exclude(country="")
        .values_list("account", "country")
        .distinct()
    )
    known: dict[str, set[str]] = defaultdict(set)
    for account, country in pairs.iterator(CHUNK):
        known[account].add(country)
    return known


def notify(policy: Policy, now: datetime | None = None) -> int:
    """Queue a mail of the alerts not yet sent to the people responsible for logins.
    Returns the alerts queued.

    The responsible role is `responsibilities.logins` (else the accountable role); its
    members are the staff in the Django group of that name. Unsent alerts stay unsent (and
    are tried again) while no one with an address holds the role. The mail goes through the
    outbox: this runs inside the ingest endpoint's request too, which must not talk SMTP.
    """
    now = now or timezone.now()
    pending = list(LoginAlert.objects.filter(notified__isnull=True).order_by("first_at"))
    if not pending:
        return 0
    to = addresses_for(policy, "logins")
    if not to:
        return 0
    lang = policy.languages[0]
    with translation.override(lang):
        subject = _("Login alerts: %(n)d new") % {"n": len(pending)}
        zone = timezone.get_default_timezone()
        lines = [
            f"{a.first_at.astimezone(zone):%Y-%m-%d %H:%M}  {a.get_kind_display()}: "
            f"{a.key or '-'} ({a.detail})"
            for a in pending
        ]
        body = "\n".join(
            [
                _("gallra saw these patterns in the login events:"),
                "",
                *lines,
                "",
                _("See them in the admin: %(url)s") % {"url": _admin_url()},
            ]
        )
    with transaction.atomic():
        outbox.queue(outbox.Message(subject, body, tuple(to)), kind="login_alerts", now=now)
        LoginAlert.objects.filter(pk__in=[a.pk for a in pending]).update(notified=now)
    return len(pending)


def _admin_url() -> str:
    return settings.GALLRA_BASE_URL.rstrip("/") + "/admin/logins/loginalert/"
