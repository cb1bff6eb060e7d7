"""Benchmark `gallra enforce` of a PostgreSQL dataset against a hand-written SQL DELETE.

Run from the project root:

    .venv/bin/python bench/enforce_datasets.py            # 1,000,000 rows, 200,000 due
    .venv/bin/python bench/enforce_datasets.py --small    # 20,000 rows, 4,000 due: a quick look
    .venv/bin/python bench/enforce_datasets.py --rows 200000 --due 40000 --backends sqlite --profile

The dataset is a provider's ticket system on PostgreSQL (postgresql://postgres@127.0.0.1:5432,
override with --pg-url), declared as a `[[dataset]]` (docs/retention.md, "Connected
datasets"): `tickets` (owner `customer_ref`, dates `created` and `last_activity`; requester
e-mail and name are `customer_contact`, the title `correspondence`) and `messages` (by `via`
to their ticket, --messages per ticket, default 3: they go with it). A foreign key and an
index tie each message to its ticket; `customer_ref` is indexed. For --rows N and --due D,
N / (1 + messages) tickets of which D / (1 + messages) are due, with all their messages.

Under the JufCorp rules, on 2026-06-30, a ticket is due

* one year after its customer's last agreement ended (`customer-data-after-relationship`,
  through `owner`): 5% of the registry's customers ended on 2024-12-31; their tickets go
  however recent their activity;
* three months after its last activity (`correspondence-and-sales`, `last_activity`, or
  `created` where that is empty, one ticket in ten): the rest of the due tickets are old
  ones of the other customers, of refs the registry never had and of no customer at all;
* unless a hold on its customer keeps it: 5% of the customers ended on 2024-12-31 but are
  under a legal hold, 5% are active under an agreement hold; all their tickets are old.
  5% ended on 2026-01-31 (not yet a year). Owners are spread over the tickets by a hash.

gallra's registry holds those customers (rows / 50; each with one agreement and one person,
and the holds): it is imported with `gallra import` once per backend and copied for every
measurement, as is the dataset (CREATE DATABASE ... TEMPLATE). gallra's own database is a
SQLite file in a temporary data directory, or the PostgreSQL database
`gallra_bench_datasets_gallra`; the dataset is `gallra_bench_datasets` (its template
`gallra_bench_datasets_template`). All are dropped at the end.

Measured, each on a fresh copy of both, each child process timed as a whole (wall time,
interpreter and Django start-up included) with its peak RSS from os.wait4:

* enforce: `gallra enforce --at 2026-06-30 --format json` armed by GALLRA_ENFORCE_ARMED=1; its
  summary is checked: D rows due and D deleted in the dataset, none overwritten, no problem,
  and the ended customers deleted in the registry (gallra's own part of the same run);
* the same run on the same registry with the dataset left out of the policy: what `enforce`
  costs without the dataset (start-up and the registry's own deletions);
* baseline: one transaction of hand-written SQL (a worker process, only BEGIN ... COMMIT
  timed) deleting exactly the due rows, children first, by the due condition written out:
  the ended customers' refs and the held customers' refs as arrays, the date as a constant;
* enforce again on a quarter of the rows (same registry): flat memory means about the same
  peak.

After enforce and after the baseline, the rows left in both tables (count, sum and digest of
their keys) must be the same, and the counts those the generator expects; the script stops
otherwise. A step that runs longer than --timeout seconds is stopped and reported as such.

--profile runs `gallra enforce` once more under cProfile (`python -m cProfile -o`), on the
first backend, and prints the top functions.

The script only prints numbers; nothing is asserted beyond the checks above.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import pstats
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
PG_URL = "postgresql://postgres@127.0.0.1:5432"
DATASET_DB = "gallra_bench_datasets"  # every measurement's fresh copy of the ticket system
DATASET_TEMPLATE = "gallra_bench_datasets_template"
QUARTER_TEMPLATE = "gallra_bench_datasets_quarter"
GALLRA_DB = "gallra_bench_datasets_gallra"  # gallra's own database, on PostgreSQL
GALLRA_TEMPLATE = "gallra_bench_datasets_gallra_template"
AT = date(2026, 6, 30)
LAST_DUE_ACTIVITY = date(2026, 3, 30)  # + 3 months = AT: the last activity still due on AT
ENDED, RECENTLY_ENDED = date(2024, 12, 31), date(2026, 1, 31)
SMALL = (20_000, 4_000)
CUSTOMERS_PER_ROW = 50  # one registry customer per 50 dataset rows
URL_ENV = "GALLRA_BENCH_DATASETS_URL"

# The enforce benchmark's helpers: a child process timed as a whole, with a timeout.
_spec = importlib.util.spec_from_file_location("bench_enforce", ROOT / "bench" / "enforce.py")
bench_enforce = sys.modules["bench_enforce"] = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_enforce)
GALLRA = bench_enforce.GALLRA

DATASET = f"""
[[dataset]]
id = "support"
name = {{ sv = "Ärendesystemet", en = "The ticket system" }}
url_env = "{URL_ENV}"
country = "SE"

