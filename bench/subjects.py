"""Benchmark data-subject export and erasure across three real databases.

Run from the project root:

    .venv/bin/python bench/subjects.py                      # 1,000,000 subjects, 200 samples
    .venv/bin/python bench/subjects.py --subjects 100000 --samples 50 --profile

The provider's databases, built once per size (rebuilt when --subjects changes):

* PostgreSQL `gallra_bench_subjects` ("shop"): every subject is a customer with one order of
  two order lines and one invoice (5 rows per subject);
* MariaDB `gallra_bench_subjects` ("support"): every second subject has a ticket with three
  messages, one of them from staff;
* SQLite bench/out/subjects-crm.sqlite3 ("crm"): every third subject is a contact with one
  call note.

Identity columns and foreign keys are indexed. Customers, tickets and contacts name the
registry person they belong to (`person_ref`, declared as the table's `owner`), as a
provider's systems must for retention to date their rows (docs/policy-file.md,
`dataset.table`); orders, order lines, messages and calls go with their parent row.

gallra itself runs on SQLite in bench/out/subjects-gallra/ with the JufCorp policy plus the
declaration of the three datasets, and a registry of 20,000 people (the first 20,000
subjects, one account each).

Measured per subject, on distinct random subjects (seeded), after one warm-up each:

* export, whole: `export_request` for a verified access request: every store searched, the
  ZIP with data.json and index.html built, the evidence entry written, the request closed;
* find: the rows in the three databases only (`datasets.find`), against
* hand-written SELECTs for the same rows (driver cursors kept open, parameters bound);
* erase, whole: `erase_request` for a verified erasure request: gallra's registry and the
  three databases, one transaction each, evidence for every step;
* find+erase in the three databases only (`datasets.erase` in one transaction per database),
  against
* hand-written SELECT + DELETE/UPDATE statements for the same rows, one transaction per
  database;
* Fides (PyPI ethyca-fides), access and erasure requests against the PostgreSQL part, when
  `bash bench/fides_setup.sh` has installed it in ${TMPDIR:-/tmp}/gallra-bench-fides/ (see
  bench/fides_baseline.py; FIDES_PYTHON names another venv); otherwise the figures the issue
  quotes are shown, marked as not measured here, with the reason.

The script prints numbers; it asserts only that each operation found what it should.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
DB = "gallra_bench_subjects"
PG_URL = f"postgresql://postgres@127.0.0.1:5432/{DB}"
MY_URL = f"mysql://root@127.0.0.1:3306/{DB}"
CRM = OUT / "subjects-crm.sqlite3"
GALLRA_DATA = OUT / "subjects-gallra"
# bench/fides_setup.sh's venv, in the benchmarks' cache folder (FIDES_PYTHON names another)
FIDES_VENV = Path(tempfile.gettempdir()) / "gallra-bench-fides" / "fides-venv"
IN_GALLRA = 20_000
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)

DATASETS = f"""
[[dataset]]
id = "shop"
name = "Webbutiken"
url = "{PG_URL}"
country = "SE"

[[dataset.table]]
name = "customers"
identity = {{ email = "email" }}
columns = {{ email = "customer_contact", name = "customer_contact", phone = "customer_contact" }}
since = "created"
owner = {{ record = "person", column = "person_ref" }}   # the shop's customer in gallra
erase = "delete"

[[dataset.table]]
name = "orders"
via = {{ table = "customers", column = "customer_id" }}
columns = {{ delivery_name = "customer_contact", delivery_address = "customer_contact" }}
erase = "overwrite"
set = {{ delivery_name = "[raderad]" }}
set_null = ["delivery_address", "customer_id"]

[[dataset.table]]
name = "order_lines"
via = {{ table = "orders", column = "order_id" }}
columns = {{ gift_message = "customer_contact" }}
erase = "overwrite"
set_null = ["gift_message"]

[[dataset.table]]
name = "invoices"
identity = {{ buyer_email = "email" }}
columns = {{ buyer_email = "accounting_records", buyer_name = "accounting_records" }}
erase = "keep"
kept_by = "accounting-records"
dated_by = "fiscal_year_end"

[[dataset]]
id = "support"
name = "Ärendesystemet"
url = "{MY_URL}"
country = "SE"

