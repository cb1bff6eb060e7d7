"""Benchmark `gallra plan` and `gallra enforce` against a hand-written SQL DELETE.

Run from the project root:

    .venv/bin/python bench/enforce.py                          # 1,000,000 records, 200,000 due
    .venv/bin/python bench/enforce.py --records 100000 --due 20000 --backends sqlite --profile

PostgreSQL is reached at postgresql://postgres@127.0.0.1:5432 (override with --pg-url). The
registry is built once per size into the database `gallra_crash_bench_template`, and every
measurement runs on `gallra_bench_enforce`, made afresh from it with CREATE DATABASE ...
TEMPLATE. SQLite: the registry is built once per size into a data directory, and every
measurement runs on a copy of it.

The registry (deterministic, no randomness), for --records N and --due D, enforced on
2025-06-01 under the JufCorp policy:

* C = N // 13 customers, each with one agreement, three people (the first the contact and
  billing contact), one account per person (open), two requests, two invoices (with the
  customer and its first person as billing contact) and one message (correspondence; every
  other one names the customer). Filler messages make the total exactly N.
* 20% of the customers (every fifth, at most D // 10) had their agreement end in 2016: they
  and their agreement, people, accounts and requests are due (10 records each). The rest of
  D is old invoices (fiscal year 2016; two thirds) and old messages (received in 2019), spread
  evenly; the other invoices (2024) and messages (2025-05-30) are kept. Invoices and messages
  that stay lose their reference to a deleted customer or person.
* One staff user, as `gallra init` makes, so `enforce` gives every ended customer a manual
  task (P16), as it would in a real installation.

Rows are written with the driver's bulk path (sqlite3 executemany; psycopg COPY) into tables
that `gallra migrate` made. PostgreSQL's tables are ANALYZEd after the load (autovacuum would
do so soon after a real load); SQLite's are not (gallra never runs ANALYZE).

Measured, each on a fresh identical copy, each child process timed as a whole (wall time of
the process, interpreter and Django start-up included) with its peak RSS from os.wait4:

* plan: `gallra plan --at DATE --format json > /dev/null`;
* enforce: `gallra enforce --at DATE --format json` (its summary is checked: D due, D deleted);
* baseline: one transaction of hand-written SQL that empties the references to the deleted
  customers and people and deletes exactly the due rows, children first, by the conditions
  the generator knows; run by a worker process, only BEGIN ... COMMIT timed;
* enforce again on a registry of N/4 records (D/4 due): flat memory means about the same peak.

After enforce and after the baseline, the rows left in every table must be the same (and
what the generator expects); the script stops otherwise. A step that runs longer than
--timeout seconds is stopped and reported as such.

--profile runs `gallra enforce` once more on SQLite under cProfile (`python -m cProfile -o`)
and prints the top functions.

The script only prints numbers; nothing is asserted beyond the checks above.
"""

from __future__ import annotations

import argparse
import json
import os
import pstats
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
VENV_BIN = Path(sys.executable).parent
GALLRA = VENV_BIN / "gallra"
PG_URL = "postgresql://postgres@127.0.0.1:5432"
PG_DB = "gallra_bench_enforce"  # every measurement's fresh copy
PG_TEMPLATE = "gallra_crash_bench_template"  # the registry as built, copied from
AT = date(2025, 6, 1)

PER_CUSTOMER = 13  # customer, agreement, 3 people, 3 accounts, 2 requests, 2 invoices, 1 message
GONE_RECORDS = 10  # due with each gone customer: itself, agreement, people, accounts, requests
COLUMNS = {
    "registry_customer": "id ref created_at updated_at kind name org_number",
    "registry_customerkey": "id customer_ref master wrapped created",
    "registry_agreement": "id ref created_at updated_at start end customer_id",
    "registry_person": "id ref created_at updated_at first_name last_name email postal_address "
    "mobile is_user is_contact is_billing_contact customer_id",
    "registry_account": "id ref created_at updated_at username home opened closed person_id",
    "registry_customerrequest": "id ref created_at updated_at kind created text customer_id",
    "registry_invoice": "id ref created_at updated_at number issued fiscal_year_end amount "
    "currency buyer_name buyer_address customer_id billing_contact_id customer_ref",
    "registry_correspondence": "id ref created_at updated_at received last_activity sender "
    "subject customer_id prospect_id",
}
TABLES = tuple(COLUMNS)
USER_COLUMNS = (
    "id password last_login is_superuser username last_name email is_staff is_active "
    "date_joined first_name"
)
WRAPPED_KEY = bytes(range(60))  # stands in for a wrapped customer key (12 + 32 + 16 bytes)

