"""Benchmark `gallra import` against the database driver's own bulk insert.

Run from the project root:

    .venv/bin/python bench/import.py                      # 100,000 people, SQLite and PostgreSQL
    .venv/bin/python bench/import.py --people 20000 --backends sqlite

PostgreSQL is reached at postgresql://postgres@127.0.0.1:5432 (override with --pg-url); the
database `gallra_bench` is dropped and created again before every measurement.

What it does, per backend, each measurement on a fresh database that `gallra migrate` made:

* gallra: `gallra import FILE` run as its own process, for the full file and for a file a
  quarter of its size. Wall time of the whole process (interpreter and Django start-up,
  streaming JSON reader, validation, encryption keys, writing, commit) and its peak RSS.
* baseline: the same rows written with the driver's own bulk insert, no validation
  (SQLite: sqlite3 `executemany` in one transaction; PostgreSQL: psycopg `COPY`), into the
  same tables. The file is read with `json.load` and the rows are prepared in memory before
  the clock starts: only insert + commit is timed. The `json.load` time is printed too.
* start-up: `gallra import` of an empty file, printed for context (it is included in the
  gallra figures).
* ORM loop: `Model.objects.create` per record inside one `transaction.atomic`, on a slice
  of the file (--orm-people, 10,000 by default), the file loaded before the clock starts;
  records/s from the slice stands for the full size.

Records = customers + agreements + people + accounts + requests. The import file is
synthetic and deterministic (random.seed): 5 people per customer, 1 agreement per
customer, 1 account per person, 2 requests per customer; made-up Swedish-looking names,
organisation numbers that pass the Luhn check. Files go to bench/out/ (git-ignored).

With --repeat N, gallra and the baseline run N times (each on a fresh database) and the
fastest run is shown. Peak RSS is per process (os.wait4), so every figure is the measured
process alone. The script only prints numbers; nothing is asserted. The last lines say, per
backend, whether gallra reached a quarter of the baseline's records/s, and compare peak RSS
for the quarter-size and full files (flat memory means they are about equal).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from stdnum.luhn import calc_check_digit

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
VENV_BIN = Path(sys.executable).parent
GALLRA = VENV_BIN / "gallra"
PG_URL = "postgresql://postgres@127.0.0.1:5432"
PG_DB = "gallra_bench"
SEED = 20250101

PEOPLE_PER_CUSTOMER = 5
REQUESTS_PER_CUSTOMER = 2
RECORDS_PER_CUSTOMER = 1 + 1 + PEOPLE_PER_CUSTOMER * 2 + REQUESTS_PER_CUSTOMER
TABLES = (
    "registry_customer",
    "registry_agreement",
    "registry_person",
    "registry_account",
    "registry_customerrequest",
)
STAMP = "2025-01-01 12:00:00"  # created_at / updated_at of the baseline's rows

# -- synthetic data ------------------------------------------------------------------------

FIRST_NAMES = (
    "Astrid",
    "Bengt",
    "Cecilia",
    "Dag",
    "Elsa",
    "Fredrik",
    "Greta",
    "Hugo",
    "Ingrid",
    "Johan",
    "Karin",
    "Lars",
    "Maja",
    "Nils",
    "Olga",
    "Per",
    "Ronja",
    "Sven",
    "Tove",
    "Ulf",
    "Vera",
    "Wilhelm",
    "Ylva",
    "Åke",
    "Ebba",
    "Örjan",
    "Linnea",
    "Gösta",
    "Märta",
    "Björn",
)
LAST_NAMES = (
    "Lindqvist",
    "Holm",
    "Berg",
    "Ek",
    "Sandberg",
    "Åkesson",
    "Nyström",
    "Lundgren",
    "Hägg",
    "Wikström",
    "Sjöberg",
    "Dahl",
    "Forsberg",
    "Gran",
    "Hedlund",
    "Isaksson",
    "Jonsson",
    "Källström",
    "Lövgren",
    "Mård",
    "Norén",
    "Palm",
    "Rask",
    "Strand",
    "Tjäder",
    "Vinberg",
    "Wästlund",
    "Öberg",
    "Ågren",
)
COMPANY_WORDS = (
    "Norr",
    "Syd",
    "Fjäll",
    "Skog",
    "Sjö",
    "Berg",
    "Dal",
    "Ström",
    "Ljus",
    "Bygg",
    "Data",
    "Vind",
    "Sten",
    "Älv",
    "Hav",
    "Eke",
    "Lind",
    "Björk",
)
COMPANY_TAILS = ("AB", "Handelsbolag", "Konsult AB", "IT AB", "& Söner AB", "Ekonomisk förening")
STREETS = ("Storgatan", "Kyrkvägen", "Skolgatan", "Byvägen", "Parkgatan", "Ängsvägen", "Sjögatan")
TOWNS = ("Uppsala", "Farsta", "Gävle", "Umeå", "Växjö", "Luleå", "Örebro", "Kalmar", "Falun")
REQUEST_TEXTS = (
    "Webbhotell och e-post för fem användare.",
    "Utökad lagring till 200 GB.",
    "Ny användare på kontoret i Gävle.",
    "Byte av domänleverantör.",
    "",
)
ASCII = str.maketrans("åäöéÅÄÖÉ", "aaoeAAOE")
EPOCH = date(2015, 1, 1)


def org_number(rng: random.Random, private: bool) -> str:
    if private:  # a made-up personnummer: YYMMDD-NNNC
        born = date(1940, 1, 1) + timedelta(days=rng.randrange(365 * 60))
        head = born.strftime("%y%m%d") + f"{rng.randrange(1000):03d}"
    else:  # a made-up organisation number: 55NNNN-NNNC
        head = "55" + f"{rng.randrange(10**7):07d}"
    return f"{head[:6]}-{head[6:]}{calc_check_digit(head)}"


def day(rng: random.Random, after: date = EPOCH, within: int = 3000) -> date:
    return after + timedelta(days=rng.randrange(within))


def make_customer(rng: random.Random, i: int) -> dict:
    private = rng.random() < 0.1
    people, accounts = [], []
    start = day(rng)
    domain = f"kund{i}.example"
    for j in range(PEOPLE_PER_CUSTOMER):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        pref = f"P-{i}-{j}"
        people.append(
            {
                "ref": pref,
                "first_name": first,
                "last_name": last,
                "email": f"{first}.{last}{j}@{domain}".lower().translate(ASCII),
                "postal_address": (
                    f"{rng.choice(STREETS)} {rng.randrange(1, 99)}\n"
                    f"{rng.randrange(100, 999)} {rng.randrange(10, 99)} {rng.choice(TOWNS)}"
                ),
                "mobile": f"+46 70 {rng.randrange(100, 999)} {rng.randrange(10, 99)} "
                f"{rng.randrange(10, 99)}",
                "roles": ["contact", "billing_contact", "user"] if j == 0 else ["user"],
            }
        )
        opened = day(rng, start, 1000)
        closed = day(rng, opened, 1000) if rng.random() < 0.2 else None
        username = f"{first[0]}{last}{j}".lower().translate(ASCII)
        accounts.append(
            {
                "ref": f"A-{i}-{j}",
                "person": pref,
                "username": username,
                "home": f"/home/kund{i}/{username}",
                "opened": opened.isoformat(),
                "closed": closed and closed.isoformat(),
            }
        )
    first, last = people[0]["first_name"], people[0]["last_name"]
    name = (
        f"{first} {last}"
        if private
        else f"{rng.choice(COMPANY_WORDS)}{rng.choice(COMPANY_WORDS).lower()} "
        f"{rng.choice(COMPANY_TAILS)}"
    )
    end = day(rng, start, 3000) if rng.random() < 0.15 else None
    return {
        "ref": f"C-{i}",
        "name": name,
        "kind": "private" if private else "company",
        "org_number": org_number(rng, private),
        "agreements": [
            {"ref": f"AG-{i}", "start": start.isoformat(), "end": end and end.isoformat()}
        ],
        "people": people,
        "accounts": accounts,
        "requests": [
            {
                "ref": f"R-{i}-{k}",
                "kind": rng.choice(("order", "service_change", "other")),
                "created": day(rng, start, 2000).isoformat(),
                "text": rng.choice(REQUEST_TEXTS),
            }
            for k in range(REQUESTS_PER_CUSTOMER)
        ],
    }


def write_file(people: int) -> tuple[Path, int]:
    """The import file for `people` people (a prefix of every larger one); (path, records)."""
    customers = max(1, people // PEOPLE_PER_CUSTOMER)
    path = OUT / f"import-{customers * PEOPLE_PER_CUSTOMER}.json"
    records = customers * RECORDS_PER_CUSTOMER
    if path.exists():
        return path, records
    rng = random.Random(SEED)
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write('{"customers": [\n')
        for i in range(customers):
            if i:
                f.write(",\n")
            f.write(json.dumps(make_customer(rng, i + 1), ensure_ascii=False))
        f.write("\n]}\n")
    tmp.replace(path)
    return path, records


# -- fresh databases ---------------------------------------------------------------------


class Target:
    """A fresh, migrated gallra database on one backend, and the environment that selects it."""

    def __init__(self, backend: str, pg_url: str) -> None:
        self.backend = backend
        self.pg_url = pg_url
        self.data = Path(tempfile.mkdtemp(prefix="gallra-bench-"))
        self.env = {**os.environ, "GALLRA_DATA": str(self.data)}
        self.env.pop("GALLRA_DATABASE_URL", None)
        if backend == "postgresql":
            self.env["GALLRA_DATABASE_URL"] = f"{pg_url}/{PG_DB}"
            self._recreate_pg()
        from gallra.config import KEY_FILE_NAME, create_key_file

        create_key_file(self.data / KEY_FILE_NAME)
        subprocess.run(  # noqa: S603 (fixed argv: the venv's gallra)
            [str(GALLRA), "django", "migrate", "-v0"],
            env=self.env,
            check=True,
            stdout=subprocess.DEVNULL,
        )

    @property
    def sqlite_path(self) -> Path:
        return self.data / "gallra.sqlite3"

    @property
    def dsn(self) -> str:
        return f"{self.pg_url}/{PG_DB}"

    def _recreate_pg(self) -> None:
        import psycopg

        with psycopg.connect(f"{self.pg_url}/postgres", autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {PG_DB}")

    def count(self) -> int:
        """Rows now in the five tables (proves each method wrote everything)."""
        query = " + ".join(f"(SELECT count(*) FROM {t})" for t in TABLES)
        if self.backend == "sqlite":
            import sqlite3

            conn = sqlite3.connect(self.sqlite_path)
            try:
                return conn.execute(f"SELECT {query}").fetchone()[0]
            finally:
                conn.close()
        import psycopg

        with psycopg.connect(self.dsn) as conn:
            return conn.execute(f"SELECT {query}").fetchone()[0]

    def close(self) -> None:
        shutil.rmtree(self.data, ignore_errors=True)


# -- measuring a child process -------------------------------------------------------------


def run_child(argv: list[str], env: dict) -> tuple[float, float, str]:
    """Run argv; (wall seconds, peak RSS in MB of that process alone, its stdout)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, env=env, stdout=out, stderr=err)  # noqa: S603
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if proc.returncode:
        raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}):\n{stdout}\n{stderr}")
    return seconds, usage.ru_maxrss / 1024, stdout


