"""Delivering the outbox, after the answer, from `gallra serve`'s mail thread (every EVERY
seconds) or `gallra outbox send` (cron). See docs/mail.md.

* Any number of deliverers may run at once. Each mail is claimed before it is sent: on
  PostgreSQL the row is picked with SELECT ... FOR UPDATE SKIP LOCKED, and everywhere the
  claim itself is a conditional UPDATE (free, and its attempt count still the one read), so
  of two deliverers only one gets it. A claim lasts LEASE; a deliverer that dies holding one
  leaves the mail to the next after that.
* At least once, not at most once: a mail is deleted only after the relay took it. A crash
  between the two sends it again when the lease ends, so a mail can arrive twice, never be
  lost for that; every attempt counts, so it is sent at most MAX_ATTEMPTS times (a repeat
  carries the same Message-ID, by which mail clients drop copies). A lost verification link
  would cost a data subject their answer; a second copy costs nothing.
* A failed attempt waits FIRST_RETRY, then twice as long each time up to LONGEST_WAIT. After
  GIVE_UP_AFTER (or MAX_ATTEMPTS) the mail is deleted and given up with an evidence entry
  (mail.given_up); a relay that refuses the recipient or the content for good (5xx) gives
  it up at once.
* A relay that stays down (a mail waiting longer than ALERT_AFTER, or tried ALERT_ATTEMPTS
  times) is an alert: an evidence entry (mail.relay_failing, then mail.relay_back), a red
  line on the front page and in `gallra check`: not a mail, since mail is what is down.
"""

from __future__ import annotations

import contextlib
import logging
import re
import smtplib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.core.mail import BadHeaderError, EmailMessage, get_connection
from django.db import DatabaseError, close_old_connections, connection, transaction
from django.db.models import Count, Max, Min, Q
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from gallra.evidence.log import append
from gallra.evidence.models import Entry
from gallra.outbox import sealing
from gallra.outbox.mail import KINDS
from gallra.outbox.models import Mail

log = logging.getLogger(__name__)

EVERY = 5.0  # seconds between runs of the mail thread in `gallra serve`
LEASE = timedelta(minutes=5)
SMTP_TIMEOUT = 30  # seconds; well inside the lease
FIRST_RETRY = timedelta(minutes=1)
LONGEST_WAIT = timedelta(hours=2)
GIVE_UP_AFTER = timedelta(days=3)
MAX_ATTEMPTS = 60
ALERT_AFTER = timedelta(minutes=15)
ALERT_ATTEMPTS = 5
GIVEN_UP, RELAY_FAILING, RELAY_BACK = "mail.given_up", "mail.relay_failing", "mail.relay_back"
_ADDRESS = re.compile(r"[^\s<>(),;:\"']+@[^\s<>(),;:\"']+")


@dataclass
class Outcome:
    """What one delivery run did."""

    sent: int = 0
    nothing_to_send: int = 0  # composed to nothing (an address on record nowhere)
    failed: int = 0  # to be tried again
    given_up: int = 0
    errors: list[str] = field(default_factory=list)


def deliver(now: datetime | None = None, *, limit: int = 200) -> Outcome:
    """Send what is due, at most `limit` mails; stop at the first sign the relay is down.
    `now` fixes the clock (tests); by default each step reads it."""
    clock: Callable[[], datetime] = (lambda: now) if now is not None else timezone.now
    outcome = Outcome()
    backend = get_connection(timeout=SMTP_TIMEOUT)
    relay = {"open": False}
    try:
        for _ in range(limit):
            mail = claim(clock())
            if mail is None:
                break
            if _deliver_one(mail, clock, backend, relay, outcome):
                break  # the relay is down: the rest waits for the next run
    finally:
        with contextlib.suppress(Exception):
            backend.close()
        if (outcome.sent or outcome.given_up) and connection.vendor == "postgresql":
            _vacuum()
    record_relay(clock())
    return outcome


def claim(now: datetime) -> Mail | None:
    """The next due mail, claimed for this deliverer (its attempt counted), or None."""
    due = Mail.objects.filter(_free(now), next_attempt__lte=now).order_by("next_attempt", "pk")
    for _ in range(10):  # another deliverer took the one we read: read the next
        if connection.features.has_select_for_update_skip_locked:
            with transaction.atomic():
                mail = due.select_for_update(skip_locked=True).first()
                if mail is None:
                    return None
                taken = _take(mail, now)
        else:
            mail = due.first()
            if mail is None:
                return None
            taken = _take(mail, now)
        if taken:
            return mail
    return None