[[dataset.table]]
name = "tickets"
identity = {{ requester_email = "email", requester_name = "name" }}
columns = {{ requester_email = "customer_contact", requester_name = "customer_contact", \
title = "correspondence" }}
since = "created"
owner = {{ record = "customer", column = "customer_ref" }}
dates = {{ created = "created", last_activity = "last_activity" }}
erase = "delete"

[[dataset.table]]
name = "messages"                 # no dating of its own: a message goes with its ticket
via = {{ table = "tickets", column = "ticket_id" }}
identity = {{ author_email = "email" }}
columns = {{ author_email = "customer_contact", body = "correspondence" }}
text = ["body"]
erase = "delete"
"""

DDL = """
CREATE TABLE tickets (id BIGINT PRIMARY KEY, customer_ref TEXT, requester_email TEXT,
    requester_name TEXT, title TEXT, status TEXT NOT NULL, created DATE NOT NULL,
    last_activity DATE);
CREATE INDEX tickets_customer_ref ON tickets (customer_ref);
CREATE TABLE messages (id BIGINT PRIMARY KEY, ticket_id BIGINT NOT NULL REFERENCES tickets (id),
    author_email TEXT, body TEXT, sent TIMESTAMPTZ NOT NULL);
CREATE INDEX messages_ticket ON messages (ticket_id)
"""

FIRST = ("Astrid", "Bengt", "Cecilia", "Dag", "Elsa", "Fredrik", "Greta", "Hugo", "Ingrid", "Jonas")
LAST = ("Lindqvist", "Holm", "Berg", "Ek", "Sandberg", "Åkesson", "Nyström", "Lundgren", "Falk")
TITLES = (
    "Kan inte logga in",
    "Fakturafråga",
    "Ny användare",
    "Servern svarar inte",
    "Byte av lösenord",
    "Utökad lagring",
    "Fel i DNS",
    "Flytt av e-post",
)
BODY = (
    "Hej! Vi har problem med {t} sedan i morse. Kan ni titta på det så snart som möjligt? "
    "Vänliga hälsningar, {n}"
)


# -- the data -----------------------------------------------------------------------------------


def customer_kind(k: int) -> str:
    """gone: ended > 1 year ago; held_ended / held_active: under a hold; recent: ended < 1 year
    ago; active."""
    return {0: "gone", 10: "held_ended", 5: "held_active", 15: "recent"}.get(k % 20, "active")


@dataclass(frozen=True)
class Layout:
    rows: int
    due: int
    messages: int  # per ticket
    customers: int
    tickets: int
    due_tickets: int
    free: int  # tickets whose fate their dates alone decide
    gone: int  # tickets of gone customers (all due)

    @classmethod
    def of(cls, rows: int, due: int, messages: int, customers: int) -> Layout:
        per = 1 + messages
        if rows % per or due % per:
            raise SystemExit(f"--rows and --due must be multiples of {per} (1 + --messages)")
        tickets, due_tickets = rows // per, due // per
        counts = {"gone": 0, "free": 0}
        for i in range(tickets):
            kind = owner(i, customers)[1]
            if kind == "gone":
                counts["gone"] += 1
            elif not kind.startswith("held"):
                counts["free"] += 1
        if not counts["gone"] <= due_tickets <= counts["gone"] + counts["free"]:
            raise SystemExit(
                f"--due {due}: between {counts['gone'] * per:,} (the ended customers' tickets) "
                f"and {(counts['gone'] + counts['free']) * per:,} for --rows {rows}"
            )
        return cls(
            rows, due, messages, customers, tickets, due_tickets, counts["free"], counts["gone"]
        )

    def left(self) -> dict[str, int]:
        return {
            "tickets": self.tickets - self.due_tickets,
            "messages": (self.tickets - self.due_tickets) * self.messages,
        }


def owner(i: int, customers: int) -> tuple[str | None, str]:
    """The customer_ref of ticket i and what kind of owner that is."""
    if i % 25 == 24:
        return None, "none"  # a ticket from someone who is not a customer
    if i % 25 == 23:
        return f"X-{i % 997}", "unknown"  # a ref the registry never had
    k = (i * 2654435761) % customers
    return f"C-{k}", customer_kind(k)


def tickets(layout: Layout):
    """(ticket row, its message rows), in id order; deterministic."""
    free_seen = 0
    due_free = layout.due_tickets - layout.gone
    base = date(2020, 1, 1)
    for i in range(layout.tickets):
        ref, kind = owner(i, layout.customers)
        if kind == "gone":
            old = i % 3 == 0  # most of them recent: only their owner's end takes them
        elif kind.startswith("held"):
            old = True  # due by their dates, kept by the hold
        else:
            old = bench_enforce.spread(layout.free, due_free, free_seen)
            free_seen += 1
        if old:
            last = date(2025, 9, 1) + timedelta(days=i % 120)
        else:
            last = LAST_DUE_ACTIVITY + timedelta(days=1 + i % 80)
        created = max(base, last - timedelta(days=i % 45))
        no_activity = i % 10 == 3  # never answered: dated by `created`
        name = f"{FIRST[i % len(FIRST)]} {LAST[i // 7 % len(LAST)]}"
        email = f"kund{i % 50_000}@example.se"
        title = TITLES[i % len(TITLES)]
        row = (
            i + 1,
            ref,
            email,
            name,
            title,
            "closed" if old else "open",
            last if no_activity else created,
            None if no_activity else last,
        )
        body = BODY.format(t=title.lower(), n=name)
        messages = [
            (
                i * layout.messages + j + 1,
                i + 1,
                email if j % 2 == 0 else "support@jufcorp.se",
                body,
                f"{last.isoformat()} 10:{j:02d}:00+01",
            )
            for j in range(layout.messages)
        ]
        yield row, messages


def registry_file(layout: Layout) -> Path:
    """The registry's customers (one agreement, one person each) and holds, as `gallra import`
    reads them."""
    path = OUT / f"enforce-datasets-registry-{layout.customers}.json"
    if path.exists():
        return path
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write('{"customers": [\n')
        for k in range(layout.customers):
            kind = customer_kind(k)
            end = {"gone": ENDED, "held_ended": ENDED, "recent": RECENTLY_ENDED}.get(kind)
            doc = {
                "ref": f"C-{k}",
                "name": f"Kund {k} AB",
                "agreements": [
                    {"ref": f"AG-{k}", "start": "2018-01-01", "end": end and end.isoformat()}
                ],
                "people": [
                    {
                        "ref": f"P-{k}",
                        "first_name": FIRST[k % len(FIRST)],
                        "last_name": LAST[k % len(LAST)],
                        "email": f"kontakt@kund{k}.example",
                        "roles": ["contact"],
                    }
                ],
            }
            f.write((",\n" if k else "") + json.dumps(doc, ensure_ascii=False))
        f.write('\n], "holds": [\n')
        holds = [k for k in range(layout.customers) if customer_kind(k).startswith("held")]
        for n, k in enumerate(holds):
            ended = customer_kind(k) == "held_ended"
            doc = {
                "ref": f"H-{k}",
                "target": f"customer:C-{k}",
                "reason": "legal" if ended else "agreement",
                "until": "2027-06-30" if ended else None,
            }
            f.write((",\n" if n else "") + json.dumps(doc))
        f.write("\n]}\n")
    tmp.replace(path)
    return path


def refs_of(kind_prefix: str, customers: int) -> list[str]:
    return [f"C-{k}" for k in range(customers) if customer_kind(k).startswith(kind_prefix)]


# -- databases ----------------------------------------------------------------------------------


def admin(pg_url: str, *statements: str) -> None:
    import psycopg

    with psycopg.connect(f"{pg_url}/postgres", autocommit=True) as conn:
        for sql in statements:
            conn.execute(sql)


def build_dataset(pg_url: str, database: str, layout: Layout) -> float:
    """The ticket system, filled with COPY and ANALYZEd; seconds taken."""
    import psycopg

    admin(pg_url, f"DROP DATABASE IF EXISTS {database} WITH (FORCE)", f"CREATE DATABASE {database}")
    start = time.perf_counter()
    with psycopg.connect(f"{pg_url}/{database}") as conn, conn.cursor() as cur:
        for statement in filter(str.strip, DDL.split(";")):
            cur.execute(statement)
        # Two passes of the generator, one per table: the rows are never all in this
        # process's memory (a child's ru_maxrss starts from its parent's size at fork).
        columns = (
            "id, customer_ref, requester_email, requester_name, title, status, created, "
            "last_activity"
        )
        with cur.copy(f"COPY tickets ({columns}) FROM STDIN") as copy:
            for row, _ in tickets(layout):
                copy.write_row(row)
        with cur.copy("COPY messages (id, ticket_id, author_email, body, sent) FROM STDIN") as copy:
            for _, messages in tickets(layout):
                for message in messages:
                    copy.write_row(message)
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")
    return time.perf_counter() - start


def fresh_dataset(pg_url: str, template: str) -> str:
    admin(
        pg_url,
        f"DROP DATABASE IF EXISTS {DATASET_DB} WITH (FORCE)",
        f"CREATE DATABASE {DATASET_DB} TEMPLATE {template}",
    )
    return f"{pg_url}/{DATASET_DB}"


def left(url: str) -> dict[str, tuple]:
    """Per table: rows, sum of keys, digest of the keys in order."""
    import psycopg

    with psycopg.connect(url) as conn:
        return {
            t: tuple(
                conn.execute(
                    f"SELECT count(*), coalesce(sum(id), 0), "  # noqa: S608 (fixed tables)
                    f"md5(coalesce(string_agg(id::text, ',' ORDER BY id), '')) FROM {t}"
                ).fetchone()
            )
            for t in ("tickets", "messages")
        }


class Gallra:
    """gallra's own database with the registry imported (the template) and fresh copies."""

    def __init__(self, backend: str, pg_url: str, policies: dict[str, Path]) -> None:
        self.backend, self.pg_url, self.policies = backend, pg_url, policies
        self.dir = Path(tempfile.mkdtemp(prefix=f"gallra-bench-datasets-{backend}-"))
        self.template, self.copy = self.dir / "template", self.dir / "copy"
        self.template.mkdir()
        from gallra.config import KEY_FILE_NAME, create_key_file

        create_key_file(self.template / KEY_FILE_NAME)

    def env(self, data: Path, policy: str = "with") -> dict:
        env = {
            **os.environ,
            "GALLRA_DATA": str(data),
            "GALLRA_POLICY": str(self.policies[policy]),
            "GALLRA_ENFORCE_ARMED": "1",
        }
        env.pop("GALLRA_DATABASE_URL", None)
        env.pop(URL_ENV, None)
        if self.backend == "postgresql":
            env["GALLRA_DATABASE_URL"] = f"{self.pg_url}/{GALLRA_DB}"
        return env

    def build(self, registry: Path) -> float:
        env = self.env(self.template)
        if self.backend == "postgresql":
            admin(
                self.pg_url,
                f"DROP DATABASE IF EXISTS {GALLRA_DB} WITH (FORCE)",
                f"DROP DATABASE IF EXISTS {GALLRA_TEMPLATE} WITH (FORCE)",
                f"CREATE DATABASE {GALLRA_DB}",
            )
        start = time.perf_counter()
        for argv in (["django", "migrate", "-v0"], ["import", str(registry)]):
            subprocess.run(
                [str(GALLRA), *argv],
                env=env,
                check=True,  # noqa: S603 (the venv's)
                stdout=subprocess.DEVNULL,
            )
        if self.backend == "postgresql":
            import psycopg

            with psycopg.connect(f"{self.pg_url}/{GALLRA_DB}", autocommit=True) as conn:
                conn.execute("ANALYZE")
            admin(self.pg_url, f"ALTER DATABASE {GALLRA_DB} RENAME TO {GALLRA_TEMPLATE}")
        return time.perf_counter() - start

    def fresh(self, policy: str = "with") -> dict:
        shutil.rmtree(self.copy, ignore_errors=True)
        shutil.copytree(self.template, self.copy)
        if self.backend == "postgresql":
            admin(
                self.pg_url,
                f"DROP DATABASE IF EXISTS {GALLRA_DB} WITH (FORCE)",
                f"CREATE DATABASE {GALLRA_DB} TEMPLATE {GALLRA_TEMPLATE}",
            )
        return self.env(self.copy, policy)

    def close(self) -> None:
        if self.backend == "postgresql":
            admin(
                self.pg_url,
                f"DROP DATABASE IF EXISTS {GALLRA_DB} WITH (FORCE)",
                f"DROP DATABASE IF EXISTS {GALLRA_TEMPLATE} WITH (FORCE)",
            )
        shutil.rmtree(self.dir, ignore_errors=True)


