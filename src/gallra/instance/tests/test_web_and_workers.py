"""Many processes on one PostgreSQL: two `gallra serve` (one of them with two web processes),
two `gallra worker`, visitors and web applications posting at once, and workers killed with
SIGKILL in the middle of `enforce` and in the middle of a backup, as a machine that loses
power would. Everything posted is stored once, each of the day's jobs runs once, nothing is
deleted twice, and the evidence log verifies (issue 20; docs/jobs.md)."""

from __future__ import annotations

import datetime
import http.client
import json
import os
import signal
import subprocess
import threading
import time
import uuid
from pathlib import Path

import psycopg

from gallra.instance.schedule import DAILY_LOCK_KEY
from gallra.instance.tests.conftest import free_port, policy_backing_up, wait_until

STALLED_AFTER = "3"  # seconds: a killed worker's job goes to another after this
ENDED = 2500  # customers whose relationship ended in 2016: all due, 8 records each


def ended_customers(n: int) -> dict:
    """An import file of customers ended long ago: enforce deletes them in several batches."""
    customers = []
    for i in range(n):
        people = [
            {
                "ref": f"P-{i}-{k}",
                "first_name": "Test",
                "last_name": f"Person{k}",
                "roles": ["user"],
            }
            for k in range(3)
        ]
        customers.append(
            {
                "ref": f"C-{i}",
                "name": f"Slutat {i} AB",
                "agreements": [{"ref": f"AG-{i}", "start": "2014-01-01", "end": "2016-06-30"}],
                "people": people,
                "accounts": [
                    {
                        "ref": f"A-{i}-{k}",
                        "person": f"P-{i}-{k}",
                        "username": f"u{i}x{k}",
                        "opened": "2014-01-01",
                        "closed": "2016-06-30",
                    }
                    for k in range(3)
                ],
            }
        )
    return {"customers": customers}


