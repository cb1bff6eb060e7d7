"""`gallra enforce` killed with SIGKILL at several points, then run again, ends exactly where an
uninterrupted run ends: the same records remain, every deleted record is named in the evidence
log exactly once, and `gallra evidence verify` passes.

Each scenario runs the real console script on its own copy of one registry (a temporary SQLite
data directory made by `gallra init` and `gallra import`) with over 20,000 records due, so that
the deletion takes a dozen delete entries (a batch is one kind, enforcement.BATCH = 20,000
records at most, with an entry per rule). A
watcher reads the database while the child runs (WAL: a reader neither blocks the writer nor
sees uncommitted work) and kills the child at a chosen point:

* while it creates the manual tasks (before their transaction commits);
* inside the decide transaction (all tasks committed, no run committed yet);
* just after a delete batch committed;
* inside a delete batch (the child is stopped and found holding the write lock);
* inside a batch, and then the process that resumes it is killed too.

The child is stopped (SIGSTOP) before the watcher looks, so what the watcher records is the
state the child is killed in.

What is compared with the uninterrupted run on an identical copy:

* every registry table, row by row (all columns: what is left, and the references emptied);
* the manual tasks; no DueRecord is left and every run is finished;
* the evidence: the multiset of (rule, record_type, ref) over the `delete` entries is the same
  and names each record once. Stronger: the `delete` and `task_created` entries are the same
  sequence with the same content, apart from their time, seq, hashes and the run id. Batch
  boundaries cannot differ: a batch is the first BATCH DueRecord rows of the run in (stage,
  pk) order, one kind at a time, and a killed batch is rolled back whole, so the committed
  batches are always a prefix of that order and the resumed run cuts the rest exactly where
  the uninterrupted one did. Only the `enforce_finished` entries differ, by design: the
  resuming process finishes the interrupted run (resumed, with its own counts) and then makes
  a run of its own, which finds nothing due.

The children always use SQLite (GALLRA_DATABASE_URL is removed, as in instance/tests), so the
suite's PostgreSQL run would repeat the SQLite one exactly: it is skipped there.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import statistics
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from gallra.instance.tests.conftest import Gallra

pytestmark = pytest.mark.skipif(
    bool(os.environ.get("GALLRA_DATABASE_URL")),
    reason="the children always run on SQLite; the SQLite run of the suite covers this",
)

AT = "2025-06-01"
DB = "gallra.sqlite3"
REGISTRY_TABLES = (
    "registry_customer",
    "registry_agreement",
    "registry_person",
    "registry_account",
    "registry_customerrequest",
    "registry_technicaldocument",
    "registry_credential",
    "registry_invoice",
    "registry_prospect",
    "registry_quote",
    "registry_correspondence",
    "registry_hold",
)
POLL = 0.002  # seconds between looks at the database
TIMEOUT = 120  # seconds any one child may take


# -- the registry ----------------------------------------------------------------------------


def registry(gone: int = 50, active: int = 50, recent: int = 10, prospects: int = 3000) -> dict:
    """An import document with over 20,000 records due on AT, of every kind, and some kept.

    Few customers with many records each, to keep the test fast.

    * `gone` customers whose only agreement ended in 2016, each with 40 people, 60 accounts
      (two thirds closed in 2015), 20 requests, 10 documents, 20 credentials (half tied to an
      account) and 20 invoices (12 of fiscal year 2016, 8 of 2019 that outlive the customer).
      Holds: on every tenth customer; on one person of every tenth (+3); an expired one on
      every tenth (+5); on the agreement of every tenth (+7).
    * `active` customers (open agreement), each with 120 people with one account each, 80 of
      them closed in 2016, 40 credentials on closed accounts and 40 invoices, half of 2016.
      The first person is the contact, the second the billing contact. A hold on one closed
      account of every tenth (+1).
    * `recent` customers whose agreement ended on 2025-01-01: not due, but given manual tasks.
    * `prospects` prospects, each with a quote and a message; three in four old, some held,
      some quotes and messages naming a gone customer.

    What of it is due is the policy's business: the test only compares runs with each other.
    """
    customers, holds = [], []
    for i in range(gone):
        c = f"CG{i}"
        customers.append(
            {
                "ref": c,
                "name": f"Gone {i} AB",
                "agreements": [
                    {"ref": f"AG-{c}", "start": "2012-01-01", "end": f"2016-0{1 + i % 9}-15"}
                ],
                "people": [
                    {
                        "ref": f"P-{c}-{j}",
                        "first_name": "Ann",
                        "last_name": "Berg",
                        "roles": ["contact", "billing_contact", "user"] if j == 0 else ["user"],
                    }
                    for j in range(40)
                ],
                "accounts": [
                    {
                        "ref": f"A-{c}-{j}",
                        "person": f"P-{c}-{j % 40}",
                        "username": f"u{j}",
                        "opened": "2012-01-01",
                        "closed": "2015-06-01" if j % 3 else None,
                    }
                    for j in range(60)
                ],
                "requests": [
                    {"ref": f"R-{c}-{j}", "kind": "order", "created": "2012-01-01", "text": "order"}
                    for j in range(20)
                ],
                "documents": [
                    {
                        "ref": f"D-{c}-{j}",
                        "title": "network",
                        "created": "2012-01-01",
                        "content": "fw",
                    }
                    for j in range(10)
                ],
                "credentials": [
                    {
                        "ref": f"K-{c}-{j}",
                        "system": "dns",
                        "username": "u",
                        "secret": "pw",
                        "created": "2012-01-01",
                        "account": f"A-{c}-{j}" if j % 2 else None,
                    }
                    for j in range(20)
                ],
                "invoices": [
                    {
                        "ref": f"F-{c}-{j}",
                        "number": f"{i}-{j}",
                        "issued": "2016-01-01",
                        "fiscal_year_end": "2016-12-31" if j < 12 else "2019-12-31",
                        "amount": "10.00",
                        "billing_contact": f"P-{c}-0",
                    }
                    for j in range(20)
                ],
            }
        )
        target, until = {
            0: (f"customer:{c}", None),
            3: (f"person:P-{c}-1", "2030-01-01"),
            5: (f"customer:{c}", "2020-01-01"),
            7: (f"agreement:AG-{c}", None),
        }.get(i % 10, (None, None))
        if target:
            holds.append({"ref": f"H-{c}", "target": target, "reason": "legal", "until": until})
    for i in range(active):
        c = f"CA{i}"
        customers.append(
            {
                "ref": c,
                "name": f"Active {i} AB",
                "agreements": [{"ref": f"AG-{c}", "start": "2012-01-01", "end": None}],
                "people": [
                    {
                        "ref": f"P-{c}-{j}",
                        "first_name": "Bo",
                        "last_name": "Ek",
                        "roles": {0: ["contact", "user"], 1: ["billing_contact", "user"]}.get(
                            j, ["user"]
                        ),
                    }
                    for j in range(120)
                ],
                "accounts": [
                    {
                        "ref": f"A-{c}-{j}",
                        "person": f"P-{c}-{j}",
                        "username": f"u{j}",
                        "opened": "2012-01-01",
                        "closed": "2016-01-01" if 1 <= j <= 80 else None,
                    }
                    for j in range(120)
                ],
                "credentials": [
                    {
                        "ref": f"K-{c}-{j}",
                        "system": "dns",
                        "username": "u",
                        "secret": "pw",
                        "created": "2012-01-01",
                        "account": f"A-{c}-{j + 1}",
                    }
                    for j in range(40)
                ],
                "invoices": [
                    {
                        "ref": f"F-{c}-{j}",
                        "number": f"{i}-{j}",
                        "issued": "2016-01-01",
                        "fiscal_year_end": "2016-12-31" if j < 20 else "2024-12-31",
                        "amount": "10.00",
                        "billing_contact": f"P-{c}-{j}",
                    }
                    for j in range(40)
                ],
            }
        )
        if i % 10 == 1:
            holds.append({"ref": f"H-{c}", "target": f"account:A-{c}-2", "reason": "legal"})
    for i in range(recent):
        c = f"CR{i}"
        customers.append(
            {
                "ref": c,
                "name": f"Recent {i} AB",
                "agreements": [{"ref": f"AG-{c}", "start": "2012-01-01", "end": "2025-01-01"}],
                "people": [{"ref": f"P-{c}-0", "first_name": "Cy", "last_name": "Dahl"}],
                "requests": [{"ref": f"R-{c}", "kind": "other", "created": "2013-01-01"}],
            }
        )
    prospect_list, quotes, messages = [], [], []
    for i in range(prospects):
        old = i % 4 != 0
        p = f"PR{i}"
        prospect_list.append(
            {
                "ref": p,
                "name": "Prospect",
                "email": f"p{i}@example.com",
                "created": "2019-01-01",
                "last_activity": "2020-01-01" if old else "2025-05-01",
            }
        )
        quotes.append(
            {
                "ref": f"Q{i}",
                "prospect": p,
                "customer": f"CG{i % gone}" if i % 3 == 0 else None,
                "created": "2019-01-01",
                "last_activity": None if old else "2025-05-20",
            }
        )
        messages.append(
            {
                "ref": f"M{i}",
                "received": "2019-02-01" if i % 5 else "2025-05-30",
                "customer": f"CG{i * 7 % gone}" if i % 2 else None,
                "prospect": p if i % 2 == 0 else None,
                "sender": "s@example.com",
            }
        )
        if i % 50 == 2:
            holds.append(
                {
                    "ref": f"H-{p}",
                    "target": f"prospect:{p}",
                    "reason": "negotiation",
                    "until": "2025-12-31",
                }
            )
    return {
        "customers": customers,
        "prospects": prospect_list,
        "quotes": quotes,
        "correspondence": messages,
        "holds": holds,
    }


# -- watching and killing a child --------------------------------------------------------------


@dataclass(frozen=True)
class State:
    """What the child has committed, as a reader sees it."""

    tasks: int  # task_created entries
    deletes: int  # delete entries
    deleted: int  # records they name
    runs: int  # EnforcementRun rows
    finished: int  # of them finished


class Watcher:
    """Reads a data directory's database while a child writes to it."""

    def __init__(self, data: Path) -> None:
        # Autocommit: every query is its own read transaction and sees the latest commit.
        self.db = sqlite3.connect(data / DB, timeout=5, isolation_level=None)
        self.probe_db = sqlite3.connect(data / DB, timeout=0, isolation_level=None)

    def state(self) -> State:
        return State(
            *self.db.execute(
                "SELECT (SELECT count(*) FROM evidence_entry WHERE action = 'task_created'),"
                " (SELECT count(*) FROM evidence_entry WHERE action = 'delete'),"
                " (SELECT coalesce(sum(count), 0) FROM evidence_entry WHERE action = 'delete'),"
                " (SELECT count(*) FROM retention_enforcementrun),"
                " (SELECT count(*) FROM retention_enforcementrun WHERE finished IS NOT NULL)"
            ).fetchone()
        )

    def writing(self) -> bool:
        """Whether some connection holds the write lock, i.e. is inside a write transaction.

        Only called while the child is stopped: taking the lock for a moment while it runs
        could make the child's own BEGIN fail.
        """
        try:
            self.probe_db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            assert "locked" in str(exc), exc
            return True
        self.probe_db.execute("ROLLBACK")
        return False

    def close(self) -> None:
        self.db.close()
        self.probe_db.close()