# -- the registry ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Layout:
    """How many of what, for N records of which D are due."""

    records: int
    due: int
    customers: int
    gone: int
    invoices: int
    old_invoices: int
    messages: int
    old_messages: int

    @classmethod
    def of(cls, records: int, due: int) -> Layout:
        customers = records // PER_CUSTOMER
        if customers < 5:
            raise SystemExit(f"--records {records}: too few (at least {5 * PER_CUSTOMER})")
        gone = min((customers + 4) // 5, due // GONE_RECORDS)
        rest = due - gone * GONE_RECORDS
        invoices = 2 * customers
        messages = customers + records - PER_CUSTOMER * customers
        old_invoices = min(invoices, rest - rest // 3)
        old_messages = rest - old_invoices
        if old_messages > messages:
            raise SystemExit(f"--due {due} is too many for --records {records}")
        return cls(records, due, customers, gone, invoices, old_invoices, messages, old_messages)

    def quarter(self) -> Layout:
        return Layout.of(self.records // 4, self.due // 4)

    def is_gone(self, i: int) -> bool:
        return i % 5 == 0 and i // 5 < self.gone

    def totals(self) -> dict[str, int]:
        c = self.customers
        return {
            "registry_customer": c,
            "registry_customerkey": c,
            "registry_agreement": c,
            "registry_person": 3 * c,
            "registry_account": 3 * c,
            "registry_customerrequest": 2 * c,
            "registry_invoice": self.invoices,
            "registry_correspondence": self.messages,
        }

    def left(self) -> dict[str, int]:
        """Rows that stay after the due ones are deleted."""
        g = self.gone
        due = {
            "registry_customer": g,
            "registry_customerkey": g,
            "registry_agreement": g,
            "registry_person": 3 * g,
            "registry_account": 3 * g,
            "registry_customerrequest": 2 * g,
            "registry_invoice": self.old_invoices,
            "registry_correspondence": self.old_messages,
        }
        return {t: n - due[t] for t, n in self.totals().items()}


def spread(n: int, k: int, m: int) -> bool:
    """Whether item m of n is one of k spread evenly (exactly k of range(n) are)."""
    return (m + 1) * k // n != m * k // n


class Values:
    """Constant values as the backend stores them."""

    def __init__(self, sqlite: bool) -> None:
        def d(s: str):
            return s if sqlite else date.fromisoformat(s)

        self.stamp = "2025-01-01 12:00:00" if sqlite else datetime(2025, 1, 1, 12, tzinfo=UTC)
        self.true, self.false = (1, 0) if sqlite else (True, False)
        self.amount = "1250.00"
        self.start, self.ended = d("2012-01-01"), d("2016-06-30")
        self.opened, self.requested = d("2012-02-01"), d("2013-01-01")
        self.old_fy, self.new_fy = d("2016-12-31"), d("2024-12-31")
        self.old_issued, self.new_issued = d("2016-03-01"), d("2024-03-01")
        self.old_received, self.new_received = d("2019-02-01"), d("2025-05-30")


def rows(layout: Layout, table: str, v: Values) -> Iterator[tuple]:
    s = v.stamp
    c = layout.customers
    if table == "registry_customer":
        for i in range(c):
            yield (i + 1, f"C-{i}", s, s, "company", f"Kund {i} AB", "")
    elif table == "registry_customerkey":
        for i in range(c):
            yield (i + 1, f"C-{i}", "bench", WRAPPED_KEY, s)
    elif table == "registry_agreement":
        for i in range(c):
            end = v.ended if layout.is_gone(i) else None
            yield (i + 1, f"AG-{i}", s, s, v.start, end, i + 1)
    elif table == "registry_person":
        for i in range(c):
            for j in range(3):
                first = j == 0
                yield (
                    3 * i + j + 1,
                    f"P-{i}-{j}",
                    s,
                    s,
                    "Anna",
                    "Berg",
                    f"anna{j}@kund{i}.example",
                    "Storgatan 1\n111 22 Stockholm",
                    "+46 70 123 45 67",
                    v.true,
                    v.true if first else v.false,
                    v.true if first else v.false,
                    i + 1,
                )
    elif table == "registry_account":
        for i in range(c):
            for j in range(3):
                m = 3 * i + j
                yield (m + 1, f"A-{i}-{j}", s, s, f"u{m}", f"/home/u{m}", v.opened, None, m + 1)
    elif table == "registry_customerrequest":
        for i in range(c):
            for k in range(2):
                yield (2 * i + k + 1, f"R-{i}-{k}", s, s, "order", v.requested, "E-post", i + 1)
    elif table == "registry_invoice":
        n, old = layout.invoices, layout.old_invoices
        for m in range(n):
            i = m // 2
            due = spread(n, old, m)
            yield (
                m + 1,
                f"F-{m}",
                s,
                s,
                f"{m:08d}",
                v.old_issued if due else v.new_issued,
                v.old_fy if due else v.new_fy,
                v.amount,
                "SEK",
                f"Kund {i} AB",
                "Box 1\n111 22 Stockholm",
                i + 1,
                3 * i + 1,
                f"C-{i}",
            )
    elif table == "registry_correspondence":
        n, old = layout.messages, layout.old_messages
        for m in range(n):
            due = spread(n, old, m)
            customer = m % c + 1 if m % 2 else None
            yield (
                m + 1,
                f"M-{m}",
                s,
                s,
                v.old_received if due else v.new_received,
                None,
                "kund@example.com",
                "Fråga",
                customer,
                None,
            )
    else:
        raise ValueError(table)


def staff_user(v: Values) -> tuple:
    return (1, "!", None, v.true, "admin", "", "", v.true, v.true, v.stamp, "")


# -- databases ---------------------------------------------------------------------------------


class Backend:
    """A built registry (the template) and fresh copies of it for each measurement."""

    name: str

    def __init__(self, pg_url: str) -> None:
        self.pg_url = pg_url
        self.keys = Path(tempfile.mkdtemp(prefix="gallra-bench-enforce-"))
        from gallra.config import KEY_FILE_NAME, create_key_file

        create_key_file(self.keys / KEY_FILE_NAME)

    def close(self) -> None:
        shutil.rmtree(self.keys, ignore_errors=True)


class SQLite(Backend):
    name = "sqlite"

    def __init__(self, pg_url: str) -> None:
        super().__init__(pg_url)
        self.template = self.keys / "template"
        self.copy_dir = self.keys / "copy"

    def env(self, data: Path) -> dict:
        env = {**os.environ, "GALLRA_DATA": str(data)}
        env.pop("GALLRA_DATABASE_URL", None)
        return env

    def build(self, layout: Layout) -> float:
        import sqlite3

        shutil.rmtree(self.template, ignore_errors=True)
        self.template.mkdir()
        shutil.copy(self.keys / "keys.json", self.template / "keys.json")
        migrate(self.env(self.template))
        start = time.perf_counter()
        conn = sqlite3.connect(self.template / "gallra.sqlite3", isolation_level=None)
        v = Values(sqlite=True)
        conn.execute("BEGIN")
        for table in (*TABLES, "auth_user"):
            cols = (COLUMNS.get(table) or USER_COLUMNS).split()
            names = ", ".join(f'"{c}"' for c in cols)
            marks = ", ".join("?" * len(cols))
            data = rows(layout, table, v) if table != "auth_user" else [staff_user(v)]
            conn.executemany(f'INSERT INTO "{table}" ({names}) VALUES ({marks})', data)
        conn.execute("COMMIT")
        conn.close()  # the last connection: the WAL is checkpointed into the file and removed
        return time.perf_counter() - start

    def fresh(self) -> dict:
        shutil.rmtree(self.copy_dir, ignore_errors=True)
        shutil.copytree(self.template, self.copy_dir)
        return self.env(self.copy_dir)

    def target(self) -> str:
        return str(self.copy_dir / "gallra.sqlite3")

    def counts(self) -> dict[str, int]:
        import sqlite3

        conn = sqlite3.connect(self.target())
        try:
            return {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in TABLES}
        finally:
            conn.close()


class PostgreSQL(Backend):
    name = "postgresql"

    def env(self, db: str) -> dict:
        return {
            **os.environ,
            "GALLRA_DATA": str(self.keys),
            "GALLRA_DATABASE_URL": f"{self.pg_url}/{db}",
        }

    def admin(self, *statements: str) -> None:
        import psycopg

        with psycopg.connect(f"{self.pg_url}/postgres", autocommit=True) as conn:
            for sql in statements:
                conn.execute(sql)

    def build(self, layout: Layout) -> float:
        import psycopg

        self.admin(
            f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)",
            f"DROP DATABASE IF EXISTS {PG_TEMPLATE} WITH (FORCE)",
            f"CREATE DATABASE {PG_TEMPLATE}",
        )
        migrate(self.env(PG_TEMPLATE))
        start = time.perf_counter()
        v = Values(sqlite=False)
        with psycopg.connect(f"{self.pg_url}/{PG_TEMPLATE}") as conn:
            with conn.cursor() as cur:
                for table in (*TABLES, "auth_user"):
                    cols = (COLUMNS.get(table) or USER_COLUMNS).split()
                    names = ", ".join(f'"{c}"' for c in cols)
                    data = rows(layout, table, v) if table != "auth_user" else [staff_user(v)]
                    with cur.copy(f'COPY "{table}" ({names}) FROM STDIN') as copy:
                        for row in data:
                            copy.write_row(row)
                    if table != "auth_user":  # ids were given: move the sequences past them
                        cur.execute(
                            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                            f'(SELECT max(id) FROM "{table}"))'
                        )
                cur.execute("SELECT setval(pg_get_serial_sequence('auth_user', 'id'), 1)")
            conn.commit()
            conn.autocommit = True
            conn.execute("ANALYZE")
        return time.perf_counter() - start

    def fresh(self) -> dict:
        self.admin(
            f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)",
            f"CREATE DATABASE {PG_DB} TEMPLATE {PG_TEMPLATE}",
        )
        return self.env(PG_DB)

    def target(self) -> str:
        return f"{self.pg_url}/{PG_DB}"

    def counts(self) -> dict[str, int]:
        import psycopg

        with psycopg.connect(self.target()) as conn:
            return {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in TABLES}

    def close(self) -> None:
        self.admin(
            f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)",
            f"DROP DATABASE IF EXISTS {PG_TEMPLATE} WITH (FORCE)",
        )
        super().close()