def worker(argv: list[str], env: dict) -> tuple[dict, float]:
    """Run this script as a worker; (the JSON it printed, its peak RSS in MB)."""
    _, rss, stdout = run_child([sys.executable, __file__, "--worker", *argv], env)
    return json.loads(stdout.strip().splitlines()[-1]), rss


# -- workers (run in their own process) ------------------------------------------------------


def load_rows(path: Path) -> tuple[dict[str, list[tuple]], float]:
    """json.load the file and prepare every row with ids assigned here; (rows, load seconds)."""
    start = time.perf_counter()
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    load_seconds = time.perf_counter() - start
    rows: dict[str, list[tuple]] = {t: [] for t in TABLES}
    person_ids: dict[str, int] = {}
    ids = dict.fromkeys(TABLES, 0)

    def next_id(table: str) -> int:
        ids[table] += 1
        return ids[table]

    d = date.fromisoformat
    for c in data["customers"]:
        cid = next_id("registry_customer")
        rows["registry_customer"].append(
            (cid, c["ref"], STAMP, STAMP, c["kind"], c["name"], c["org_number"])
        )
        for a in c["agreements"]:
            end = a["end"] and d(a["end"])
            rows["registry_agreement"].append(
                (next_id("registry_agreement"), a["ref"], STAMP, STAMP, d(a["start"]), end, cid)
            )
        for p in c["people"]:
            pid = person_ids[p["ref"]] = next_id("registry_person")
            roles = p["roles"]
            rows["registry_person"].append(
                (
                    pid,
                    p["ref"],
                    STAMP,
                    STAMP,
                    p["first_name"],
                    p["last_name"],
                    p["email"],
                    p["postal_address"],
                    p["mobile"],
                    "user" in roles,
                    "contact" in roles,
                    "billing_contact" in roles,
                    cid,
                )
            )
        for a in c["accounts"]:
            closed = a["closed"] and d(a["closed"])
            rows["registry_account"].append(
                (
                    next_id("registry_account"),
                    a["ref"],
                    STAMP,
                    STAMP,
                    a["username"],
                    a["home"],
                    d(a["opened"]),
                    closed,
                    person_ids[a["person"]],
                )
            )
        for r in c["requests"]:
            rows["registry_customerrequest"].append(
                (
                    next_id("registry_customerrequest"),
                    r["ref"],
                    STAMP,
                    STAMP,
                    r["kind"],
                    d(r["created"]),
                    r["text"],
                    cid,
                )
            )
    return rows, load_seconds