@dataclass
class Kill:
    """Where a child was killed: its committed state and whether a transaction was open."""

    state: State
    writing: bool
    after: float  # seconds after the start


@dataclass
class Timeline:
    """When an uninterrupted run's commits became visible (seconds after its start)."""

    changes: list[tuple[float, State]] = field(default_factory=list)

    def first(self, test: Callable[[State], bool]) -> float:
        return next(t for t, s in self.changes if test(s))


def enforce_argv(gallra: Gallra) -> list[str]:
    return gallra.command("enforce", "--arm", "--at", AT, "--actor", "test", "--format", "json")


def start(gallra: Gallra, name: str) -> subprocess.Popen:
    """`gallra enforce` in the background; its output in NAME.out and NAME.err."""
    folder = gallra.data.parent
    with open(folder / f"{name}.out", "wb") as out, open(folder / f"{name}.err", "ab") as err:
        return subprocess.Popen(  # noqa: S603 - our own console script
            enforce_argv(gallra), env=gallra.env, stdout=out, stderr=err
        )


def stop(pid: int) -> None:
    """SIGSTOP, and wait until the child has really stopped."""
    os.kill(pid, signal.SIGSTOP)
    _, status = os.waitpid(pid, os.WUNTRACED)
    assert os.WIFSTOPPED(status), f"the child ended instead (status {status})"