# -- the baseline (run in its own process) --------------------------------------------------------

DUE = (
    "(customer_ref = ANY(%(gone)s) OR (coalesce(last_activity, created) <= %(last)s "
    "AND (customer_ref IS NULL OR NOT customer_ref = ANY(%(held)s))))"
)
BASELINE = [
    f"DELETE FROM messages WHERE ticket_id IN (SELECT id FROM tickets WHERE {DUE})",  # noqa: S608
    f"DELETE FROM tickets WHERE {DUE}",  # noqa: S608
]


def baseline_worker(url: str, customers: int) -> dict:
    import psycopg

    params = {
        "gone": refs_of("gone", customers),
        "held": refs_of("held", customers),
        "last": LAST_DUE_ACTIVITY,
    }
    with psycopg.connect(url) as conn:
        start = time.perf_counter()
        deleted = []
        for sql in BASELINE:
            deleted.append(conn.execute(sql, params).rowcount)
        conn.commit()
        seconds = time.perf_counter() - start
    return {"seconds": seconds, "deleted": sum(deleted)}


# -- the benchmark ------------------------------------------------------------------------------


@dataclass
class Result:
    backend: str
    step: str
    rows: int
    due: int
    seconds: float
    rss: float
    timed_out: bool = False


def say(backend: str, step: str, rows: int, due: int, m) -> None:
    took = f"> {m.seconds:.0f} s (stopped)" if m.timed_out else f"{m.seconds:.2f} s"
    print(
        f"  {backend}: {step}, {rows:,} rows ({due:,} due): {took}, peak RSS {m.rss:.0f} MB",
        flush=True,
    )


