"""`gallra serve --workers N` (instance/prefork.py): N processes answer on one port, one that
dies is started again, and SIGTERM to the parent alone (supervisord's way) stops them all."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

from gallra.instance.tests.conftest import free_port, wait_until

# The real prefork with waitress, around an application that says which process answered.
SCRIPT = """
import functools, os, sys
import django, waitress
django.setup()
from gallra.instance import prefork

def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [str(os.getpid()).encode()]

prefork.run(functools.partial(waitress.serve, app, threads=2), "127.0.0.1", int(sys.argv[1]), 2)
"""


def children(pid: int) -> set[int]:
    found = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        found |= {int(c) for c in (task / "children").read_text().split()}
    return found


def answer(port: int) -> int:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:  # noqa: S310
        return int(response.read())


def test_two_processes_share_the_port_are_restarted_and_stop_on_sigterm(tmp_path):
    port = free_port()
    env = os.environ | {"DJANGO_SETTINGS_MODULE": "gallra.settings", "GALLRA_DATA": str(tmp_path)}
    env.pop("GALLRA_DATABASE_URL", None)
    parent = subprocess.Popen(  # noqa: S603 - this interpreter
        [sys.executable, "-c", SCRIPT, str(port)], env=env, stderr=subprocess.PIPE
    )
    try:
        first = wait_until(lambda: len(children(parent.pid)) == 2 and children(parent.pid), "2", 20)

        def up() -> bool:
            try:
                return answer(port) in first
            except OSError:
                return False

        wait_until(up, "an answer")
        os.kill(min(first), signal.SIGKILL)  # one web process dies: another takes its place
        again = wait_until(
            lambda: (
                len(children(parent.pid)) == 2
                and children(parent.pid) != first
                and children(parent.pid)
            ),
            "a new web process",
        )
        assert min(first) not in again and max(first) in again
        assert {answer(port) for _ in range(10)} <= again
        parent.send_signal(signal.SIGTERM)  # the parent alone, as supervisord signals
        assert parent.wait(timeout=15) == 0
        for pid in again:
            assert not Path(f"/proc/{pid}").exists() or "Z" in _state(pid)
        assert "ended (signal 9); starting another" in parent.stderr.read().decode()
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2]
    except OSError:
        return "Z"
