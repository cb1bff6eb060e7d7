"""Group commit for consent decisions: many requests, one transaction.

Each request hands its decision to one writer thread and waits until the transaction that
holds it has committed, so a request that answered "stored" is stored. Under load the writer
commits whatever has queued up in one go: one fsync for many decisions, which is what lets
SQLite take thousands of decisions a second instead of a few hundred.
"""

from __future__ import annotations

import queue
import threading

from django.db import connection, transaction

from gallra.consent.models import ConsentDecision

BATCH = 500
IDLE = 2.0  # seconds without a decision before the writer closes its connection


class Pending:
    def __init__(self, decision: ConsentDecision) -> None:
        self.decision = decision
        self.done = threading.Event()
        self.error: BaseException | None = None


class DecisionWriter:
    def __init__(self) -> None:
        self.queue: queue.Queue[Pending | threading.Event] = queue.Queue()
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None

    def store(self, decision: ConsentDecision, timeout: float = 10.0) -> None:
        """Return once `decision` is committed; raise what the database raised."""
        with self.lock:
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self._run, name="consent-writer",
                                               daemon=True)  # fmt: skip
                self.thread.start()
        pending = Pending(decision)
        self.queue.put(pending)
        if not pending.done.wait(timeout):
            raise TimeoutError("the consent decision was not stored in time")
        if pending.error is not None:
            raise pending.error

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
                    ConsentDecision.objects.bulk_create([p.decision for p in batch])
            except BaseException as exc:  # noqa: BLE001 (handed to each waiting request)
                for p in batch:
                    p.error = exc
                connection.close()  # a broken connection is opened afresh for the next batch
            finally:
                for p in batch:
                    p.done.set()


writer = DecisionWriter()