COLUMNS = {
    "registry_customer": "id ref created_at updated_at kind name org_number",
    "registry_agreement": "id ref created_at updated_at start end customer_id",
    "registry_person": "id ref created_at updated_at first_name last_name email postal_address "
    "mobile is_user is_contact is_billing_contact customer_id",
    "registry_account": "id ref created_at updated_at username home opened closed person_id",
    "registry_customerrequest": "id ref created_at updated_at kind created text customer_id",
}


def raw_worker(backend: str, path: Path, target: str) -> dict:
    rows, load_seconds = load_rows(path)
    records = sum(len(r) for r in rows.values())
    if backend == "sqlite":
        import sqlite3

        # isolation_level=None: we issue BEGIN/COMMIT ourselves, one transaction for all.
        conn = sqlite3.connect(target, isolation_level=None)
        conn.execute("PRAGMA foreign_keys = ON")  # as Django's connection does
        for table in TABLES:  # dates as ISO text, the way Django's SQLite backend stores them
            rows[table] = [
                tuple(v.isoformat() if isinstance(v, date) else v for v in row)
                for row in rows[table]
            ]
        start = time.perf_counter()
        conn.execute("BEGIN")
        for table in TABLES:
            cols = COLUMNS[table].split()
            names = ", ".join(f'"{c}"' for c in cols)
            marks = ", ".join("?" * len(cols))
            conn.executemany(f'INSERT INTO "{table}" ({names}) VALUES ({marks})', rows[table])
        conn.execute("COMMIT")
        seconds = time.perf_counter() - start
        conn.close()
    else:
        import psycopg

        with psycopg.connect(target) as conn:
            start = time.perf_counter()
            with conn.cursor() as cur:
                for table in TABLES:
                    names = ", ".join(f'"{c}"' for c in COLUMNS[table].split())
                    with cur.copy(f'COPY "{table}" ({names}) FROM STDIN') as copy:
                        for row in rows[table]:
                            copy.write_row(row)
            conn.commit()
            seconds = time.perf_counter() - start
    return {"records": records, "seconds": seconds, "load_seconds": load_seconds}


