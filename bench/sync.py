"""Benchmark `gallra sync` of a PostgreSQL billing database against `gallra import` of the same
records as a file.

Run from the project root:

    .venv/bin/python bench/sync.py                        # 100,000 customers, SQLite and PostgreSQL
    .venv/bin/python bench/sync.py --customers 20000 --backends sqlite
    .venv/bin/python bench/sync.py --small                # 2,000 customers: a quick look

PostgreSQL is reached at postgresql://postgres@127.0.0.1:5432 (override with --pg-url). The
billing database `gallra_bench_billing` is made once per run (dropped and created again);
gallra's own database (`gallra_bench` on PostgreSQL, a SQLite file otherwise) is fresh,
migrated by `gallra migrate`, for every measurement.

The billing database is what a small provider's might look like: `customers`, `contracts`
(one per customer, 15% ended) and `contacts` (two per customer, each with a login, 20% of
them closed), filled with psycopg COPY. The import file holds exactly the same records with
the same refs, made from the same generator: per customer one customer, one agreement, two
people and two accounts, 6 records. The policy is JufCorp's with the billing database as a
`[[dataset]]` and a `[[source]]` whose four SELECTs map its columns to the import format.

Measured, each as its own process (wall time of the whole process: interpreter and Django
start-up, reading, validation, writing, commit; peak RSS of that process alone, os.wait4):

* `gallra import FILE`, the full file;
* `gallra sync --source billing`, the full database;
* `gallra sync` of a quarter of the customers (another billing database), for memory: flat
  memory means the quarter and the full sync peak about equally.

Both are checked to have written the same number of records. The script prints numbers and
the ratio sync / import per backend (the target: within 2x); nothing is asserted. With
--repeat N each of import and sync runs N times and the fastest run is shown.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import random
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
PG_URL = "postgresql://postgres@127.0.0.1:5432"
BILLING_DB = "gallra_bench_billing"
SEED = 20260101
SMALL = 2_000
TABLES = ("registry_customer", "registry_agreement", "registry_person", "registry_account")
RECORDS_PER_CUSTOMER = 6

# The import benchmark's helpers: fresh gallra databases, child processes, Swedish names.
_spec = importlib.util.spec_from_file_location("bench_import", ROOT / "bench" / "import.py")
bench_import = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_import)

SOURCE = """
[[dataset]]
id = "billing"
name = { sv = "Faktureringssystemet", en = "The billing system" }
url_env = "GALLRA_BENCH_BILLING_URL"
country = "SE"

[[dataset.table]]
name = "notes"
identity = { email = "email" }
owner = { record = "customer", column = "customer_ref" }
columns = { email = "customer_contact", body = "requests" }
erase = "delete"

[[source]]
id = "billing"
kind = "sql"
dataset = "billing"
customers = "SELECT id AS ref, name, kind, orgnr AS org_number FROM customers"
agreements = '''
    SELECT 'AG-' || id AS ref, customer_id AS customer, start_date AS start, end_date AS "end"
    FROM contracts'''
people = '''
    SELECT 'P-' || id AS ref, customer_id AS customer, first_name, last_name, email,
           address AS postal_address, mobile, roles
    FROM contacts'''
accounts = '''
    SELECT 'A-' || id AS ref, customer_id AS customer, 'P-' || id AS person, username,
           '/home/' || username AS home, opened, closed
    FROM contacts'''
"""

DDL = """
CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL, kind TEXT NOT NULL,
    orgnr TEXT);
CREATE TABLE contracts (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL REFERENCES
    customers (id), start_date DATE NOT NULL, end_date DATE);
CREATE TABLE contacts (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL REFERENCES
    customers (id), first_name TEXT, last_name TEXT, email TEXT, address TEXT, mobile TEXT,
    roles TEXT[], username TEXT, opened DATE, closed DATE);
