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


class Pending:
    def __init__(self, decision: ConsentDecision) -> None:
        self.decision = decision
        self.done = threading.Event()
        self.error: BaseException | None = None


class DecisionWriter:
    def __init__(self) -> None:
        self.queue: queue.Queue[Pending] = queue.Queue()
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

    def _run(self) -> None:
        while True:
            batch = [self.queue.get()]
            while len(batch) < BATCH:
                try:
                    batch.append(self.queue.get_nowait())
                except queue.Empty:
                    break
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
