"""`gallra serve --workers N`: N waitress processes answering on one port, one per core.

Python runs one thread at a time per process, so one process uses one core whatever its
threads. The parent opens the port and forks N children that each run waitress on it (the
kernel hands each connection to one of them); it starts a child again when one dies, and on
SIGTERM or Ctrl-C stops them all. Waitress stays the server, so its proxy handling
(--trusted-proxy) is the same with one process or many. In-process limits (the consent
endpoint's per-address budget) then count per process: N processes allow N times as much
from one address before refusing; the proxy's own limits are the ones that hold.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import time
from collections.abc import Callable

from django.db import connections

log = logging.getLogger(__name__)
GRACE = 10.0  # seconds the children get to finish before SIGKILL
RESTART_WAIT = 1.0  # a child that died within this of starting waits this long to start again


def run(serve: Callable[..., None], host: str, port: int, processes: int) -> None:
    """Serve with `processes` children; returns when stopped by a signal."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.create_server((host, port), family=family, backlog=2048)
    connections.close_all()  # a connection must not be shared by forked processes
    children: dict[int, float] = {}

    def stop(signum, _frame) -> None:
        raise _Stop  # out of the wait below: Python would otherwise go back to waiting

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        for _ in range(processes):
            _start(serve, listener, children)
        while children:
            pid, status = os.waitpid(-1, 0)
            started = children.pop(pid, None)
            if started is None:
                continue
            log.error("gallra: web process %s ended (%s); starting another", pid, _how(status))
            if time.monotonic() - started < RESTART_WAIT:
                time.sleep(RESTART_WAIT)
            _start(serve, listener, children)
    except _Stop:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second signal must not cut the stop
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        _stop(children)
    finally:
        listener.close()


class _Stop(Exception):
    """SIGTERM or Ctrl-C reached the parent."""


def _start(serve: Callable[..., None], listener: socket.socket, children: dict) -> None:
    pid = os.fork()
    if pid == 0:  # the child: default signals (SIGTERM ends it), then waitress on the port
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        try:
            serve(sockets=[listener])
        finally:
            os._exit(0)
    children[pid] = time.monotonic()


def _stop(children: dict[int, float]) -> None:
    for pid in children:
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + GRACE
    while children and time.monotonic() < deadline:
        pid, _status = os.waitpid(-1, os.WNOHANG)
        if pid:
            children.pop(pid, None)
        else:
            time.sleep(0.05)
    for pid in children:
        _signal(pid, signal.SIGKILL)
        os.waitpid(pid, 0)


def _signal(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signum)


def _how(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"signal {os.WTERMSIG(status)}"
    return f"exit {os.waitstatus_to_exitcode(status)}"