def watch(gallra: Gallra) -> tuple[Timeline, list[dict]]:
    """Run enforce to the end, recording every change a reader sees; (timeline, summaries)."""
    timeline = Timeline()
    watcher = Watcher(gallra.data)
    proc = start(gallra, "reference")
    began = time.monotonic()
    try:
        last = None
        while True:
            done = proc.poll() is not None
            now = watcher.state()
            if now != last:
                timeline.changes.append((time.monotonic() - began, now))
                last = now
            if done:
                break
            if time.monotonic() - began > TIMEOUT:
                raise AssertionError("the uninterrupted enforce did not finish in time")
            time.sleep(POLL)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        watcher.close()
    assert proc.returncode == 0, (gallra.data.parent / "reference.err").read_text()
    return timeline, json.loads((gallra.data.parent / "reference.out").read_text())


def run_and_kill(
    gallra: Gallra, when: Callable[[State, float], bool], *, inside: bool = False
) -> Kill:
    """Start enforce and SIGKILL it once `when(state, seconds)` holds.

    With `inside`, the child is killed only while it holds the write lock: stopped at the
    chosen point and, if it is between transactions, let go on for a few milliseconds and
    stopped again.
    """
    watcher = Watcher(gallra.data)
    proc = start(gallra, gallra.data.name)
    began = time.monotonic()
    try:
        while proc.poll() is None:
            elapsed = time.monotonic() - began
            assert elapsed < TIMEOUT, "the kill point never came"
            if when(watcher.state(), elapsed):
                for _ in range(200):
                    stop(proc.pid)
                    state, writing = watcher.state(), watcher.writing()
                    if writing or not inside:
                        break
                    os.kill(proc.pid, signal.SIGCONT)
                    time.sleep(POLL)
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
                return Kill(state, writing, time.monotonic() - began)
            time.sleep(POLL)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        watcher.close()
    err = (gallra.data.parent / f"{gallra.data.name}.err").read_text()
    raise AssertionError(f"enforce finished (exit {proc.returncode}) before the kill point\n{err}")