def _free(now: datetime) -> Q:
    return Q(claimed_until__isnull=True) | Q(claimed_until__lte=now)


def _take(mail: Mail, now: datetime) -> bool:
    taken = Mail.objects.filter(_free(now), pk=mail.pk, attempts=mail.attempts).update(
        claimed_until=now + LEASE, attempts=mail.attempts + 1
    )
    if taken:
        mail.attempts, mail.claimed_until = mail.attempts + 1, now + LEASE
    return bool(taken)


def _deliver_one(mail: Mail, clock, backend, relay: dict, outcome: Outcome) -> bool:
    """Send one claimed mail; True when the relay could not be reached."""
    if mail.attempts > MAX_ATTEMPTS:  # claimed that often: crashes between send and delete
        _give_up(mail, clock(), f"claimed {MAX_ATTEMPTS} times without being delivered", outcome)
        return False
    try:
        content = sealing.unseal(mail.key_id, bytes(mail.sealed), mail.kind)
    except sealing.Unreadable as exc:
        _give_up(mail, clock(), str(exc), outcome)
        return False
    if not mail.composed:
        try:
            content = _compose(mail, content, clock())
        except Exception as exc:  # noqa: BLE001 (e.g. a dataset that is down: tried again later)
            _retry(mail, clock(), _describe(exc), outcome)
            return False
        if content is None:
            outcome.nothing_to_send += 1
            return False
    message = EmailMessage(
        content["subject"],
        content["body"],
        None,
        content["to"],
        reply_to=content["reply_to"],
        connection=backend,
        headers={"Message-ID": content["message_id"]},
    )
    try:
        if not relay["open"]:
            backend.open()
            relay["open"] = True
        message.send()
    except Exception as exc:  # noqa: BLE001 (every failure is the mail's: recorded, retried)
        if _for_good(exc):
            _give_up(mail, clock(), _describe(exc), outcome)
            return False
        _retry(mail, clock(), _describe(exc), outcome)
        return not isinstance(exc, smtplib.SMTPRecipientsRefused | smtplib.SMTPDataError)
    with transaction.atomic():
        _delete(mail)
        kind = KINDS.get(mail.kind)
        if kind and kind.delivered and mail.ref:
            kind.delivered(mail.ref, clock())
    outcome.sent += 1
    return False


def _compose(mail: Mail, data: dict, now: datetime) -> dict | None:
    """Have the kind's composer write the mail; keep it sealed in place of its data, so a
    retry sends the same mail. None (and the row gone) when there is nothing to send."""
    kind = KINDS.get(mail.kind)
    if kind is None or kind.compose is None:
        raise LookupError(f"no composer is registered for {mail.kind!r} mail")
    with transaction.atomic():
        message = kind.compose(data, now)
        if message is None:
            _delete(mail)
            return None
        content = message.content()
        key_id, sealed = sealing.seal(content, mail.kind)
        Mail.objects.filter(pk=mail.pk).update(key_id=key_id, sealed=sealed, composed=True)
    return content


def _for_good(exc: Exception) -> bool:
    """Refused for good (5xx for every recipient, or for the content), or not a mail at all."""
    if isinstance(exc, BadHeaderError):
        return True
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in exc.recipients.values())
    return isinstance(exc, smtplib.SMTPDataError) and exc.smtp_code >= 500


def _describe(exc: BaseException) -> str:
    """The error, without any address in it (a relay's refusal names the recipient)."""
    text = _ADDRESS.sub("<address>", f"{type(exc).__name__}: {exc}")
    return " ".join(text.split())[:300]


def _retry(mail: Mail, now: datetime, error: str, outcome: Outcome) -> None:
    if mail.attempts >= MAX_ATTEMPTS or now - mail.queued >= GIVE_UP_AFTER:
        _give_up(mail, now, error, outcome)
        return
    wait = min(FIRST_RETRY * 2 ** (mail.attempts - 1), LONGEST_WAIT)
    Mail.objects.filter(pk=mail.pk).update(
        claimed_until=None, next_attempt=now + wait, last_error=error
    )
    outcome.failed += 1
    outcome.errors.append(error)