def orm_worker(path: Path) -> dict:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gallra.settings")
    import django

    django.setup()
    from django.db import transaction

    from gallra.registry.models import Account, Agreement, Customer, CustomerRequest, Person

    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    records = 0
    start = time.perf_counter()
    with transaction.atomic():
        for c in data["customers"]:
            customer = Customer.objects.create(
                ref=c["ref"], name=c["name"], kind=c["kind"], org_number=c["org_number"]
            )
            records += 1
            for a in c["agreements"]:
                Agreement.objects.create(customer=customer, **a)
                records += 1
            people = {}
            for p in c["people"]:
                roles = p["roles"]
                people[p["ref"]] = Person.objects.create(
                    customer=customer,
                    **{k: v for k, v in p.items() if k != "roles"},
                    **{flag: role in roles for role, flag in Person.ROLES.items()},
                )
                records += 1
            for a in c["accounts"]:
                Account.objects.create(**{**a, "person": people[a["person"]]})
                records += 1
            for r in c["requests"]:
                CustomerRequest.objects.create(customer=customer, **r)
                records += 1
    return {"records": records, "seconds": time.perf_counter() - start}


# -- the benchmark -------------------------------------------------------------------------


def bench_backend(backend: str, args, files: dict[str, tuple[Path, int]]) -> list[dict]:
    results = []

    def fresh() -> Target:
        return Target(backend, args.pg_url)

    def check(target: Target, expected: int, what: str) -> None:
        stored = target.count()
        if stored != expected:
            raise SystemExit(f"{backend} {what}: expected {expected} rows, found {stored}")

    path = OUT / "import-empty.json"
    path.write_text('{"customers": []}\n')
    target = fresh()
    try:
        startup, _, _ = run_child([str(GALLRA), "import", str(path)], target.env)
    finally:
        target.close()
    print(f"  {backend}: gallra import of an empty file: {startup:.2f} s", flush=True)

    for size in ("full", "quarter"):
        path, records = files[size]
        best = None
        for _ in range(args.repeat):
            target = fresh()
            try:
                seconds, rss, _ = run_child([str(GALLRA), "import", str(path)], target.env)
                check(target, records, f"gallra import ({size})")
            finally:
                target.close()
            print(f"  {backend}: gallra import, {records:,} records: {seconds:.2f} s", flush=True)
            if best is None or seconds < best["seconds"]:
                best = {
                    "method": f"gallra import ({size} file)",
                    "records": records,
                    "seconds": seconds,
                    "rss": rss,
                    "size": size,
                    "kind": "gallra",
                    "startup": startup,
                }
        results.append(best)

    path, records = files["full"]
    driver = "sqlite3 executemany" if backend == "sqlite" else "psycopg COPY"
    best = None
    for _ in range(args.repeat):
        target = fresh()
        try:
            dest = str(target.sqlite_path) if backend == "sqlite" else target.dsn
            out, rss = worker(["raw", backend, str(path), dest], target.env)
            check(target, records, "baseline")
        finally:
            target.close()
        print(f"  {backend}: {driver}: {out['seconds']:.2f} s", flush=True)
        if best is None or out["seconds"] < best["seconds"]:
            best = {
                "method": f"baseline: {driver}",
                "records": out["records"],
                "seconds": out["seconds"],
                "rss": rss,
                "kind": "baseline",
                "load_seconds": out["load_seconds"],
            }
    results.append(best)

    path, records = files["orm"]
    target = fresh()
    try:
        out, rss = worker(["orm", backend, str(path), ""], target.env)
        check(target, records, "ORM loop")
    finally:
        target.close()
    results.append(
        {
            "method": "ORM loop (objects.create)",
            "records": out["records"],
            "seconds": out["seconds"],
            "rss": rss,
            "kind": "orm",
        }
    )
    print(f"  {backend}: ORM loop, {records:,} records: {out['seconds']:.2f} s", flush=True)
    return results