def finish(gallra: Gallra) -> list[dict]:
    """Run enforce to the end; its JSON summaries."""
    result = gallra.run("enforce", "--arm", "--at", AT, "--actor", "test", "--format", "json")
    return json.loads(result.stdout)


# -- comparing two data directories ---------------------------------------------------------


def rows(data: Path, sql: str) -> list[tuple]:
    db = sqlite3.connect(data / DB)
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


def refs(data: Path, table: str) -> set[str]:
    return {ref for (ref,) in rows(data, f"SELECT ref FROM {table}")}  # noqa: S608


def evidence(data: Path) -> list[dict]:
    columns = ["seq", "action", "rule", "record_type", "count", "refs", "customers", "data"]
    found = rows(data, f"SELECT {', '.join(columns)} FROM evidence_entry ORDER BY seq")  # noqa: S608
    out = []
    for row in found:
        entry = dict(zip(columns, row, strict=True))
        entry["refs"] = json.loads(entry["refs"])
        entry["data"] = json.loads(entry["data"])
        out.append(entry)
    return out


def work(entries: list[dict]) -> list[dict]:
    """The entries that name what was done, without what may differ between runs."""
    out = []
    for entry in entries:
        if entry["action"] in ("enforce_finished", "evidence_verified"):
            continue
        data = {k: v for k, v in entry["data"].items() if k != "run"}
        out.append({**entry, "data": data, "seq": None})
    return out


def brief(entry: dict) -> str:
    refs = entry["refs"]
    shown = refs if len(refs) <= 4 else [*refs[:2], "...", *refs[-2:]]
    other = {k: v for k, v in entry.items() if k not in ("refs", "seq")}
    return f"{other} refs={shown}"


def deleted(entries: list[dict]) -> Counter:
    return Counter(
        (e["rule"], e["record_type"], ref)
        for e in entries
        if e["action"] == "delete"
        for ref in e["refs"]
    )