[[dataset.table]]
name = "tickets"
identity = {{ requester_email = "email", requester_name = "name" }}
columns = {{ requester_email = "customer_contact", requester_name = "customer_contact" }}
owner = {{ record = "person", column = "person_ref" }}
erase = "delete"

[[dataset.table]]
name = "messages"
via = {{ table = "tickets", column = "ticket_id" }}
identity = {{ author_email = "email", author_name = "name" }}
text = ["body"]
erase = "delete"

[dataset.table.columns]
author_email = "customer_contact"
author_name = "customer_contact"
body = "requests"

[[dataset]]
id = "crm"
name = "CRM"
url = "sqlite:///{CRM}"
country = "SE"

[[dataset.table]]
name = "contacts"
identity = {{ email = "email" }}
columns = {{ email = "customer_contact", full_name = "customer_contact" }}
owner = {{ record = "person", column = "person_ref" }}
erase = "delete"

[[dataset.table]]
name = "calls"
via = {{ table = "contacts", column = "contact_id" }}
columns = {{ note = "requests" }}
text = ["note"]
erase = "delete"
"""


def email(i: int) -> str:
    return f"s{i}@bench.example"


# -- building the databases ------------------------------------------------------------------


def built_size(check) -> int | None:
    try:
        return check()
    except Exception:  # noqa: BLE001 (absent database or table: build it)
        return None


def build_pg(n: int) -> None:
    import psycopg

    def size():
        with psycopg.connect(PG_URL) as c:
            c.execute("SELECT person_ref FROM customers LIMIT 1")  # built before owners: rebuild
            return c.execute("SELECT subjects FROM bench_meta").fetchone()[0]

    if built_size(size) == n:
        return
    print(f"building PostgreSQL {DB} ({n:,} subjects)...", flush=True)
    with psycopg.connect(PG_ADMIN, autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
        c.execute(f'CREATE DATABASE "{DB}"')
    with psycopg.connect(PG_URL) as c:
        c.execute("""
            CREATE TABLE customers (id BIGINT PRIMARY KEY, email TEXT NOT NULL, name TEXT,
                phone TEXT, created DATE, person_ref TEXT);
            CREATE TABLE orders (id BIGINT PRIMARY KEY, customer_id BIGINT
                REFERENCES customers (id), delivery_name TEXT, delivery_address TEXT,
                created DATE);
            CREATE TABLE order_lines (id BIGINT PRIMARY KEY, order_id BIGINT NOT NULL
                REFERENCES orders (id), product TEXT, gift_message TEXT);
            CREATE TABLE invoices (id BIGINT PRIMARY KEY, buyer_email TEXT, buyer_name TEXT,
                amount NUMERIC(12, 2), fiscal_year_end DATE);
            CREATE TABLE bench_meta (subjects BIGINT);
        """)
        with c.cursor().copy("COPY customers FROM STDIN") as copy:
            for i in range(1, n + 1):
                copy.write_row((i, email(i), f"Person {i}", f"070-{i:07d}", "2024-01-01", f"P-{i}"))
        with c.cursor().copy("COPY orders FROM STDIN") as copy:
            for i in range(1, n + 1):
                copy.write_row((i, i, f"Person {i}", f"Gatan {i}", "2025-01-01"))
        with c.cursor().copy("COPY order_lines FROM STDIN") as copy:
            for i in range(1, n + 1):
                copy.write_row((2 * i, i, "Server", f"Till {i}"))
                copy.write_row((2 * i + 1, i, "Disk", None))
        with c.cursor().copy("COPY invoices FROM STDIN") as copy:
            for i in range(1, n + 1):
                copy.write_row((i, email(i), f"Person {i}", "100.00", "2025-12-31"))
        c.execute("""
            CREATE INDEX ON customers (email); CREATE INDEX ON orders (customer_id);
            CREATE INDEX ON order_lines (order_id); CREATE INDEX ON invoices (buyer_email);
        """)
        c.execute("INSERT INTO bench_meta VALUES (%s)", (n,))
    with psycopg.connect(PG_URL, autocommit=True) as c:
        c.execute("ANALYZE")


def build_mariadb(n: int) -> None:
    import pymysql

    def connect(database=DB):
        return pymysql.connect(host="127.0.0.1", user="root", database=database, local_infile=True)

    def size():
        with connect() as c, c.cursor() as cur:
            cur.execute("SELECT person_ref FROM tickets LIMIT 1")  # built before owners: rebuild
            cur.execute("SELECT subjects FROM bench_meta")
            return cur.fetchone()[0]

    if built_size(size) == n:
        return
    print(f"building MariaDB {DB} ({n // 2:,} tickets)...", flush=True)
    with connect("test") as c, c.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS `{DB}`")
        cur.execute(f"CREATE DATABASE `{DB}`")
    tickets, messages = OUT / "tickets.tsv", OUT / "messages.tsv"
    with tickets.open("w") as t, messages.open("w") as m:
        for i in range(2, n + 1, 2):
            t.write(f"{i}\t{email(i)}\tPerson {i}\tP-{i}\n")
            m.write(f"{3 * i}\t{i}\t{email(i)}\tPerson {i}\tKan inte logga in.\n")
            m.write(f"{3 * i + 1}\t{i}\tsupport@redcloud.example\tSupport\tVi tittar.\n")
            m.write(f"{3 * i + 2}\t{i}\t{email(i)}\tPerson {i}\tTack!\n")
    with connect() as c, c.cursor() as cur:
        cur.execute("""CREATE TABLE tickets (id BIGINT PRIMARY KEY, requester_email
            VARCHAR(200), requester_name VARCHAR(200), person_ref VARCHAR(100)) ENGINE=InnoDB""")
        cur.execute("""CREATE TABLE messages (id BIGINT PRIMARY KEY, ticket_id BIGINT NOT NULL,
            author_email VARCHAR(200), author_name VARCHAR(200), body TEXT,
            FOREIGN KEY (ticket_id) REFERENCES tickets (id)) ENGINE=InnoDB""")
        cur.execute("CREATE TABLE bench_meta (subjects BIGINT)")
        cur.execute(f"LOAD DATA LOCAL INFILE '{tickets}' INTO TABLE tickets")
        cur.execute(f"LOAD DATA LOCAL INFILE '{messages}' INTO TABLE messages")
        cur.execute("CREATE INDEX tickets_email ON tickets (requester_email)")
        cur.execute("CREATE INDEX messages_email ON messages (author_email)")
        cur.execute("INSERT INTO bench_meta VALUES (%s)", (n,))
        c.commit()
    tickets.unlink()
    messages.unlink()


def build_sqlite(n: int) -> None:
    def size():
        with sqlite3.connect(CRM) as c:
            c.execute("SELECT person_ref FROM contacts LIMIT 1")  # built before owners: rebuild
            return c.execute("SELECT subjects FROM bench_meta").fetchone()[0]

    if built_size(size) == n:
        return
    print(f"building SQLite {CRM.name} ({n // 3:,} contacts)...", flush=True)
    CRM.unlink(missing_ok=True)
    with sqlite3.connect(CRM) as c:
        c.executescript("""
            CREATE TABLE contacts (id INTEGER PRIMARY KEY, email TEXT, full_name TEXT,
                person_ref TEXT);
            CREATE TABLE calls (id INTEGER PRIMARY KEY, contact_id INTEGER NOT NULL
                REFERENCES contacts (id), note TEXT);
            CREATE TABLE bench_meta (subjects INTEGER);
        """)
        c.executemany(
            "INSERT INTO contacts VALUES (?, ?, ?, ?)",
            ((i, email(i), f"Person {i}", f"P-{i}") for i in range(3, n + 1, 3)),
        )
        c.executemany(
            "INSERT INTO calls VALUES (?, ?, ?)",
            ((i, i, f"Person {i} ringde.") for i in range(3, n + 1, 3)),
        )
        c.executescript(
            "CREATE INDEX contacts_email ON contacts (email);"
            "CREATE INDEX calls_contact ON calls (contact_id);"
        )
        c.execute("INSERT INTO bench_meta VALUES (?)", (n,))


def setup_gallra() -> None:
    """A gallra data directory with keys, the policy plus datasets, and 20,000 people."""
    import shutil

    shutil.rmtree(GALLRA_DATA, ignore_errors=True)
    GALLRA_DATA.mkdir(parents=True)
    policy = GALLRA_DATA / "policy.toml"
    default = ROOT / "src" / "gallra" / "policies" / "jufcorp.toml"
    policy.write_text(default.read_text(encoding="utf-8") + DATASETS)
    os.environ["GALLRA_DATA"] = str(GALLRA_DATA)
    os.environ["GALLRA_POLICY"] = str(policy)
    os.environ.pop("GALLRA_DATABASE_URL", None)
    gallra = Path(sys.executable).parent / "gallra"
    subprocess.run([gallra, "init"], check=True, capture_output=True)  # noqa: S603
    subprocess.run([gallra, "policy", "check"], check=True)  # noqa: S603
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gallra.settings")
    import django

    django.setup()
    from gallra.registry.importing import import_document

    customers = []
    for c in range(IN_GALLRA // 10):
        people = [
            {
                "ref": f"P-{i}",
                "first_name": "Person",
                "last_name": str(i),
                "email": email(i),
                "roles": ["user"],
            }
            for i in range(10 * c + 1, 10 * c + 11)
        ]
        accounts = [
            {
                "ref": f"A-{p['ref'][2:]}",
                "person": p["ref"],
                "username": f"u{p['ref']}",
                "opened": "2024-01-01",
            }
            for p in people
        ]
        customers.append(
            {
                "ref": f"C-{c}",
                "name": f"Kund {c} AB",
                "people": people,
                "accounts": accounts,
                "agreements": [{"ref": f"AG-{c}", "start": "2024-01-01"}],
            }
        )
    import_document({"customers": customers})


def used_subjects() -> set[int]:
    import psycopg

    with psycopg.connect(PG_URL) as c:
        c.execute("CREATE TABLE IF NOT EXISTS bench_used (id BIGINT PRIMARY KEY)")
        return {r[0] for r in c.execute("SELECT id FROM bench_used")}


def mark_used(ids: list[int]) -> None:
    import psycopg

    with psycopg.connect(PG_URL) as c, c.cursor().copy("COPY bench_used FROM STDIN") as copy:
        for i in ids:
            copy.write_row((i,))


# -- hand-written baselines -----------------------------------------------------------------


class Hand:
    """The same rows with hand-written statements on open driver connections."""

    def __init__(self) -> None:
        import psycopg
        import pymysql

        self.pg = psycopg.connect(PG_URL)
        self.my = pymysql.connect(host="127.0.0.1", user="root", database=DB)
        self.lite = sqlite3.connect(CRM)

    def find(self, address: str) -> int:
        rows = 0
        with self.pg.cursor() as cur:
            customers = cur.execute("SELECT * FROM customers WHERE email = %s", (address,))
            customers = cur.fetchall()
            ids = [r[0] for r in customers]
            orders = cur.execute("SELECT * FROM orders WHERE customer_id = ANY(%s)", (ids,))
            orders = cur.fetchall()
            lines = cur.execute(
                "SELECT * FROM order_lines WHERE order_id = ANY(%s)", ([r[0] for r in orders],)
            ).fetchall()
            invoices = cur.execute(
                "SELECT * FROM invoices WHERE buyer_email = %s", (address,)
            ).fetchall()
            rows += len(customers) + len(orders) + len(lines) + len(invoices)
        self.pg.rollback()
        with self.my.cursor() as cur:
            cur.execute("SELECT * FROM tickets WHERE requester_email = %s", (address,))
            tickets = cur.fetchall()
            messages = ()
            if tickets:
                cur.execute(
                    "SELECT * FROM messages WHERE ticket_id IN %s", ([t[0] for t in tickets],)
                )
                messages = cur.fetchall()
            cur.execute("SELECT * FROM messages WHERE author_email = %s", (address,))
            rows += len(tickets) + len({m[0] for m in messages + cur.fetchall()})
        self.my.rollback()
        contacts = self.lite.execute("SELECT * FROM contacts WHERE email = ?", (address,))
        contacts = contacts.fetchall()
        for contact in contacts:
            rows += len(
                self.lite.execute(
                    "SELECT * FROM calls WHERE contact_id = ?", (contact[0],)
                ).fetchall()
            )
        return rows + len(contacts)

    def erase(self, address: str) -> None:
        with self.pg.cursor() as cur:
            ids = [
                r[0] for r in cur.execute("SELECT id FROM customers WHERE email = %s", (address,))
            ]
            orders = [
                r[0]
                for r in cur.execute("SELECT id FROM orders WHERE customer_id = ANY(%s)", (ids,))
            ]
            cur.execute(
                "UPDATE order_lines SET gift_message = NULL WHERE order_id = ANY(%s)", (orders,)
            )
            cur.execute(
                "UPDATE orders SET delivery_name = '[raderad]', delivery_address = NULL,"
                " customer_id = NULL WHERE id = ANY(%s)",
                (orders,),
            )
            cur.execute("DELETE FROM customers WHERE id = ANY(%s)", (ids,))
        self.pg.commit()
        with self.my.cursor() as cur:
            cur.execute("SELECT id FROM tickets WHERE requester_email = %s", (address,))
            tickets = [r[0] for r in cur.fetchall()]
            if tickets:
                cur.execute("DELETE FROM messages WHERE ticket_id IN %s", (tickets,))
            cur.execute("DELETE FROM messages WHERE author_email = %s", (address,))
            if tickets:
                cur.execute("DELETE FROM tickets WHERE id IN %s", (tickets,))
        self.my.commit()
        with self.lite:
            ids = [
                r[0]
                for r in self.lite.execute("SELECT id FROM contacts WHERE email = ?", (address,))
            ]
            for contact in ids:
                self.lite.execute("DELETE FROM calls WHERE contact_id = ?", (contact,))
                self.lite.execute("DELETE FROM contacts WHERE id = ?", (contact,))


# -- measuring ------------------------------------------------------------------------------


def timed(fn, *args) -> float:
    start = time.perf_counter()
    fn(*args)
    return (time.perf_counter() - start) * 1000


def stats(values: list[float]) -> dict:
    values = sorted(values)
    p99 = values[min(len(values) - 1, round(0.99 * (len(values) - 1)))]
    return {"median": round(statistics.median(values), 2), "p99": round(p99, 2), "n": len(values)}


def fides(subjects: list[int], samples: int) -> tuple[dict | None, str]:
    """Fides' access and erasure figures, or None and why there are none."""
    python = os.environ.get("FIDES_PYTHON") or str(FIDES_VENV / "bin" / "python")
    script = ROOT / "bench" / "fides_baseline.py"
    if not Path(python).exists():
        return None, f"no Fides venv, {python} is missing; set it up: bash bench/fides_setup.sh"
    emails = [email(i) for i in subjects[:samples]]
    command = [python, str(script), "--dsn", PG_URL, "-n", str(len(emails))]
    command += ["--emails", ",".join(emails)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=3600)  # noqa: S603
    lines = result.stdout.strip().splitlines()
    if result.returncode != 0 or not lines:  # failed, or skipped (it says why on stderr)
        print(result.stderr[-2000:], file=sys.stderr)
        why = "failed, see above" if result.returncode else "skipped, see above"
        return None, f"bench/fides_baseline.py {why}"
    data = json.loads(lines[-1])
    return {
        "access": stats(data["access_ms"]),
        "erasure": stats(data["erasure_ms"]),
        "version": data.get("fides_version"),
    }, ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--subjects", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--fides-samples", type=int, default=20)
    parser.add_argument("--no-fides", action="store_true")
    parser.add_argument("--profile", action="store_true", help="profile export and erase")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    build_pg(args.subjects)
    build_mariadb(args.subjects)
    build_sqlite(args.subjects)
    print(f"databases ready in {time.perf_counter() - started:.0f} s", flush=True)
    setup_gallra()

    from django.utils import timezone

    from gallra.policy.loading import current_policy
    from gallra.subjects import cases, datasets, erasure, export
    from gallra.subjects.identity import Identity

    policy = current_policy()
    at = timezone.localdate()
    rng = random.Random()  # noqa: S311
    # Sample uniformly among subjects no earlier run has erased (bench_used, in PostgreSQL);
    # every sample set is distinct.
    used = used_subjects()
    candidates = [i for i in range(1, args.subjects + 1) if i not in used]
    pool = rng.sample(candidates, 6 * args.samples + 6 + args.fides_samples)
    mark_used(pool)
    sets = [pool[k * (args.samples + 1) : (k + 1) * (args.samples + 1)] for k in range(6)]
    export_set, find_set, hand_find_set, erase_set, ours_erase_set, hand_erase_set = sets
    fides_set = pool[6 * (args.samples + 1) :]
    hand = Hand()

    def verified(kind: str, i: int):
        request = cases.open_request(
            kind, Identity.of(email(i)), received=at, now=NOW, actor="bench"
        )
        cases.verify_by_staff(request, "bench", "bench", now=NOW)
        return request

    def export_one(request):
        data = export.export_request(policy, request, now=NOW, at=at, lang="sv", actor="bench")
        assert data[:2] == b"PK"

    def find_one(i: int):
        identity = Identity.of(email(i))
        found = 0
        for dataset in policy.dataset:
            with datasets.engine(dataset).connect() as conn:
                found += sum(len(f.rows) for f in datasets.find(conn, dataset, identity))
        assert found >= 5, (i, found)

    def erase_one(request):
        erasure.erase_request(policy, request, now=NOW, at=at, actor="bench")
        assert request.status == "done", request.note

    def erase_datasets(i: int):
        identity = Identity.of(email(i))
        for dataset in policy.dataset:
            with datasets.engine(dataset).begin() as conn:
                datasets.erase(conn, dataset, identity)

    results = {}
    requests = [verified("access", i) for i in export_set]
    results["export, whole (ZIP, HTML, evidence)"] = [timed(export_one, r) for r in requests][1:]
    results["find in the 3 databases: gallra"] = [timed(find_one, i) for i in find_set][1:]
    results["find in the 3 databases: hand-written SELECT"] = [
        timed(hand.find, email(i)) for i in hand_find_set
    ][1:]
    requests = [verified("erasure", i) for i in erase_set]
    results["erase, whole (4 stores, evidence)"] = [timed(erase_one, r) for r in requests][1:]
    results["find+erase in the 3 databases: gallra"] = [
        timed(erase_datasets, i) for i in ours_erase_set
    ][1:]
    results["find+erase in the 3 databases: hand-written"] = [
        timed(hand.erase, email(i)) for i in hand_erase_set
    ][1:]

    if args.profile:
        import cProfile
        import pstats

        profile = cProfile.Profile()
        extra = rng.sample(range(1, args.subjects + 1), 40)
        reqs = [verified("access", i) for i in extra[:20]] + [
            verified("erasure", i) for i in extra[20:]
        ]
        profile.enable()
        for r in reqs[:20]:
            export_one(r)
        for r in reqs[20:]:
            erase_one(r)
        profile.disable()
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(30)
        print(out.getvalue())

    fides_result, no_fides = (
        (None, "--no-fides") if args.no_fides else fides(fides_set, args.fides_samples)
    )
    print(f"\n{args.subjects:,} subjects; {args.samples} samples per line; times in ms")
    table = {name: stats(values) for name, values in results.items()}
    for name, s in table.items():
        print(f"  {name:48} median {s['median']:8.2f}  p99 {s['p99']:8.2f}")
    ratio_find = (
        table["find in the 3 databases: gallra"]["median"]
        / table["find in the 3 databases: hand-written SELECT"]["median"]
    )
    ratio_erase = (
        table["find+erase in the 3 databases: gallra"]["median"]
        / table["find+erase in the 3 databases: hand-written"]["median"]
    )
    print(
        f"  gallra / hand-written (median): find {ratio_find:.2f}x, "
        f"find+erase {ratio_erase:.2f}x (target: within 3x)"
    )
    export_ms = table["export, whole (ZIP, HTML, evidence)"]["median"]
    erase_ms = table["erase, whole (4 stores, evidence)"]["median"]
    print(f"  export median {export_ms:.1f} ms (target under 100 ms)")
    if fides_result:
        fa, fe = fides_result["access"], fides_result["erasure"]
        print(
            f"  Fides {fides_result['version']} (PostgreSQL part only): access median "
            f"{fa['median']:.0f} ms p99 {fa['p99']:.0f}; erasure median {fe['median']:.0f} ms "
            f"p99 {fe['p99']:.0f}"
        )
        print(
            f"  gallra is {fa['median'] / export_ms:.0f}x faster at access, "
            f"{fe['median'] / erase_ms:.0f}x at erasure (target: 20x)"
        )
    else:
        print(
            f"  Fides: not measured in this run ({no_fides}); "
            "the issue quotes about 250 ms per access and 450 ms per erasure:"
        )
        print(
            f"  against those, gallra is {250 / export_ms:.0f}x faster at access and "
            f"{450 / erase_ms:.0f}x at erasure (target: 20x)"
        )
    (OUT / "subjects.json").write_text(
        json.dumps(
            {
                "subjects": args.subjects,
                "results": table,
                "fides": fides_result,
                "date": date.today().isoformat(),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