def report(
    all_results: dict[str, list[dict]], files: dict[str, tuple[Path, int]], repeat: int
) -> None:
    print()
    print("Timings: gallra = whole `gallra import` process (start-up, read, validate, write,")
    print("commit); baseline = insert + commit only, rows prepared in memory beforehand (json.load")
    print("and row building not timed); ORM loop = create() loop only, on a slice of the file.")
    if repeat > 1:
        print(f"gallra and baseline: best of {repeat} runs, each on a fresh database.")
    print()
    header = (
        f"{'backend':<11} {'method':<30} {'records':>9} {'seconds':>8} {'records/s':>10} "
        f"{'peak RSS MB':>11} {'vs baseline':>11}"
    )
    print(header)
    print("-" * len(header))
    for backend, results in all_results.items():
        base = next(r for r in results if r["kind"] == "baseline")
        base_rate = base["records"] / base["seconds"]
        for r in results:
            rate = r["records"] / r["seconds"]
            print(
                f"{backend:<11} {r['method']:<30} {r['records']:>9,} {r['seconds']:>8.2f} "
                f"{rate:>10,.0f} {r['rss']:>11.1f} {rate / base_rate:>10.1%}"
            )
    print()
    for backend, results in all_results.items():
        base = next(r for r in results if r["kind"] == "baseline")
        print(
            f"{backend}: json.load of the full file ({files['full'][0].stat().st_size / 2**20:.1f}"
            f" MB) took {base['load_seconds']:.2f} s in the baseline process (not timed there)"
        )
    for backend, results in all_results.items():
        base = next(r for r in results if r["kind"] == "baseline")
        full = next(r for r in results if r["kind"] == "gallra" and r["size"] == "full")
        work = full["seconds"] - full["startup"]
        if work <= 0:  # a tiny file: start-up varies more than the import takes
            print(
                f"{backend}: `gallra import` of an empty file took {full['startup']:.2f} s "
                f"(start-up), as long as the full import: no rate without it"
            )
            continue
        rate = full["records"] / work
        print(
            f"{backend}: `gallra import` of an empty file took {full['startup']:.2f} s "
            f"(start-up);\n  without it the full import runs at {rate:,.0f} records/s, "
            f"{rate / (base['records'] / base['seconds']):.1%} of the baseline"
        )
    print()
    print("Memory, peak RSS of `gallra import` (flat = the same for both files):")
    for backend, results in all_results.items():
        by_size = {r["size"]: r for r in results if r["kind"] == "gallra"}
        q, f = by_size["quarter"], by_size["full"]
        print(
            f"  {backend:<11} {q['records']:>9,} records: {q['rss']:6.1f} MB   "
            f"{f['records']:>9,} records: {f['rss']:6.1f} MB   (full / quarter = "
            f"{f['rss'] / q['rss']:.2f})"
        )
    print()
    for backend, results in all_results.items():
        base = next(r for r in results if r["kind"] == "baseline")
        full = next(r for r in results if r["kind"] == "gallra" and r["size"] == "full")
        ratio = (full["records"] / full["seconds"]) / (base["records"] / base["seconds"])
        verdict = "reached" if ratio >= 0.25 else "did NOT reach"
        print(
            f"{backend}: gallra import {verdict} 25% of the baseline's records/s "
            f"({ratio:.1%} of {base['method'].removeprefix('baseline: ')})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=100_000, help="people in the full file")
    parser.add_argument("--orm-people", type=int, default=10_000, help="people for the ORM loop")
    parser.add_argument("--backends", default="sqlite,postgresql", help="comma-separated")
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs of gallra and baseline; the best is shown"
    )
    parser.add_argument("--pg-url", default=PG_URL, help="PostgreSQL server, without database")
    parser.add_argument("--worker", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker:
        kind, backend, path, target = args.worker
        out = raw_worker(backend, Path(path), target) if kind == "raw" else orm_worker(Path(path))
        print(json.dumps(out))
        return

    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    unknown = set(backends) - {"sqlite", "postgresql"}
    if unknown:
        parser.error(f"unknown backend(s): {', '.join(sorted(unknown))}")
    sys.path.insert(0, str(ROOT / "src"))  # gallra.config, when not run from the venv
    OUT.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    files = {
        "full": write_file(args.people),
        "quarter": write_file(args.people // 4),
        "orm": write_file(min(args.orm_people, args.people)),
    }
    print(f"Import files ({time.perf_counter() - start:.1f} s to make or find):")
    for size, (path, records) in files.items():
        mb = path.stat().st_size / 2**20
        print(f"  {size:<8} {path.relative_to(ROOT)}: {records:,} records, {mb:.1f} MB")
    all_results = {}
    for backend in backends:
        print(f"Running {backend} ...", flush=True)
        all_results[backend] = bench_backend(backend, args, files)
    report(all_results, files, args.repeat)


if __name__ == "__main__":
    main()