def assert_same_end(crashed: Path, reference: Path) -> None:
    for table in REGISTRY_TABLES:
        left, right = refs(crashed, table), refs(reference, table)
        assert left == right, (
            f"{table}: kept only after the crash: {sorted(left - right)[:10]}; "
            f"kept only without it: {sorted(right - left)[:10]}"
        )
        # Every column too: the references emptied when what they named went.
        sql = f"SELECT * FROM {table} ORDER BY id"  # noqa: S608
        assert rows(crashed, sql) == rows(reference, sql), f"{table}: rows differ"
    tasks = "SELECT rule, customer_ref, assignee_id, what, due, done_at FROM retention_manualtask"
    assert sorted(rows(crashed, tasks)) == sorted(rows(reference, tasks))
    assert rows(crashed, "SELECT count(*) FROM retention_duerecord") == [(0,)]
    unfinished = "SELECT count(*) FROM retention_enforcementrun WHERE finished IS NULL"
    assert rows(crashed, unfinished) == [(0,)]

    got, expected = evidence(crashed), evidence(reference)
    got_deleted, expected_deleted = deleted(got), deleted(expected)
    twice = {k: n for k, n in got_deleted.items() if n > 1}
    assert not twice, f"deleted records named more than once: {list(twice)[:10]}"
    assert got_deleted == expected_deleted, (
        f"named only after the crash: {list(got_deleted - expected_deleted)[:10]}; "
        f"only without it: {list(expected_deleted - got_deleted)[:10]}"
    )
    got_work, expected_work = work(got), work(expected)
    for n, (a, b) in enumerate(zip(got_work, expected_work, strict=False)):
        assert a == b, f"delete / task entry {n} differs:\n{brief(a)}\n{brief(b)} (uninterrupted)"
    assert len(got_work) == len(expected_work)
    # One enforce_finished entry per run, and every run has one.
    finished = [e["data"]["run"] for e in got if e["action"] == "enforce_finished"]
    runs = [pk for (pk,) in rows(crashed, "SELECT id FROM retention_enforcementrun ORDER BY id")]
    assert sorted(finished) == runs


def verify(gallra: Gallra) -> subprocess.CompletedProcess:
    return gallra.run("evidence", "verify", check=False)


# -- fixtures ----------------------------------------------------------------------------------


@dataclass
class Reference:
    base: Path  # the registry before any enforce
    data: Path  # after one uninterrupted enforce
    timeline: Timeline
    summaries: list[dict]

    @property
    def tasks(self) -> int:
        return self.timeline.changes[-1][1].tasks

    @property
    def deletes(self) -> int:
        return self.timeline.changes[-1][1].deletes

    @property
    def due(self) -> int:
        return self.summaries[-1]["due"]

    def decide_seconds(self) -> float:
        """From the last task committed to the decision committed."""
        tasks_done = self.timeline.first(lambda s: s.tasks == self.tasks)
        return self.timeline.first(lambda s: s.runs == 1) - tasks_done

    def batch_seconds(self) -> float:
        """The median time between two delete commits."""
        times = [t for t, s in self.timeline.changes if s.deletes and not s.finished]
        gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
        return statistics.median(gaps)


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Reference:
    root = tmp_path_factory.mktemp("enforce-crash")
    base = Gallra(root / "base")
    base.run("init")
    document = root / "registry.json"
    document.write_text(json.dumps(registry()))
    base.run("import", str(document))
    gallra = Gallra(root / "reference")
    shutil.copytree(base.data, gallra.data)
    timeline, summaries = watch(gallra)
    ref = Reference(base.data, gallra.data, timeline, summaries)
    assert len(summaries) == 1 and ref.due == timeline.changes[-1][1].deleted
    assert ref.due >= 20_000, f"only {ref.due} records due: too few batches to kill inside"
    assert ref.deletes >= 12, f"only {ref.deletes} delete entries"
    assert ref.tasks >= 1
    result = verify(gallra)
    assert result.returncode == 0, result.stderr
    return ref


def copy(reference: Reference, tmp_path: Path, name: str) -> Gallra:
    gallra = Gallra(tmp_path / name)
    shutil.copytree(reference.base, gallra.data)
    return gallra


def settle(gallra: Gallra, reference: Reference, killed: list[Kill]) -> None:
    """Run enforce to the end after the kills; compare with the reference; verify."""
    summaries = finish(gallra)
    # The interrupted run, finished; then a run of this process's own, with nothing left.
    assert [(s["resumed"], s["due"]) for s in summaries] == [(True, reference.due), (False, 0)]
    assert summaries[0]["deleted"] == reference.due - killed[-1].state.deleted
    assert_same_end(gallra.data, reference.data)
    result = verify(gallra)
    assert result.returncode == 0, result.stderr