def migrate(env: dict) -> None:
    subprocess.run(  # noqa: S603 (fixed argv: the venv's gallra)
        [str(GALLRA), "django", "migrate", "-v0"], env=env, check=True, stdout=subprocess.DEVNULL
    )


# -- measuring a child process -------------------------------------------------------------


@dataclass
class Measured:
    seconds: float
    rss: float  # MB
    stdout: str
    timed_out: bool = False


def run_child(argv: list[str], env: dict, timeout: float, stdout_to_null: bool = False) -> Measured:
    """Run argv; its wall time and peak RSS (os.wait4: that process alone), stopped at timeout."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(  # noqa: S603
            argv,
            env=env,
            stdout=subprocess.DEVNULL if stdout_to_null else out,
            stderr=err,
            start_new_session=True,
        )
        timed_out = False
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() - start > timeout:
                os.killpg(proc.pid, signal.SIGKILL)
                timed_out = True
                _, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.02)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if proc.returncode and not timed_out:
        raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}):\n{stdout}\n{stderr}")
    return Measured(seconds, usage.ru_maxrss / 1024, stdout, timed_out)


# -- the baseline (run in its own process) -------------------------------------------------------

GONE = "SELECT customer_id FROM registry_agreement WHERE \"end\" < '2017-01-01'"
BASELINE = [
    "CREATE TEMPORARY TABLE bench_gone AS " + GONE,
    "CREATE TEMPORARY TABLE bench_gone_people AS SELECT id FROM registry_person "
    "WHERE customer_id IN (SELECT customer_id FROM bench_gone)",
    # Invoices of fiscal year 2016 and messages last touched before 2025-03-02 are due.
    "DELETE FROM registry_invoice WHERE fiscal_year_end < '2018-01-01'",
    "DELETE FROM registry_correspondence WHERE coalesce(last_activity, received) < '2025-03-02'",
    "UPDATE registry_invoice SET billing_contact_id = NULL "
    "WHERE billing_contact_id IN (SELECT id FROM bench_gone_people)",
    "UPDATE registry_invoice SET customer_id = NULL "
    "WHERE customer_id IN (SELECT customer_id FROM bench_gone)",
    "UPDATE registry_correspondence SET customer_id = NULL "
    "WHERE customer_id IN (SELECT customer_id FROM bench_gone)",
    "DELETE FROM registry_account WHERE person_id IN (SELECT id FROM bench_gone_people)",
    "DELETE FROM registry_customerrequest "
    "WHERE customer_id IN (SELECT customer_id FROM bench_gone)",
    "DELETE FROM registry_person WHERE id IN (SELECT id FROM bench_gone_people)",
    "DELETE FROM registry_agreement WHERE customer_id IN (SELECT customer_id FROM bench_gone)",
    # Crypto-shredding: the customer's key goes with the customer.
    "DELETE FROM registry_customerkey WHERE customer_ref IN "
    "(SELECT ref FROM registry_customer WHERE id IN (SELECT customer_id FROM bench_gone))",
    "DELETE FROM registry_customer WHERE id IN (SELECT customer_id FROM bench_gone)",
    "DROP TABLE bench_gone",
    "DROP TABLE bench_gone_people",
]


def baseline_worker(backend: str, target: str) -> dict:
    if backend == "sqlite":
        import sqlite3

        conn = sqlite3.connect(target, isolation_level=None)
        conn.execute("PRAGMA foreign_keys = ON")  # as Django's connection does
        start = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        for sql in BASELINE:
            conn.execute(sql)
        conn.execute("COMMIT")
        seconds = time.perf_counter() - start
        conn.close()
    else:
        import psycopg

        with psycopg.connect(target) as conn:
            start = time.perf_counter()
            for sql in BASELINE:
                conn.execute(sql)
            conn.commit()
            seconds = time.perf_counter() - start
    return {"seconds": seconds}


# -- the benchmark -------------------------------------------------------------------------


@dataclass
class Result:
    backend: str
    step: str
    records: int
    due: int
    seconds: float
    rss: float
    timed_out: bool = False


def check_left(backend: Backend, layout: Layout, what: str) -> None:
    found, expected = backend.counts(), layout.left()
    if found != expected:
        diff = {t: (found[t], expected[t]) for t in TABLES if found[t] != expected[t]}
        raise SystemExit(f"{backend.name} {what}: rows left (found, expected): {diff}")


def measure_enforce(backend: Backend, layout: Layout, args, step: str) -> Result:
    env = backend.fresh()
    argv = [str(GALLRA), "enforce", "--arm", "--at", AT.isoformat(), "--format", "json"]
    m = run_child(argv, env, args.timeout)
    if not m.timed_out:
        summaries = json.loads(m.stdout)
        run = summaries[-1]
        if (run["due"], run["deleted"]) != (layout.due, layout.due):
            raise SystemExit(
                f"{backend.name} {step}: {run['due']} due, {run['deleted']} deleted, "
                f"expected {layout.due}"
            )
        check_left(backend, layout, step)
    say(backend, step, layout, m)
    return Result(backend.name, step, layout.records, layout.due, m.seconds, m.rss, m.timed_out)


def say(backend: Backend, step: str, layout: Layout, m: Measured) -> None:
    took = f"> {m.seconds:.0f} s (stopped)" if m.timed_out else f"{m.seconds:.2f} s"
    print(
        f"  {backend.name}: {step}, {layout.records:,} records ({layout.due:,} due): {took}, "
        f"peak RSS {m.rss:.0f} MB",
        flush=True,
    )


def bench_backend(backend: Backend, args, layout: Layout) -> list[Result]:
    results = []
    seconds = backend.build(layout)
    print(
        f"  {backend.name}: registry of {layout.records:,} records written in {seconds:.1f} s "
        f"(bulk insert, not measured)",
        flush=True,
    )

    if not args.skip_plan:
        env = backend.fresh()
        argv = [str(GALLRA), "plan", "--at", AT.isoformat(), "--format", "json"]
        m = run_child(argv, env, args.timeout, stdout_to_null=True)
        say(backend, "plan", layout, m)
        results.append(
            Result(backend.name, "plan", layout.records, layout.due, m.seconds, m.rss, m.timed_out)
        )

    results.append(measure_enforce(backend, layout, args, "enforce"))

    backend.fresh()
    argv = [sys.executable, __file__, "--worker", "baseline", backend.name, backend.target()]
    m = run_child(argv, os.environ, args.timeout)
    out = json.loads(m.stdout.strip().splitlines()[-1])
    check_left(backend, layout, "baseline")
    m.seconds = out["seconds"]
    say(backend, "baseline SQL", layout, m)
    results.append(Result(backend.name, "baseline", layout.records, layout.due, m.seconds, m.rss))

    if args.profile and backend.name == "sqlite":
        profile(backend, layout, args)

    quarter = layout.quarter()
    seconds = backend.build(quarter)
    print(
        f"  {backend.name}: registry of {quarter.records:,} records written in {seconds:.1f} s",
        flush=True,
    )
    results.append(measure_enforce(backend, quarter, args, "enforce (quarter)"))
    return results


def profile(backend: Backend, layout: Layout, args) -> None:
    env = backend.fresh()
    path = OUT / f"enforce-{backend.name}-{layout.records}.prof"
    argv = [
        sys.executable,
        "-m",
        "cProfile",
        "-o",
        str(path),
        str(GALLRA),
        "enforce",
        "--arm",
        "--at",
        AT.isoformat(),
        "--format",
        "json",
    ]
    m = run_child(argv, env, args.timeout)
    if m.timed_out:
        print(f"  {backend.name}: profile stopped after {m.seconds:.0f} s; no profile")
        return
    check_left(backend, layout, "enforce (profiled)")
    print(
        f"\nProfile of `gallra enforce` on {backend.name}, {layout.records:,} records "
        f"({m.seconds:.1f} s under cProfile; {path.relative_to(ROOT)}):"
    )
    stats = pstats.Stats(str(path))
    stats.sort_stats("tottime").print_stats(15)
    stats.sort_stats("cumulative").print_stats(25)


def report(results: list[Result]) -> None:
    print()
    print("Timings: plan and enforce = the whole process (start-up included); baseline = BEGIN")
    print("... COMMIT of the hand-written SQL only. Peak RSS per process (os.wait4).")
    print()
    header = (
        f"{'backend':<11} {'step':<18} {'records':>10} {'due':>9} {'seconds':>9} "
        f"{'due/s':>9} {'peak RSS MB':>11}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        took = f">{r.seconds:.0f}" if r.timed_out else f"{r.seconds:.2f}"
        rate = "-" if r.timed_out else f"{r.due / r.seconds:,.0f}"
        print(
            f"{r.backend:<11} {r.step:<18} {r.records:>10,} {r.due:>9,} {took:>9} {rate:>9} "
            f"{r.rss:>11.1f}"
        )
    print()
    for backend in dict.fromkeys(r.backend for r in results):
        by = {r.step: r for r in results if r.backend == backend}
        enforce, base, quarter = by["enforce"], by["baseline"], by["enforce (quarter)"]
        if enforce.timed_out:
            print(f"{backend}: enforce did not finish in {enforce.seconds:.0f} s; no ratio")
        else:
            ratio = enforce.seconds / base.seconds
            verdict = "within" if ratio <= 2 else "NOT within"
            print(
                f"{backend}: enforce / baseline = {enforce.seconds:.2f} / {base.seconds:.2f} s "
                f"= {ratio:.1f}x ({verdict} the 2x target)"
            )
        for r in (enforce, quarter):
            verdict = "under" if r.rss < 300 else "NOT under"
            print(
                f"  peak RSS of enforce, {r.records:,} records: {r.rss:.0f} MB ({verdict} 300 MB)"
            )
        print(f"  full / quarter peak RSS = {enforce.rss / quarter.rss:.2f} (flat = about 1)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000, help="records in the registry")
    parser.add_argument("--due", type=int, default=200_000, help="of them due on the date")
    parser.add_argument("--backends", default="sqlite,postgresql", help="comma-separated")
    parser.add_argument("--pg-url", default=PG_URL, help="PostgreSQL server, without database")
    parser.add_argument("--timeout", type=float, default=1200, help="seconds per step at most")
    parser.add_argument("--skip-plan", action="store_true", help="do not measure `gallra plan`")
    parser.add_argument("--profile", action="store_true", help="cProfile enforce on SQLite")
    parser.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker:
        _, backend, target = args.worker
        print(json.dumps(baseline_worker(backend, target)))
        return

    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    unknown = set(backends) - {"sqlite", "postgresql"}
    if unknown:
        parser.error(f"unknown backend(s): {', '.join(sorted(unknown))}")
    sys.path.insert(0, str(ROOT / "src"))  # gallra.config, when not run from the venv
    OUT.mkdir(parents=True, exist_ok=True)
    layout = Layout.of(args.records, args.due)
    print(
        f"Registry: {layout.records:,} records, {layout.due:,} due on {AT}: "
        f"{layout.customers:,} customers ({layout.gone:,} ended in 2016), "
        f"{layout.invoices:,} invoices ({layout.old_invoices:,} due), "
        f"{layout.messages:,} messages ({layout.old_messages:,} due)"
    )
    results = []
    for name in backends:
        print(f"Running {name} ...", flush=True)
        backend = (SQLite if name == "sqlite" else PostgreSQL)(args.pg_url)
        try:
            results += bench_backend(backend, args, layout)
        finally:
            backend.close()
    report(results)


if __name__ == "__main__":
    main()