class Processes:
    """gallra processes of the test, each in its own session, so SIGKILL takes its children
    (restic, pg_dump) with it, as systemd's KillMode=control-group does."""

    def __init__(self, gallra, folder: Path) -> None:
        self.gallra, self.folder, self.running = gallra, folder, []

    def start(self, name: str, *args: str) -> subprocess.Popen:
        log = open(self.folder / f"{name}.log", "a")  # noqa: SIM115 - closed with the process
        process = subprocess.Popen(  # noqa: S603 - our own console script
            self.gallra.command(*args),
            env=self.gallra.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        process.log, process.name = log, name
        self.running.append(process)
        return process

    def kill(self, process: subprocess.Popen) -> None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        self.running.remove(process)

    def stop_all(self) -> None:
        for process in self.running:
            os.killpg(process.pid, signal.SIGTERM)
        for process in self.running:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            process.log.close()
        self.running = []

    def logs(self) -> str:
        return "\n".join(
            f"--- {p.name}\n{p.read_text()[-3000:]}" for p in sorted(self.folder.glob("*.log"))
        )


def wait_for(what: str, check, processes: Processes, timeout: float = 120) -> object:
    return wait_until(check, what, timeout, logs=processes.logs)


def answering(port: int, processes: Processes) -> None:
    def up() -> bool:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/consent/config?lang=sv")
            return connection.getresponse().status == 200
        except OSError:
            return False

    wait_for(f"gallra serve on port {port}", up, processes, timeout=60)


def post(port: int, path: str, body: dict, source: str, **headers: str) -> tuple[int, dict]:
    """A POST from a loopback address of its own (the consent endpoint counts per address)."""
    connection = http.client.HTTPConnection(
        "127.0.0.1", port, timeout=30, source_address=(source, 0)
    )
    connection.request(
        "POST", path, json.dumps(body), {"Content-Type": "application/json", **headers}
    )
    response = connection.getresponse()
    data = response.read()
    if response.getheader("Content-Type", "").startswith("application/json"):
        return response.status, json.loads(data)
    return response.status, {"text": data.decode(errors="replace")}


def test_two_servers_and_two_workers_do_everything_once(gallra, fresh_postgresql, tmp_path):
    policy = policy_backing_up(tmp_path, 96)  # a backup to kill in the middle
    password = tmp_path / "restic-password"
    password.write_text("a test repository's password\n")
    gallra.env |= {
        "GALLRA_DATABASE_URL": fresh_postgresql,
        "GALLRA_ENFORCE_TIME": "off",  # the day's run starts when the test says (jobs daily)
        "GALLRA_WORKER_STALLED_AFTER": STALLED_AFTER,
        "GALLRA_BACKUP_REPOSITORY": str(tmp_path / "repository"),
        "GALLRA_BACKUP_PASSWORD_FILE": str(password),
        "RESTIC_PASSWORD_FILE": str(password),
        "RESTIC_REPOSITORY": str(tmp_path / "repository"),
    }
    subprocess.run(["restic", "init"], env=gallra.env, capture_output=True, check=True)  # noqa: S607
    gallra.run("init", "--policy", str(policy))
    # Reviewed and armed yesterday, on an empty registry: today's run is the workers' to do.
    yesterday = (datetime.date.today() - datetime.timedelta(days=1)).isoformat()
    gallra.run("enforce", "--arm", "--at", yesterday, "--lang", "en")
    shares = gallra.run("logins", "escrow", "init").stdout
    assert "share" in shares.lower()
    token = gallra.run("logins", "token", "create", "webmail").stdout.split()[-1]
    assert token.startswith("glt_")
    imported = tmp_path / "ended.json"
    imported.write_text(json.dumps(ended_customers(ENDED)))
    gallra.run("import", str(imported))
    due = int(json.loads(gallra.run("enforce", "--dry-run", "--format", "json").stdout)[0]["due"])
    assert due >= ENDED * 8

    db = psycopg.connect(fresh_postgresql, autocommit=True)
    processes = Processes(gallra, tmp_path)
    ports = free_port(), free_port()
    try:
        processes.start("serve-a", "serve", "--port", str(ports[0]), "--workers", "2")
        processes.start("serve-b", "serve", "--port", str(ports[1]))
        workers = [processes.start(f"worker-{n}", "worker") for n in (1, 2)]
        for port in ports:
            answering(port, processes)

        # Visitors and a web application post at once, to both servers, while the day runs.
        asked = http.client.HTTPConnection("127.0.0.1", ports[0], timeout=10)
        asked.request("GET", "/consent/config?lang=sv")
        shown = json.loads(asked.getresponse().read())
        decisions = [str(uuid.uuid4()) for _ in range(160)]
        answers: list[int] = []

        def visitor(n: int) -> None:
            for i, consent_id in enumerate(decisions[n::8]):
                decision = {
                    "id": consent_id,
                    "action": "custom",
                    "revision": shown["revision"],
                    "hash": shown["hash"],
                    "lang": "sv",
                    "services": {"youtube": False},
                    "categories": {
                        "statistics": True,
                        "social_sharing": False,
                        "third_party_functions": False,
                    },
                }
                port = ports[(n + i) % 2]
                status, answer = post(port, "/consent/decisions", decision, f"127.0.0.{10 + n}")
                answers.append(status if status == 201 else (status, answer))

        events = [
            {
                "id": f"evt-{i}",
                "at": "2026-11-24T22:14:00Z",
                "outcome": "failure",
                "username": f"user{i % 7}",
                "ip": f"203.0.113.{i % 250}",
                "service": "webmail",
            }
            for i in range(300)
        ]
        stored: list[dict] = []

        def application(n: int) -> None:
            auth = {"Authorization": f"Bearer {token}"}
            for start in range(0, len(events), 50):  # each post sent to both servers at once:
                body = {"events": events[start : start + 50]}  # a retry, as the app's would be
                while True:  # 409: the other server is storing the same events; send again
                    status, answer = post(
                        ports[n % 2], "/logins/events", body, f"127.0.1.{n}", **auth
                    )
                    if status != 409:
                        break
                    time.sleep(0.1)
                assert status == 200, answer
                stored.append(answer)

        posters = [threading.Thread(target=visitor, args=(n,)) for n in range(8)]
        posters += [threading.Thread(target=application, args=(n,)) for n in range(2)]
        for thread in posters:
            thread.start()

        gallra.run("jobs", "daily")

        # One worker dies in the middle of enforce: after a batch, before the run's end.
        def deleting() -> tuple | None:
            return db.execute(
                "SELECT r.id FROM retention_enforcementrun r WHERE r.finished IS NULL AND "
                "r.due > 0 AND EXISTS (SELECT 1 FROM evidence_entry e WHERE e.action = 'delete' "
                "AND (e.data->>'run')::int = r.id)"
            ).fetchone()

        wait_for("enforce in the middle of its batches", deleting, processes)
        victim = _worker_running(db, workers)
        processes.kill(victim)
        workers.remove(victim)
        workers.append(processes.start("worker-3", "worker"))  # as systemd would restart it

        # Another dies in the middle of the backup (restic with it).
        def backing_up() -> tuple | None:
            return db.execute(
                "SELECT id FROM backups_backuprun WHERE kind = 'backup' AND finished IS NULL"
            ).fetchone()

        wait_for("the backup in progress", backing_up, processes)
        victim = _worker_running(db, workers)
        processes.kill(victim)
        workers.remove(victim)
        workers.append(processes.start("worker-4", "worker"))

        for thread in posters:
            thread.join()

        def day_done() -> bool:
            rows = db.execute(
                "SELECT job, outcome FROM retention_dailyrun WHERE finished IS NOT NULL"
            ).fetchall()
            return {"enforce", "backup", "drill"} <= {job for job, outcome in rows}

        wait_for("the day's jobs to finish", day_done, processes, timeout=300)
    finally:
        processes.stop_all()

    logs = processes.logs()
    # Every decision and every event stored once.
    assert answers.count(201) == len(decisions), (answers, logs)
    ids = db.execute("SELECT consent_id FROM consent_consentdecision").fetchall()
    assert sorted(str(i) for (i,) in ids) == sorted(decisions)
    assert db.execute("SELECT count(*) FROM logins_loginevent").fetchone()[0] == len(events)
    assert sum(s["stored"] for s in stored) == len(events)
    assert sum(s["duplicates"] for s in stored) == len(events)  # the other server's copy

    # Each of the day's jobs ran once: one row each, done; enforce resumed rather than repeated.
    runs = db.execute("SELECT job, outcome FROM retention_dailyrun ORDER BY job").fetchall()
    assert sorted(job for job, _ in runs) == sorted({job for job, _ in runs}), runs
    assert all(outcome in ("ok", "skipped") for _, outcome in runs), (runs, logs)
    refs = [
        ref
        for (batch,) in db.execute("SELECT refs FROM evidence_entry WHERE action = 'delete'")
        for ref in batch
    ]
    assert len(refs) == len(set(refs)) == due, "a record deleted twice, or not at all"
    assert db.execute("SELECT count(*) FROM registry_customer").fetchone()[0] == 0
    finished = db.execute(
        "SELECT count(*) FROM evidence_entry WHERE action = 'enforce_finished' "
        "AND (data->>'resumed')::boolean"
    ).fetchone()[0]
    assert finished == 1, "the killed run was finished by another worker"
    backups = db.execute(
        "SELECT action, count(*) FROM evidence_entry WHERE action LIKE 'backup%%' GROUP BY 1"
    ).fetchall()
    assert dict(backups).get("backup") == 1, backups  # one snapshot; the killed one reported
    assert dict(backups).get("backup_failed") == 1, backups
    snapshots = json.loads(
        subprocess.run(
            ["restic", "snapshots", "--json", "--tag", "gallra"],  # noqa: S607
            env=gallra.env,
            capture_output=True,
            check=True,
        ).stdout
    )
    assert len(snapshots) == 1
    verified = gallra.run("evidence", "verify", check=False)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    db.close()


def _worker_running(db, workers: list[subprocess.Popen]) -> subprocess.Popen:
    """The worker whose thread runs the day: its connection holds the daily run's advisory
    lock, and gallra names each connection after its process ("gallra PID")."""
    (name,) = db.execute(
        "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
        "WHERE l.locktype = 'advisory' AND l.objid = %s AND l.granted",
        [DAILY_LOCK_KEY],
    ).fetchone()
    pid = int(name.split()[-1])
    found = [w for w in workers if w.pid == pid]
    assert len(found) == 1, (name, [(w.name, w.pid, w.poll()) for w in workers])
    return found[0]