# -- the scenarios ---------------------------------------------------------------------------


def test_killed_while_creating_tasks(reference, tmp_path):
    gallra = copy(reference, tmp_path, "tasks")
    half = reference.tasks // 2
    kill = run_and_kill(gallra, lambda s, _: s.tasks >= half)
    assert half <= kill.state.tasks < reference.tasks, kill
    assert kill.state.runs == 0
    summaries = finish(gallra)
    assert [s["due"] for s in summaries] == [reference.due]
    assert_same_end(gallra.data, reference.data)
    assert verify(gallra).returncode == 0


def test_killed_while_deciding(reference, tmp_path):
    gallra = copy(reference, tmp_path, "decide")
    # A third of the way into the decision (measured on the uninterrupted run).
    wait = reference.decide_seconds() / 3
    tasks_done: list[float] = []

    def when(state: State, elapsed: float) -> bool:
        if state.tasks == reference.tasks and not tasks_done:
            tasks_done.append(elapsed)
        return bool(tasks_done) and elapsed >= tasks_done[0] + wait

    kill = run_and_kill(gallra, when)
    assert kill.state.tasks == reference.tasks and kill.state.runs == 0, kill
    assert kill.writing, f"not inside the decide transaction: {kill}"
    summaries = finish(gallra)
    assert [(s["due"], s["resumed"]) for s in summaries] == [(reference.due, False)]
    assert_same_end(gallra.data, reference.data)
    assert verify(gallra).returncode == 0


def test_killed_just_after_a_batch(reference, tmp_path):
    gallra = copy(reference, tmp_path, "between")
    third = reference.deletes // 3
    kill = run_and_kill(gallra, lambda s, _: s.deletes >= third)
    assert kill.state.runs == 1 and kill.state.finished == 0, kill
    assert third <= kill.state.deletes < reference.deletes, kill
    settle(gallra, reference, [kill])


def test_killed_inside_a_batch(reference, tmp_path):
    gallra = copy(reference, tmp_path, "inside")
    half = reference.deletes // 2
    wait = reference.batch_seconds() / 2
    seen: list[float] = []

    def when(state: State, elapsed: float) -> bool:
        if state.deletes >= half and not seen:
            seen.append(elapsed)
        return bool(seen) and elapsed >= seen[0] + wait

    kill = run_and_kill(gallra, when, inside=True)
    assert kill.writing, kill
    assert kill.state.runs == 1 and kill.state.finished == 0, kill
    assert half <= kill.state.deletes < reference.deletes, kill
    settle(gallra, reference, [kill])


def test_killed_again_while_resuming(reference, tmp_path):
    gallra = copy(reference, tmp_path, "twice")
    first = run_and_kill(gallra, lambda s, _: s.deletes >= 2, inside=True)
    assert first.state.runs == 1 and 2 <= first.state.deletes < reference.deletes, first
    # The resuming process: killed once it has committed two more batches' entries.
    again = first.state.deletes + 2
    second = run_and_kill(gallra, lambda s, _: s.deletes >= again, inside=True)
    assert second.state.runs == 1 and second.state.finished == 0, second
    assert again <= second.state.deletes < reference.deletes, second
    settle(gallra, reference, [first, second])


# -- tampering ---------------------------------------------------------------------------------


@pytest.mark.parametrize("column", ["refs", "count"])
def test_a_tampered_entry_is_named_by_verify(reference, tmp_path, column):
    gallra = Gallra(tmp_path / "tampered")
    shutil.copytree(reference.data, gallra.data)
    entries = [e for e in evidence(gallra.data) if e["action"] == "delete"]
    entry = entries[len(entries) // 2]
    db = sqlite3.connect(gallra.data / DB)
    try:
        if column == "refs":
            changed = [*entry["refs"][:-1], entry["refs"][-1] + "-x"]
            db.execute(
                "UPDATE evidence_entry SET refs = ? WHERE seq = ?",
                (json.dumps(changed), entry["seq"]),
            )
        else:
            db.execute("UPDATE evidence_entry SET count = count - 1 WHERE seq = ?", (entry["seq"],))
        db.commit()
    finally:
        db.close()
    result = verify(gallra)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"entry {entry['seq']}:" in result.stderr, result.stderr
