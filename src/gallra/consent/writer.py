"""Group commit for consent decisions: many requests, one transaction.

Each request hands its decision to one writer thread and waits until the transaction that
holds it has committed, so a request that answered "stored" is stored. Under load the writer
commits whatever has queued up in one go: one fsync for many decisions, which is what lets
SQLite take thousands of decisions a second instead of a few hundred.

The writer is also where a consent id's decisions are counted (docs/consent.md#limits): it
alone writes in its process, so it can look at what a batch's consent ids stored in the last
day with one query, and decide each decision in order without a race. Other processes (`gallra
serve --workers N`, a second machine; PostgreSQL only) have writers of their own: each batch
first takes a transaction lock per consent id, in one order, so two writers deciding for the
same id take turns (on SQLite one process writes at a time anyway). A decision that repeats the
consent id's last one of the day is not stored again (REPEATED); a consent id past
ConsentDecision.CHANGES_PER_DAY gets TOO_MANY; everything else is stored.
"""

from __future__ import annotations

import queue
import threading
from datetime import timedelta

from django.db import connection, transaction

from gallra.consent.models import ConsentDecision

BATCH = 500
IDLE = 2.0  # seconds without a decision before the writer closes its connection
DAY = timedelta(days=1)


class Pending:
    def __init__(self, decision: ConsentDecision) -> None:
        self.decision = decision
        self.done = threading.Event()
        self.error: BaseException | None = None
        self.outcome = ""


class DecisionWriter:
    STORED, REPEATED, TOO_MANY = "stored", "repeated", "too_many"

    def __init__(self) -> None:
        self.queue: queue.Queue[Pending | threading.Event] = queue.Queue()
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None

    def store(self, decision: ConsentDecision, timeout: float = 10.0) -> str:
        """Return once `decision` is committed (STORED), or found to repeat the last one
        (REPEATED), or refused as one change too many (TOO_MANY); raise what the database
        raised."""
        with self.lock:
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self._run, name="consent-writer", daemon=True)
                self.thread.start()
        pending = Pending(decision)
        self.queue.put(pending)
        if not pending.done.wait(timeout):
            raise TimeoutError("the consent decision was not stored in time")
        if pending.error is not None:
            raise pending.error
        return pending.outcome

    def release(self) -> None:
        """Have the writer close its database connection now (e.g. before a test database
        is dropped); it opens a new one for the next decision."""
        if self.thread is not None and self.thread.is_alive():
            done = threading.Event()
            self.queue.put(done)
            done.wait(5)

    def _run(self) -> None:
        while True:
            try:
                first = self.queue.get(timeout=IDLE)
            except queue.Empty:
                connection.close()  # idle: give the connection back
                first = self.queue.get()
            if isinstance(first, threading.Event):  # release()
                connection.close()
                first.set()
                continue
            batch = [first]
            while len(batch) < BATCH:
                try:
                    item = self.queue.get_nowait()
                except queue.Empty:
                    break
                if isinstance(item, threading.Event):
                    self.queue.put(item)  # release after this batch
                    break
                batch.append(item)
            try:
                with transaction.atomic():
                    ConsentDecision.objects.bulk_create(self._decide(batch))
            except BaseException as exc:  # noqa: BLE001 (handed to each waiting request)
                for p in batch:
                    p.error = exc
                connection.close()  # a broken connection is opened afresh for the next batch
            finally:
                for p in batch:
                    p.done.set()

    def _decide(self, batch: list[Pending]) -> list[ConsentDecision]:
        """Set each pending decision's outcome; the decisions to store, in order."""
        ids = {p.decision.consent_id for p in batch}
        if connection.vendor == "postgresql":  # until commit: another process's writer waits
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_advisory_xact_lock(hashtextextended(id, 0)) "
                    "FROM unnest(%s::text[]) AS id",  # sorted: every writer locks in one order
                    [sorted(ids)],
                )
        since = min(p.decision.at for p in batch) - DAY
        recent: dict[str, list[ConsentDecision]] = {}
        stored = ConsentDecision.objects.filter(consent_id__in=ids, at__gte=since)
        for earlier in stored.order_by("at", "pk"):
            recent.setdefault(earlier.consent_id, []).append(earlier)
        out = []
        for p in batch:
            decision = p.decision
            today = [d for d in recent.get(decision.consent_id, []) if d.at > decision.at - DAY]
            if today and today[-1].same_choice(decision):
                p.outcome = self.REPEATED
            elif len(today) >= ConsentDecision.CHANGES_PER_DAY:
                p.outcome = self.TOO_MANY
            else:
                p.outcome = self.STORED
                recent.setdefault(decision.consent_id, []).append(decision)
                out.append(decision)
        return out


writer = DecisionWriter()