def check_left(found: dict, layout: Layout, expected: dict | None, what: str) -> dict:
    counts = {t: v[0] for t, v in found.items()}
    if counts != layout.left():
        raise SystemExit(f"{what}: rows left {counts}, expected {layout.left()}")
    if expected is not None and found != expected:
        raise SystemExit(f"{what}: the rows left differ from the baseline's: {found} {expected}")
    return found


def enforce_argv() -> list[str]:
    return [str(GALLRA), "enforce", "--at", AT.isoformat(), "--format", "json"]


def measure_enforce(
    gallra: Gallra, args, layout: Layout, template: str, step: str, expected: dict | None
):
    env = gallra.fresh() | {URL_ENV: fresh_dataset(args.pg_url, template)}
    m = bench_enforce.run_child(enforce_argv(), env, args.timeout)
    if not m.timed_out:
        run = json.loads(m.stdout)[-1]
        part = run["datasets"]
        if (part["due"], part["deleted"], part["overwritten"], part["problems"]) != (
            layout.due,
            layout.due,
            0,
            [],
        ):
            raise SystemExit(
                f"{gallra.backend} {step}: the dataset's part of the summary: "
                f"{part}; expected {layout.due} due and deleted"
            )
        customers = sum(r["count"] for r in run["by_rule"] if r["type"] == "customer")
        if customers != len(refs_of("gone", layout.customers)):
            raise SystemExit(
                f"{gallra.backend} {step}: {customers} customers deleted in the "
                f"registry, expected {len(refs_of('gone', layout.customers))}"
            )
        expected = check_left(left(env[URL_ENV]), layout, expected, f"{gallra.backend} {step}")
    say(gallra.backend, step, layout.rows, layout.due, m)
    return Result(
        gallra.backend, step, layout.rows, layout.due, m.seconds, m.rss, m.timed_out
    ), expected


