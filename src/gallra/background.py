"""Work a web page starts that must not run in the request: an erasure, an export.

An app registers its jobs by name in its AppConfig.ready(); a page starts one with `start`,
which takes effect when the request's transaction commits. On PostgreSQL the job goes to the
queue and a `gallra worker` does it (instance/jobs.py, docs/jobs.md); on SQLite a thread of
`gallra serve` does it after the answer. A job is keyed (`name:key`): while one with the same
key waits or runs, starting it again adds nothing. Jobs must be safe to run again: a worker
killed halfway has its job run once more by another, and a `serve` stopped halfway leaves the
job for staff to start again (an erasure resumes store by store).
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable

from django.conf import settings
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, connections, transaction
from procrastinate import exceptions as queue_errors
from procrastinate.contrib.django import app

log = logging.getLogger(__name__)
JOBS: dict[str, Callable[..., object]] = {}
_running: dict[str, threading.Thread] = {}  # SQLite: this process's job threads, by key
_lock = threading.Lock()


def register(name: str, run: Callable[..., object]) -> None:
    JOBS[name] = run


def fresh(work: Callable[[], object]) -> None:
    """A job runs in a thread of its own: it opens its own connections and closes them when it
    ends, so none is left to a thread that is gone or reused broken by the next job."""
    close_old_connections()
    try:
        work()
    finally:
        connections.close_all()


@app.task(name="gallra.background")
def background(name: str, arguments: dict) -> None:
    fresh(lambda: JOBS[name](**arguments))


def defer(
    task_name: str, *, lock: str | None = None, queueing_lock: str | None = None, **kwargs
) -> None:
    """PostgreSQL: queue a task once the current transaction commits (a rolled-back request
    queues nothing). A job with the same `queueing_lock` already waiting is enough."""

    def put() -> None:
        task = app.configure_task(task_name, lock=lock, queueing_lock=queueing_lock)
        with contextlib.suppress(queue_errors.AlreadyEnqueued):
            task.defer(**kwargs)

    transaction.on_commit(put)


def start(name: str, key: str, **arguments) -> None:
    """Run the registered job `name` after this transaction commits, never in the request."""
    if name not in JOBS:
        raise KeyError(f"no job {name!r} is registered")
    keyed = f"{name}:{key}"
    if settings.GALLRA_JOB_QUEUE:
        defer("gallra.background", lock=keyed, queueing_lock=keyed, name=name, arguments=arguments)
        return

    def run() -> None:
        try:
            fresh(lambda: JOBS[name](**arguments))
        except Exception:  # the job records its own outcome; this is for the log
            log.exception("gallra: job %s failed", keyed)
        finally:
            with _lock:
                _running.pop(keyed, None)

    def begin() -> None:
        with _lock:
            if keyed in _running:
                return
            _running[keyed] = thread = threading.Thread(target=run, name=keyed, daemon=True)
        thread.start()

    transaction.on_commit(lambda: _after_the_answer(begin))


# SQLite takes one writer at a time: a job started by a page begins once that page's request
# has finished (its session and evidence written), not beside it.
_request = threading.local()


def _after_the_answer(begin: Callable[[], None]) -> None:
    waiting = getattr(_request, "waiting", None)
    if waiting is None:  # not in a request (a command): now
        begin()
    else:
        waiting.append(begin)


def _request_started(**_signal) -> None:
    _request.waiting = []


def _request_finished(**_signal) -> None:
    waiting, _request.waiting = getattr(_request, "waiting", None) or [], None
    for begin in waiting:
        begin()


request_started.connect(_request_started, dispatch_uid="gallra.background.started")
request_finished.connect(_request_finished, dispatch_uid="gallra.background.finished")


def wait(timeout: float = 60) -> bool:
    """SQLite: wait for this process's job threads (`serve` stopping, a test); True when none
    is left running."""
    with _lock:
        threads = list(_running.values())
    for thread in threads:
        thread.join(timeout)
    return not any(t.is_alive() for t in threads)