CREATE TABLE notes (id INTEGER PRIMARY KEY, customer_ref TEXT, email TEXT, body TEXT)
"""


# -- the records, once for the database and once for the file ---------------------------------


def customers(n: int):
    """(customer row, contract row, contact rows) per customer, deterministic."""
    b = bench_import
    rng = random.Random(SEED)
    for i in range(1, n + 1):
        private = rng.random() < 0.1
        start = b.day(rng)
        end = b.day(rng, start, 3000) if rng.random() < 0.15 else None
        contacts = []
        for j in (0, 1):
            first, last = rng.choice(b.FIRST_NAMES), rng.choice(b.LAST_NAMES)
            opened = b.day(rng, start, 1000)
            closed = b.day(rng, opened, 1000) if rng.random() < 0.2 else None
            contact_id = 2 * i - 1 + j
            contacts.append(
                (
                    contact_id,
                    i,
                    first,
                    last,
                    f"{first}.{last}{j}@kund{i}.example".lower().translate(b.ASCII),
                    f"{rng.choice(b.STREETS)} {rng.randrange(1, 99)}\n"
                    f"{rng.randrange(100, 999)} {rng.randrange(10, 99)} {rng.choice(b.TOWNS)}",
                    f"+46 70 {rng.randrange(100, 999)} {rng.randrange(10, 99)} "
                    f"{rng.randrange(10, 99)}",
                    ["contact", "billing_contact", "user"] if j == 0 else ["user"],
                    f"{first[0]}{last}{contact_id}".lower().translate(b.ASCII),
                    opened,
                    closed,
                )
            )
        name = (
            f"{contacts[0][2]} {contacts[0][3]}"
            if private
            else f"{rng.choice(b.COMPANY_WORDS)}{rng.choice(b.COMPANY_WORDS).lower()} "
            f"{rng.choice(b.COMPANY_TAILS)}"
        )
        kind = "private" if private else "company"
        yield (i, name, kind, b.org_number(rng, private)), (i, i, start, end), contacts


def as_document(customer, contract, contacts) -> dict:
    """The same customer as the import file holds it (docs/import.md)."""
    i, name, kind, orgnr = customer
    iso = date.isoformat
    return {
        "ref": str(i),
        "name": name,
        "kind": kind,
        "org_number": orgnr,
        "agreements": [
            {
                "ref": f"AG-{contract[0]}",
                "start": iso(contract[2]),
                "end": contract[3] and iso(contract[3]),
            }
        ],
        "people": [
            {
                "ref": f"P-{c[0]}",
                "first_name": c[2],
                "last_name": c[3],
                "email": c[4],
                "postal_address": c[5],
                "mobile": c[6],
                "roles": c[7],
            }
            for c in contacts
        ],
        "accounts": [
            {
                "ref": f"A-{c[0]}",
                "person": f"P-{c[0]}",
                "username": c[8],
                "home": f"/home/{c[8]}",
                "opened": iso(c[9]),
                "closed": c[10] and iso(c[10]),
            }
            for c in contacts
        ],
    }


def write_file(n: int) -> Path:
    path = OUT / f"sync-import-{n}.json"
    if path.exists():
        return path
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write('{"customers": [\n')
        for k, parts in enumerate(customers(n)):
            f.write((",\n" if k else "") + json.dumps(as_document(*parts), ensure_ascii=False))
        f.write("\n]}\n")
    tmp.replace(path)
    return path


def make_billing(pg_url: str, database: str, n: int) -> str:
    """A fresh billing database with `n` customers; its url."""
    import psycopg

    with psycopg.connect(f"{pg_url}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {database}")
    url = f"{pg_url}/{database}"
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        for statement in filter(str.strip, DDL.split(";")):
            cur.execute(statement)
        # One pass of the generator per table: the rows are never all in this process's
        # memory, whose size every child process would inherit as its peak RSS (Linux counts
        # the parent's resident size at fork in the child's ru_maxrss).
        with cur.copy("COPY customers (id, name, kind, orgnr) FROM STDIN") as copy:
            for customer, _, _ in customers(n):
                copy.write_row(customer)
        with cur.copy("COPY contracts (id, customer_id, start_date, end_date) FROM STDIN") as copy:
            for _, contract, _ in customers(n):
                copy.write_row(contract)
        columns = (
            "id, customer_id, first_name, last_name, email, address, mobile, roles, "
            "username, opened, closed"
        )
        with cur.copy(f"COPY contacts ({columns}) FROM STDIN") as copy:
            for _, _, contacts in customers(n):
                for contact in contacts:
                    copy.write_row(contact)
        cur.execute("ANALYZE")
    return url


def drop_billing(pg_url: str, database: str) -> None:
    import psycopg

    with psycopg.connect(f"{pg_url}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")


# -- measuring ----------------------------------------------------------------------------------


def count(target) -> int:
    query = " + ".join(f"(SELECT count(*) FROM {t})" for t in TABLES)
    if target.backend == "sqlite":
        import sqlite3

        conn = sqlite3.connect(target.sqlite_path)
        try:
            return conn.execute(f"SELECT {query}").fetchone()[0]  # noqa: S608 (fixed tables)
        finally:
            conn.close()
    import psycopg

    with psycopg.connect(target.dsn) as conn:
        return conn.execute(f"SELECT {query}").fetchone()[0]  # noqa: S608 (fixed tables)


def measure(backend: str, args, argv: list[str], env: dict, records: int, what: str) -> dict:
    """The fastest of args.repeat runs of `gallra ARGV`, each on a fresh gallra database."""
    best = None
    for _ in range(args.repeat):
        target = bench_import.Target(backend, args.pg_url)
        try:
            seconds, rss, _ = bench_import.run_child(
                [str(bench_import.GALLRA), *argv], {**target.env, **env}
            )
            written = count(target)
        finally:
            target.close()
        if written != records:
            raise SystemExit(f"{what} wrote {written:,} records, not {records:,}")
        print(f"  {backend}: {what}: {seconds:.2f} s, peak RSS {rss:.1f} MB", flush=True)
        if best is None or seconds < best["seconds"]:
            best = {"what": what, "records": records, "seconds": seconds, "rss": rss}
    return best


def bench_backend(backend: str, args, path: Path, urls: dict[str, str], policy: Path) -> list:
    n, quarter = args.customers, max(1, args.customers // 4)
    env = {"GALLRA_POLICY": str(policy)}
    results = [
        measure(
            backend,
            args,
            ["import", str(path)],
            env,
            n * RECORDS_PER_CUSTOMER,
            "gallra import (file)",
        ),
        measure(
            backend,
            args,
            ["sync", "--source", "billing"],
            env | {"GALLRA_BENCH_BILLING_URL": urls["full"]},
            n * RECORDS_PER_CUSTOMER,
            "gallra sync (PostgreSQL)",
        ),
    ]
    quarter_args = argparse.Namespace(**{**vars(args), "repeat": 1})
    results.append(
        measure(
            backend,
            quarter_args,
            ["sync", "--source", "billing"],
            env | {"GALLRA_BENCH_BILLING_URL": urls["quarter"]},
            quarter * RECORDS_PER_CUSTOMER,
            "gallra sync (quarter)",
        )
    )
    return results


def report(all_results: dict[str, list[dict]], args) -> None:
    print()
    print(f"{args.customers:,} customers, {RECORDS_PER_CUSTOMER} records each; wall time of the")
    print("whole process (start-up included), peak RSS of that process alone.")
    if args.repeat > 1:
        print(f"import and sync: best of {args.repeat} runs, each on a fresh database.")
    print()
    header = (
        f"{'backend':<11} {'method':<26} {'records':>9} {'seconds':>8} {'records/s':>10} "
        f"{'peak RSS MB':>11}"
    )
    print(header)
    print("-" * len(header))
    for backend, results in all_results.items():
        for r in results:
            print(
                f"{backend:<11} {r['what']:<26} {r['records']:>9,} {r['seconds']:>8.2f} "
                f"{r['records'] / r['seconds']:>10,.0f} {r['rss']:>11.1f}"
            )
    print()
    for backend, results in all_results.items():
        imported, synced, quarter = results
        ratio = synced["seconds"] / imported["seconds"]
        verdict = "within" if ratio <= 2 else "NOT within"
        print(
            f"{backend}: sync / import = {synced['seconds']:.2f} / {imported['seconds']:.2f} s "
            f"= {ratio:.2f}x ({verdict} the 2x target)"
        )
        print(
            f"  peak RSS: import {imported['rss']:.0f} MB, sync {synced['rss']:.0f} MB, sync of "
            f"a quarter {quarter['rss']:.0f} MB (full / quarter = "
            f"{synced['rss'] / quarter['rss']:.2f}; flat = about 1)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000, help="customers in the source")
    parser.add_argument("--small", action="store_true", help=f"{SMALL:,} customers, a quick look")
    parser.add_argument("--backends", default="sqlite,postgresql", help="gallra's own database")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each; the best is shown")
    parser.add_argument("--pg-url", default=PG_URL, help="PostgreSQL server, without database")
    args = parser.parse_args()
    if args.small:
        args.customers = SMALL
    if args.customers < 1 or args.repeat < 1:
        parser.error("--customers and --repeat must be at least 1")
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    unknown = set(backends) - {"sqlite", "postgresql"}
    if unknown:
        parser.error(f"unknown backend(s): {', '.join(sorted(unknown))}")
    sys.path.insert(0, str(ROOT / "src"))  # gallra.config, when not run from the venv
    from gallra.config import DEFAULT_POLICY

    OUT.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    path = write_file(args.customers)
    quarter = max(1, args.customers // 4)
    urls = {
        "full": make_billing(args.pg_url, BILLING_DB, args.customers),
        "quarter": make_billing(args.pg_url, f"{BILLING_DB}_quarter", quarter),
    }
    policy = Path(tempfile.mkdtemp(prefix="gallra-bench-sync-")) / "policy.toml"
    policy.write_text(DEFAULT_POLICY.read_text(encoding="utf-8") + SOURCE, encoding="utf-8")
    mb = path.stat().st_size / 2**20
    print(f"Billing databases and the import file ({time.perf_counter() - start:.1f} s):")
    print(
        f"  {path.relative_to(ROOT)}: {args.customers * RECORDS_PER_CUSTOMER:,} records, "
        f"{mb:.1f} MB; {BILLING_DB} and {BILLING_DB}_quarter on {args.pg_url}"
    )
    try:
        all_results = {}
        for backend in backends:
            print(f"Running {backend} ...", flush=True)
            all_results[backend] = bench_backend(backend, args, path, urls, policy)
        report(all_results, args)
    finally:
        for database in (BILLING_DB, f"{BILLING_DB}_quarter"):
            drop_billing(args.pg_url, database)
        policy.unlink()
        policy.parent.rmdir()
        os.environ.pop("GALLRA_BENCH_BILLING_URL", None)


if __name__ == "__main__":
    main()