def bench_backend(backend: str, args, layout: Layout, quarter: Layout | None, policies) -> list:
    gallra = Gallra(backend, args.pg_url, policies)
    results = []
    try:
        seconds = gallra.build(registry_file(layout))
        print(
            f"  {backend}: registry of {layout.customers:,} customers imported in "
            f"{seconds:.1f} s (gallra import, not measured)",
            flush=True,
        )

        url = fresh_dataset(args.pg_url, DATASET_TEMPLATE)
        argv = [sys.executable, __file__, "--worker", url, str(layout.customers)]
        m = bench_enforce.run_child(argv, os.environ, args.timeout)
        out = json.loads(m.stdout.strip().splitlines()[-1])
        if out["deleted"] != layout.due:
            raise SystemExit(f"baseline deleted {out['deleted']:,} rows, not {layout.due:,}")
        expected = check_left(left(url), layout, None, "baseline")
        m.seconds = out["seconds"]
        say(backend, "baseline SQL", layout.rows, layout.due, m)
        base = Result(backend, "baseline", layout.rows, layout.due, m.seconds, m.rss)

        result, _ = measure_enforce(gallra, args, layout, DATASET_TEMPLATE, "enforce", expected)
        results += [result, base]

        env = gallra.fresh("without")
        m = bench_enforce.run_child(enforce_argv(), env, args.timeout)
        say(backend, "enforce, no dataset", 0, 0, m)
        results.append(Result(backend, "enforce, no dataset", 0, 0, m.seconds, m.rss, m.timed_out))

        if quarter is not None:
            result, _ = measure_enforce(
                gallra, args, quarter, QUARTER_TEMPLATE, "enforce (quarter)", None
            )
            results.append(result)

        if args.profile and backend == args.backends.split(",")[0]:
            profile(gallra, args, layout)
    finally:
        gallra.close()
    return results


