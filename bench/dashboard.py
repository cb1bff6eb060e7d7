"""Benchmark the admin's front page (the dashboard) on a large registry, on PostgreSQL.

Run from the project root:

    .venv/bin/python bench/dashboard.py     # 10,000 and 100,000 customers (1,000,000 records)
    .venv/bin/python bench/dashboard.py --customers 10000 --explain --profile

For each size of --customers, two databases on postgresql://postgres@127.0.0.1:5432 (override
with --pg-url), made afresh by `gallra migrate` and dropped once measured:
`gallra_bench_dashboard_N` with N customers and one with 100 times fewer (at least 100), the
baseline measured in the same run. Each is filled with INSERT ... SELECT generate_series (no
rows pass through Python), dates counted from today so that deletions fall in the next 30
days as they would in a registry enforced daily:

* per 100 customers: 10 whose last agreement ended in the past year (the customer-data rule
  deletes them in the coming year, about a twelfth in the next 30 days), 10 renewed (an old
  agreement ended, a new one runs), 1 ended more than a year ago but under a legal hold, the
  rest active; 110 agreements, 250 people (the first of each customer its contact and billing
  contact, the others users), 150 accounts (one in twenty closed in the past year), 150
  requests, 30 technical documents, 40 credentials, 100 invoices (financial years 2019 to
  2025, none due yet), 5 prospects with a quote each, about 1.5 holds (a third of them ending
  in the next 60 days); the rest of the 10 records per customer is correspondence received in
  the past 91 days (the three-month rule deletes about a third of it in the next 30 days),
  plus held older mail;
* around the registry: 2 data-subject requests per 100 customers (the last 30 open, a third
  of those overdue), 5 manual tasks per 100 customers over 10 technicians (3% outstanding),
  3 login alerts per 100 customers (20 not acknowledged), a year of enforcement runs and
  backups, and 3 evidence entries per customer with a `gallra check` and an `evidence verify`
  entry each day;
* a staff superuser, and the 10 technicians, each with an e-mail address (a task whose
  assignee has none reaches no one, and the front page would show it in red).

No deletion forecast is stored (as on a fresh install before the first `enforce`), so the
first render counts it and stores it (dashboard/forecast.py); the next renders read it.

Then a child process per database (Django's test Client, force_login) renders /admin/ once
to warm up and --renders times more, timed one by one; it prints the median and p95 and the
SQL queries per page, which must be the same on both registries; and, apart, the median of
three renders that count the forecast again (as after an import or a hold changed during the
day: the cost that `enforce` otherwise pays once a day). --explain prints the slowest queries
of one render with EXPLAIN ANALYZE; --profile the top functions by cProfile.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
GALLRA = VENV_BIN / "gallra"
PG_URL = "postgresql://postgres@127.0.0.1:5432"
DATABASE = "gallra_bench_dashboard_{n}"
TECHNICIANS = 10
TARGET_MS = 150

REGISTRY = (
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

# Every statement gets %(n)s (customers), %(today)s and %(mail)s (correspondence rows).
# s = i % 100 is a customer's state: < 10 ended this year, 10-19 renewed, 20 held, else active.
FILL = [
    """INSERT INTO auth_user (id, password, last_login, is_superuser, username, first_name,
       last_name, email, is_staff, is_active, date_joined)
       SELECT u, '!', NULL, u = 1, CASE WHEN u = 1 THEN 'admin' ELSE 'tekniker' || u END,
       '', '', 'staff' || u || '@example.com', true, true, now()
       FROM generate_series(1, 1 + %(techs)s) u""",
    """INSERT INTO registry_customer (id, ref, created_at, updated_at, kind, name, org_number)
       SELECT i, 'C-' || i, now(), now(),
       CASE WHEN i %% 5 = 0 THEN 'private' ELSE 'company' END, 'Kund ' || i || ' AB', ''
       FROM generate_series(1, %(n)s) i""",
    """INSERT INTO registry_agreement (id, ref, created_at, updated_at, start, "end", customer_id)
       SELECT i, 'AG-' || i, now(), now(), date '2015-01-01' + i %% 1500,
       CASE WHEN i %% 100 < 10 THEN %(today)s - 1 - (i * 37) %% 365
            WHEN i %% 100 < 20 THEN date '2020-01-01' + i %% 1000
            WHEN i %% 100 = 20 THEN %(today)s - 400 - i %% 300 END, i
       FROM generate_series(1, %(n)s) i""",
    """INSERT INTO registry_agreement (id, ref, created_at, updated_at, start, "end", customer_id)
       SELECT %(n)s + i, 'AG-' || i || '-2', now(), now(), date '2023-06-01', NULL, i
       FROM generate_series(1, %(n)s) i WHERE i %% 100 BETWEEN 10 AND 19""",
    # People: p = 3 (i - 1) + j + 1 for customer i; the third (j = 2) only for even customers.
    """INSERT INTO registry_person (id, ref, created_at, updated_at, first_name, last_name,
       email, postal_address, mobile, is_user, is_contact, is_billing_contact, customer_id)
       SELECT p, 'P-' || p, now(), now(), 'Anna', 'Berg', 'p' || p || '@kund.example', '', '',
       (p - 1) %% 3 > 0, (p - 1) %% 3 = 0, (p - 1) %% 3 = 0, (p - 1) / 3 + 1
       FROM generate_series(1, 3 * %(n)s) p
       WHERE NOT ((p - 1) %% 3 = 2 AND ((p - 1) / 3 + 1) %% 2 = 1)""",
    """INSERT INTO registry_account (id, ref, created_at, updated_at, username, home, uid,
       opened, closed, person_id)
       SELECT p.id, 'A-' || p.id, now(), now(), 'u' || p.id, '/home/u' || p.id, NULL,
       date '2016-01-01',
       CASE WHEN a."end" IS NOT NULL AND a.customer_id %% 100 < 10 THEN a."end"
            WHEN p.id %% 20 = 0 THEN %(today)s - 1 - (p.id::int * 13) %% 365 END, p.id
       FROM registry_person p JOIN registry_agreement a ON a.id = p.customer_id
       WHERE p.is_user""",
    """INSERT INTO registry_customerrequest (id, ref, created_at, updated_at, kind, created,
       text, customer_id)
       SELECT r, 'R-' || r, now(), now(), 'order', date '2016-01-01' + r %% 3000,
       'Beställning', (r - 1) %% %(n)s + 1 FROM generate_series(1, 3 * %(n)s / 2) r""",
    """INSERT INTO registry_technicaldocument (id, ref, created_at, updated_at, title, created,
       content, customer_id)
       SELECT d, 'D-' || d, now(), now(), 'Driftdokumentation', date '2017-01-01' + d %% 2500,
       '\\x00'::bytea, (d * 3) %% %(n)s + 1 FROM generate_series(1, 3 * %(n)s / 10) d""",
    """INSERT INTO registry_credential (id, ref, created_at, updated_at, system, username,
       secret, created, account_id, customer_id)
       SELECT k, 'K-' || k, now(), now(), 'SFTP', 'x', '\\x00'::bytea,
       date '2017-01-01' + k %% 2500, NULL, (k * 7) %% %(n)s + 1
       FROM generate_series(1, 4 * %(n)s / 10) k""",
    """INSERT INTO registry_invoice (id, ref, created_at, updated_at, number, issued,
       fiscal_year_end, amount, currency, buyer_name, buyer_address, customer_id,
       billing_contact_id, customer_ref)
       SELECT i, 'F-' || i, now(), now(), lpad(i::text, 8, '0'),
       make_date(2019 + i %% 7, 3, 1), make_date(2019 + i %% 7, 12, 31), 1250.00, 'SEK',
       'Kund ' || i || ' AB', '', i, 3 * (i - 1) + 1, 'C-' || i
       FROM generate_series(1, %(n)s) i""",
    """INSERT INTO registry_prospect (id, ref, created_at, updated_at, name, email, created,
       last_activity)
       SELECT k, 'S-' || k, now(), now(), 'Prospekt', '', %(today)s - k %% 91, NULL
       FROM generate_series(1, %(n)s / 20) k""",
    """INSERT INTO registry_quote (id, ref, created_at, updated_at, created, last_activity,
       description, customer_id, prospect_id)
       SELECT k, 'Q-' || k, now(), now(), %(today)s - k %% 91, NULL, '', NULL, k
       FROM generate_series(1, %(n)s / 20) k""",
    # Mail: received in the past 91 days; every 200th is older and held (below).
    """INSERT INTO registry_correspondence (id, ref, created_at, updated_at, received,
       last_activity, sender, subject, customer_id, prospect_id)
       SELECT m, 'M-' || m, now(), now(),
       CASE WHEN m %% 200 = 0 THEN %(today)s - 100 - m %% 200 ELSE %(today)s - (m * 7) %% 91 END,
       NULL, 'kund@example.com', 'Fråga', CASE WHEN m %% 2 = 0 THEN m %% %(n)s + 1 END, NULL
       FROM generate_series(1, %(mail)s) m""",
    # Holds: the legally held customers (no end), the held mail (ending in the next 60 days
    # for a third, later for the rest).
    """INSERT INTO registry_hold (id, ref, created_at, updated_at, target_type, target_ref,
       reason, note, until)
       SELECT i, 'H-C-' || i, now(), now(), 'customer', 'C-' || i, 'legal', '', NULL
       FROM generate_series(1, %(n)s) i WHERE i %% 100 = 20""",
    """INSERT INTO registry_hold (id, ref, created_at, updated_at, target_type, target_ref,
       reason, note, until)
       SELECT %(n)s + m, 'H-M-' || m, now(), now(), 'correspondence', 'M-' || m, 'agreement',
       '', %(today)s + CASE WHEN m %% 3 = 0 THEN m %% 60 ELSE 60 + m %% 300 END
       FROM generate_series(1, %(mail)s) m WHERE m %% 200 = 0""",
    """INSERT INTO subjects_subjectrequest (id, ref, kind, email, name, username, personnummer,
       received, due, extension_months, extension_reason, extension_told_on, status,
       verified_at, verified_how, verified_by, change_field, change_value, category, note,
       closed_at, answer)
       SELECT r, 'DSR-' || r, 'access', 'r' || r || '@example.com', '', '', '',
       %(today)s - (t - r) - 10, %(today)s - (t - r) + 20, 0, '', NULL,
       CASE WHEN t - r < 30 THEN 'received' ELSE 'done' END, NULL, '', '', '', '', '', '',
       CASE WHEN t - r < 30 THEN NULL ELSE now() END, '{}'::jsonb
       FROM (SELECT r, 2 * %(n)s / 100 AS t FROM generate_series(1, 2 * %(n)s / 100) r) x""",
    """INSERT INTO retention_manualtask (id, rule, customer_ref, assignee_id, what, created,
       due, done_at, reminded)
       SELECT k, 'phone-contacts', 'C-' || k, 2 + k %% %(techs)s, 'Radera kontakter', now(),
       %(today)s - 30 + k %% 60, CASE WHEN k %% 33 = 0 THEN NULL ELSE now() END, NULL
       FROM generate_series(1, 5 * %(n)s / 100) k""",
    """INSERT INTO logins_loginalert (id, kind, key, first_at, last_at, events, detail,
       notified, acknowledged, acknowledged_by)
       SELECT k, 'brute_force', '198.51.100.0/24', now() - k * interval '1 hour',
       now() - k * interval '1 hour' + interval '5 minutes', 6, '', now(),
       CASE WHEN k <= 20 THEN NULL ELSE now() END, CASE WHEN k <= 20 THEN '' ELSE 'vd' END
       FROM generate_series(1, 3 * %(n)s / 100) k""",
    """INSERT INTO retention_enforcementrun (id, at, started, finished, actor, due)
       SELECT d, %(today)s - 365 + d, now() - (365 - d) * interval '1 day',
       now() - (365 - d) * interval '1 day' + interval '2 minutes', 'enforce', 100
       FROM generate_series(1, 365) d""",
    """INSERT INTO backups_backuprun (id, kind, started, finished, ok, snapshot, summary,
       forgotten, problem)
       SELECT d, CASE WHEN d %% 2 = 0 THEN 'backup' ELSE 'verify' END,
       now() - (730 - d) * interval '12 hours', now() - (730 - d) * interval '12 hours',
       true, '', '{}'::jsonb, '[]'::jsonb, '' FROM generate_series(1, 730) d""",
    # Evidence: deletions and others, with the daily checks among them (not the last entries).
    """INSERT INTO evidence_entry (seq, at, actor, action, rule, record_type, count, refs,
       customers, data, prev_hash, hash)
       SELECT s, now() - (3 * %(n)s - s) * interval '1 second',
       'enforce', CASE WHEN s %% 1000 = 500 THEN 'residency_checked'
                       WHEN s %% 1000 = 501 THEN 'evidence_verified' ELSE 'delete' END,
       '', '', 1, '[]'::jsonb, '',
       CASE WHEN s %% 1000 = 500 THEN '{"failed": []}'
            WHEN s %% 1000 = 501 THEN '{"ok": true, "bad_seq": null, "problem": ""}'
            ELSE '{}' END::jsonb, repeat('0', 64), repeat('0', 64)
       FROM generate_series(1, 3 * %(n)s) s""",
    """INSERT INTO evidence_chainhead (id, seq, hash) SELECT 1, 3 * %(n)s, repeat('0', 64)""",
]
SEQUENCES = (
    "auth_user",
    *REGISTRY,
    "subjects_subjectrequest",
    "retention_manualtask",
    "logins_loginalert",
    "retention_enforcementrun",
    "backups_backuprun",
)


def admin(pg_url: str, *statements: str) -> None:
    import psycopg

    with psycopg.connect(f"{pg_url}/postgres", autocommit=True) as conn:
        for sql in statements:
            conn.execute(sql)


def env_for(pg_url: str, db: str) -> dict:
    return {
        **os.environ,
        "GALLRA_DATABASE_URL": f"{pg_url}/{db}",
        "GALLRA_ALLOWED_HOSTS": "testserver",
        "DJANGO_SETTINGS_MODULE": "gallra.settings",
    }


def mail_rows(n: int) -> int:
    """Correspondence that makes the registry 10 records per customer."""
    fixed = {
        "customers": 100,
        "agreements": 110,
        "people": 250,
        "accounts": 150,
        "requests": 150,
        "documents": 30,
        "credentials": 40,
        "invoices": 100,
        "prospects": 5,
        "quotes": 5,
        "customer holds": 1,
    }
    rest = 10 * n - sum(fixed.values()) * n // 100
    mail = rest * 200 // 201
    while mail + mail // 200 < rest:  # every 200th message has a hold, a record too
        mail += 1
    return mail


def build(pg_url: str, db: str, n: int, today: date) -> tuple[float, dict[str, int]]:
    import psycopg

    admin(pg_url, f"DROP DATABASE IF EXISTS {db} WITH (FORCE)", f"CREATE DATABASE {db}")
    subprocess.run([str(GALLRA), "django", "migrate", "-v0"], env=env_for(pg_url, db), check=True)
    params = {"n": n, "today": today, "mail": mail_rows(n), "techs": TECHNICIANS}
    start = time.perf_counter()
    # Client-side binding: the values are written into each statement, so that generate_series
    # counts in integers and `date - integer` is the date arithmetic it reads as.
    with psycopg.connect(f"{pg_url}/{db}", cursor_factory=psycopg.ClientCursor) as conn:
        for sql in FILL:
            conn.execute(sql, params)
        for table in SEQUENCES:
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            )
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")
        counts = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in REGISTRY}
    return time.perf_counter() - start, counts


# -- the child process: render the page ----------------------------------------------------------


def worker(renders: int, explain: bool, profile: bool) -> dict:
    import django

    sys.path.insert(0, str(ROOT / "src"))
    django.setup()
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.force_login(User.objects.get(username="admin"))

    def render() -> str:
        response = client.get("/admin/", HTTP_ACCEPT_LANGUAGE="sv")
        if response.status_code != 200:
            raise SystemExit(f"/admin/ answered {response.status_code}")
        return response.content.decode()

    start = time.perf_counter()
    html = render()  # the first: templates, policy and the timeline's SQL compiled, then kept
    first = (time.perf_counter() - start) * 1000
    times, cpu = [], []
    for _ in range(renders):
        start, start_cpu = time.perf_counter(), time.process_time()
        render()
        times.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    from gallra.dashboard.models import Forecast

    recount = []
    for _ in range(3):  # the registry changed during the day: the first view counts again
        Forecast.objects.update(state="")
        start = time.perf_counter()
        render()
        recount.append((time.perf_counter() - start) * 1000)
    sql_ms = []
    for _ in range(5):  # apart from the timed renders: capturing costs a little
        with CaptureQueriesContext(connection) as queries:
            render()
        sql_ms.append(sum(float(q["time"]) for q in queries.captured_queries) * 1000)
    out = {
        "first": first,
        "times": times,
        "recount": statistics.median(recount),
        "cpu": statistics.median(cpu),
        "load": os.getloadavg()[0],
        "queries": len(queries),
        "query_ms": statistics.median(sql_ms),
        "segments": html.count('class="dashboard-segment"'),
    }
    slowest = sorted(queries.captured_queries, key=lambda q: -float(q["time"]))[:3]
    out["slowest"] = [{"ms": float(q["time"]) * 1000, "sql": q["sql"]} for q in slowest]
    if explain:  # with the settings the page runs them under (timeline.quick_queries)
        from django.db import transaction

        from gallra.dashboard.timeline import quick_queries

        with transaction.atomic(), quick_queries(), connection.cursor() as cursor:
            for q in out["slowest"]:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + q["sql"])
                q["plan"] = "\n".join(row[0] for row in cursor.fetchall())
    if profile:
        import cProfile
        import io
        import pstats

        profiler = cProfile.Profile()
        profiler.enable()
        render()
        profiler.disable()
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(25)
        out["profile"] = text.getvalue()
    return out


def run_worker(pg_url: str, db: str, args) -> dict:
    argv = [sys.executable, __file__, "--worker", "--renders", str(args.renders)]
    argv += ["--explain"] * args.explain + ["--profile"] * args.profile
    done = subprocess.run(argv, env=env_for(pg_url, db), check=True, capture_output=True, text=True)
    return json.loads(done.stdout.splitlines()[-1])


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--customers",
        type=int,
        nargs="+",
        default=[10_000, 100_000],
        help="sizes to measure, 10 records per customer (each with its 100 times smaller baseline)",
    )
    parser.add_argument("--renders", type=int, default=20, help="timed renders per registry")
    parser.add_argument("--pg-url", default=PG_URL, help="PostgreSQL server, without database")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN the slowest queries")
    parser.add_argument("--profile", action="store_true", help="cProfile one render")
    parser.add_argument("--keep", action="store_true", help="do not drop the databases")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.renders, args.explain, args.profile)))
        return

    today = date.today()
    pairs = [(n, max(n // 100, 100)) for n in args.customers]
    results: dict[int, tuple[int, dict]] = {}  # customers -> (records, the worker's figures)
    for n in sorted({n for pair in pairs for n in pair}):
        db = DATABASE.format(n=n)
        try:
            print(f"Building {db}: {n:,} customers ...", flush=True)
            seconds, counts = build(args.pg_url, db, n, today)
            total = sum(counts.values())
            tables = ", ".join(f"{t.removeprefix('registry_')} {c:,}" for t, c in counts.items())
            print(f"  {total:,} registry records in {seconds:.1f} s ({tables})", flush=True)
            results[n] = (total, run_worker(args.pg_url, db, args))
        finally:
            if not args.keep:
                admin(args.pg_url, f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
    for large, small in pairs:
        report(large, small, results, args)


def report(large_n: int, small_n: int, results: dict, args) -> None:
    print(
        f"\n/admin/ rendered {args.renders} times per registry (after one warm-up), "
        "Django test Client, PostgreSQL"
    )
    print(
        f"{'registry':<30} {'records':>10} {'median ms':>10} {'p95 ms':>8} {'first ms':>9} "
        f"{'recount ms':>10} {'queries':>8} {'SQL ms':>7} {'CPU ms':>7} {'bars':>5}"
    )
    for n in (large_n, small_n):
        total, r = results[n]
        print(
            f"{DATABASE.format(n=n):<30} {total:>10,} {statistics.median(r['times']):>10.1f} "
            f"{p95(r['times']):>8.1f} {r['first']:>9.1f} {r['recount']:>10.1f} "
            f"{r['queries']:>8} {r['query_ms']:>7.1f} {r['cpu']:>7.1f} {r['segments']:>5}"
        )
    print(
        "first: the first render in the process (it counts the deletion forecast and stores it, "
        "as on a fresh\ninstall); recount: a render that counts it again (the registry changed "
        "during the day), median of 3;\nSQL ms: the database's time in one page (median of 5 "
        "more), as Django measures it;\nCPU ms: the rendering process's own CPU time per page "
        "(median; the database's is not in it), which\nother work on the machine does not "
        "inflate as it does the others; bars: segments in the chart"
    )
    loads = " and ".join(f"{results[n][1]['load']:.1f}" for n in (large_n, small_n))
    print(f"load average (1 min) as each was measured: {loads}, on {os.cpu_count()} CPUs")
    (_, large), (_, small) = results[large_n], results[small_n]
    same = "equal" if large["queries"] == small["queries"] else "NOT EQUAL"
    median = statistics.median(large["times"])
    verdict = "under" if median < TARGET_MS else "NOT under"
    print(f"queries per page: {large['queries']} and {small['queries']} ({same})")
    print(
        f"median at {large_n:,} customers: {median:.1f} ms ({verdict} the {TARGET_MS} ms "
        f"target); at {small_n:,}: {statistics.median(small['times']):.1f} ms"
    )
    for n in (large_n, small_n):
        r = results[n][1]
        db = DATABASE.format(n=n)
        if args.explain or args.profile:
            print(f"\n== {db}: slowest queries")
            for q in r["slowest"]:
                print(f"-- {q['ms']:.1f} ms: {q['sql'][:300]}")
                if "plan" in q:
                    print(q["plan"])
        if args.profile:
            print(f"\n== {db}: cProfile of one render\n{r['profile']}")


if __name__ == "__main__":
    main()