def _give_up(mail: Mail, now: datetime, reason: str, outcome: Outcome) -> None:
    with transaction.atomic():
        _delete(mail)
        append(
            GIVEN_UP,
            actor="outbox",
            at=now,
            refs=[mail.ref] if mail.ref else [],
            count=1,
            data={
                "kind": mail.kind,
                "attempts": mail.attempts,
                "queued": mail.queued.isoformat(),
                "reason": reason,
            },
        )
    outcome.given_up += 1
    outcome.errors.append(reason)


def _delete(mail: Mail) -> None:
    """Delete the row; on SQLite its pages are overwritten, not just freed."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA secure_delete = ON")
    Mail.objects.filter(pk=mail.pk).delete()


def _vacuum() -> None:
    """PostgreSQL keeps deleted rows until a vacuum: reclaim the sealed mails now."""
    if connection.in_atomic_block:
        return
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM {Mail._meta.db_table}")
    except DatabaseError as exc:  # e.g. not the table's owner: autovacuum does it later
        log.warning("gallra: outbox: vacuum: %s", exc)


# -- the relay's state -----------------------------------------------------------------------


@dataclass(frozen=True)
class Status:
    waiting: int
    oldest: datetime | None
    most_attempts: int
    last_error: str
    given_up_today: int
    failing: bool

    def problems(self) -> list[str]:
        """What staff should know, one line each, in the active language (the commands')."""
        out = []
        if self.failing:
            since = timezone.localtime(self.oldest).strftime("%Y-%m-%d %H:%M")
            waiting = ngettext(
                "%(n)s mail waiting since %(since)s",
                "%(n)s mails waiting since %(since)s",
                self.waiting,
            ) % {"n": self.waiting, "since": since}
            tried = ngettext(
                "tried up to %(n)s time", "tried up to %(n)s times", self.most_attempts
            ) % {"n": self.most_attempts}
            error = self.last_error or gettext("(not tried yet: is a deliverer running?)")
            out.append(
                gettext("%(waiting)s, %(tried)s: is the SMTP relay down? %(error)s")
                % {"waiting": waiting, "tried": tried, "error": error}
            )
        if self.given_up_today:
            out.append(
                ngettext(
                    "%(n)s mail given up in the last 24 hours (evidence: %(action)s)",
                    "%(n)s mails given up in the last 24 hours (evidence: %(action)s)",
                    self.given_up_today,
                )
                % {"n": self.given_up_today, "action": GIVEN_UP}
            )
        return out


def status(now: datetime) -> Status:
    counts = Mail.objects.aggregate(n=Count("pk"), oldest=Min("queued"), most=Max("attempts"))
    last_error = (
        Mail.objects.exclude(last_error="")
        .order_by("-next_attempt")
        .values_list("last_error", flat=True)
        .first()
    )
    most = counts["most"] or 0
    failing = bool(counts["n"]) and (
        counts["oldest"] <= now - ALERT_AFTER or most >= ALERT_ATTEMPTS
    )
    given_up = Entry.objects.filter(action=GIVEN_UP, at__gte=now - timedelta(days=1)).count()
    return Status(counts["n"], counts["oldest"], most, last_error or "", given_up, failing)


def _last_seq(action: str) -> int:
    last = Entry.objects.filter(action=action).order_by("-seq").values_list("seq", flat=True)
    return last.first() or 0


def record_relay(now: datetime) -> Status:
    """Write mail.relay_failing when the relay starts failing, mail.relay_back when it is
    back; once each."""
    found = status(now)
    was_failing = _last_seq(RELAY_FAILING) > _last_seq(RELAY_BACK)
    if found.failing and not was_failing:
        append(
            RELAY_FAILING,
            actor="outbox",
            at=now,
            count=found.waiting,
            data={
                "waiting": found.waiting,
                "oldest": found.oldest.isoformat(),
                "attempts": found.most_attempts,
                "error": found.last_error,
            },
        )
    elif was_failing and not found.failing:
        append(RELAY_BACK, actor="outbox", at=now, count=found.waiting)
    return found


# -- inside `gallra serve` --------------------------------------------------------------------


def start_thread(every: float = EVERY) -> threading.Thread:
    """Deliver every `every` seconds until the process ends."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            try:
                close_old_connections()
                deliver()
            except Exception:  # a bad run must not stop the next one
                log.exception("gallra: outbox: delivery failed; trying again in %ss", every)
            finally:
                close_old_connections()
            stop.wait(every)

    thread = threading.Thread(target=loop, name="gallra-mail", daemon=True)
    thread.stop = stop
    thread.start()
    return thread