def profile(gallra: Gallra, args, layout: Layout) -> None:
    env = gallra.fresh() | {URL_ENV: fresh_dataset(args.pg_url, DATASET_TEMPLATE)}
    path = OUT / f"enforce-datasets-{gallra.backend}-{layout.rows}.prof"
    argv = [sys.executable, "-m", "cProfile", "-o", str(path), *enforce_argv()]
    m = bench_enforce.run_child(argv, env, args.timeout)
    if m.timed_out:
        print(f"  {gallra.backend}: profile stopped after {m.seconds:.0f} s; no profile")
        return
    print(
        f"\nProfile of `gallra enforce` on {gallra.backend}, {layout.rows:,} rows "
        f"({m.seconds:.1f} s under cProfile; {path.relative_to(ROOT)}):"
    )
    stats = pstats.Stats(str(path))
    stats.sort_stats("tottime").print_stats(15)
    stats.sort_stats("cumulative").print_stats(30)


def report(results: list[Result]) -> None:
    print()
    print("Timings: enforce = the whole process (start-up and the registry's part included);")
    print("baseline = BEGIN ... COMMIT of the hand-written SQL only. Peak RSS per process.")
    print()
    header = (
        f"{'gallra db':<11} {'step':<20} {'rows':>10} {'due':>9} {'seconds':>9} "
        f"{'due/s':>9} {'peak RSS MB':>11}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        took = f">{r.seconds:.0f}" if r.timed_out else f"{r.seconds:.2f}"
        rate = "-" if r.timed_out or not r.due else f"{r.due / r.seconds:,.0f}"
        print(
            f"{r.backend:<11} {r.step:<20} {r.rows:>10,} {r.due:>9,} {took:>9} {rate:>9} "
            f"{r.rss:>11.1f}"
        )
    print()
    for backend in dict.fromkeys(r.backend for r in results):
        by = {r.step: r for r in results if r.backend == backend}
        enforce, base, bare = by["enforce"], by["baseline"], by["enforce, no dataset"]
        if enforce.timed_out:
            print(f"{backend}: enforce did not finish in {enforce.seconds:.0f} s; no ratio")
            continue
        ratio = enforce.seconds / base.seconds
        verdict = "within" if ratio <= 2 else "NOT within"
        print(
            f"{backend}: enforce / baseline = {enforce.seconds:.2f} / {base.seconds:.2f} s "
            f"= {ratio:.1f}x ({verdict} the 2x target)"
        )
        own = enforce.seconds - bare.seconds
        print(
            f"  the dataset's part alone (enforce - enforce without it, {bare.seconds:.2f} s): "
            f"{own:.2f} s = {own / base.seconds:.1f}x the baseline"
        )
        for r in (enforce, by.get("enforce (quarter)")):
            if r is not None and not r.timed_out:
                verdict = "under" if r.rss < 300 else "NOT under"
                print(f"  peak RSS of enforce, {r.rows:,} rows: {r.rss:.0f} MB ({verdict} 300 MB)")
        if "enforce (quarter)" in by:
            print(
                f"  full / quarter peak RSS = {enforce.rss / by['enforce (quarter)'].rss:.2f} "
                f"(flat = about 1)"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows in the dataset")
    parser.add_argument("--due", type=int, default=200_000, help="of them due on the date")
    parser.add_argument("--messages", type=int, default=3, help="messages per ticket")
    parser.add_argument(
        "--small",
        action="store_true",
        help=f"{SMALL[0]:,} rows, {SMALL[1]:,} due, no quarter: a quick look",
    )
    parser.add_argument("--backends", default="sqlite,postgresql", help="gallra's own database")
    parser.add_argument("--pg-url", default=PG_URL, help="PostgreSQL server, without database")
    parser.add_argument("--timeout", type=float, default=900, help="seconds per step at most")
    parser.add_argument("--skip-quarter", action="store_true", help="no run on a quarter")
    parser.add_argument("--profile", action="store_true", help="cProfile enforce once more")
    parser.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker:
        url, customers = args.worker
        print(json.dumps(baseline_worker(url, int(customers))))
        return
    if args.small:
        args.rows, args.due, args.skip_quarter = *SMALL, True
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    if set(backends) - {"sqlite", "postgresql"} or not backends:
        parser.error("--backends: sqlite and/or postgresql")
    args.backends = ",".join(backends)
    sys.path.insert(0, str(ROOT / "src"))  # gallra.config, when not run from the venv
    from gallra.config import DEFAULT_POLICY

    customers = max(20, args.rows // CUSTOMERS_PER_ROW)
    layout = Layout.of(args.rows, args.due, args.messages, customers)
    quarter = None
    if not args.skip_quarter:
        per = 1 + args.messages
        quarter = Layout.of(
            args.rows // 4 // per * per, args.due // 4 // per * per, args.messages, customers
        )
    OUT.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="gallra-bench-datasets-"))
    policies = {"with": work / "policy.toml", "without": work / "policy-without.toml"}
    text = DEFAULT_POLICY.read_text(encoding="utf-8")
    policies["with"].write_text(text + DATASET, encoding="utf-8")
    policies["without"].write_text(text, encoding="utf-8")

    print(
        f"Dataset: {layout.rows:,} rows ({layout.tickets:,} tickets, {layout.messages} "
        f"messages each), {layout.due:,} due on {AT} ({layout.due_tickets:,} tickets, "
        f"{layout.gone:,} of them of customers whose agreement ended over a year ago); "
        f"registry: {layout.customers:,} customers"
    )
    try:
        start = time.perf_counter()
        build_dataset(args.pg_url, DATASET_TEMPLATE, layout)
        if quarter is not None:
            build_dataset(args.pg_url, QUARTER_TEMPLATE, quarter)
        print(
            f"  PostgreSQL {DATASET_TEMPLATE} written in {time.perf_counter() - start:.1f} s "
            f"(COPY, not measured)",
            flush=True,
        )
        results = []
        for backend in backends:
            print(f"Running with gallra on {backend} ...", flush=True)
            results += bench_backend(backend, args, layout, quarter, policies)
        report(results)
    finally:
        databases = (DATASET_DB, DATASET_TEMPLATE, QUARTER_TEMPLATE)
        admin(args.pg_url, *(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)" for db in databases))
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
