"""Baseline: DSR access/erasure latency of Fides (PyPI `ethyca-fides`) against PostgreSQL.

Usage (any python; re-executes itself with the Fides venv's python):
    bash bench/fides_setup.sh      # once: Fides' venv in the benchmarks' cache folder
    .venv/bin/python bench/fides_baseline.py \
        --dsn postgresql://postgres@127.0.0.1:5432/shop -n 20 [--emails a@x,b@y | --emails-file F]

The venv is ${TMPDIR:-/tmp}/gallra-bench-fides/fides-venv unless FIDES_PYTHON names another
python. Without it the baseline is skipped: the script says so and how to set it up, and
exits 0 with nothing on stdout.

The database behind --dsn must already hold customers/orders/order_lines/invoices.
Without --emails the first N customer e-mails are used (each is accessed, then erased).
Fides runs as one local uvicorn process (127.0.0.1:--port) with Celery in eager mode
(tasks run inside the webserver), its own app database `fides_app` on the same PostgreSQL
server (created if missing) and Redis db 7. Nothing leaves loopback; analytics are off.
Prints JSON {"access_ms": [...], "erasure_ms": [...], "fides_version": ...} on stdout.
Erasure masks customers.name/phone (null), customers.email (rewrite), orders.delivery_*,
order_lines.gift_message; invoices are read-only for Fides (accessed, never masked).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from urllib.parse import urlparse

# The benchmarks' cache folder (as bench/scan.py's Presidio venv): bench/fides_setup.sh makes it.
FIDES_VENV = os.path.join(tempfile.gettempdir(), "gallra-bench-fides", "fides-venv")
SETUP = "bash bench/fides_setup.sh"


def fides_python() -> str:
    """The python of the Fides venv: FIDES_PYTHON, or the one bench/fides_setup.sh makes."""
    return os.environ.get("FIDES_PYTHON") or os.path.join(FIDES_VENV, "bin", "python")


def skipped(why: str) -> None:
    """No Fides to measure: say why and how to set it up, on stderr; exit 0, nothing on stdout."""
    print(
        f"Fides baseline skipped: {why}.\nSet it up with `{SETUP}` (PyPI ethyca-fides, a few "
        f"minutes; venv in {FIDES_VENV}), or point FIDES_PYTHON at a python that has it.",
        file=sys.stderr,
    )
    sys.exit(0)


try:  # re-exec under the Fides venv if this python lacks fides
    import fides
    import psycopg2
    import redis
    import requests
except ImportError as missing:
    if os.environ.get("_FIDES_BASELINE_REEXEC"):  # already re-executed once
        skipped(f"{sys.executable} lacks {missing.name}")
    if any(a in ("-h", "--help") for a in sys.argv[1:]) and not os.path.exists(fides_python()):
        print(__doc__)
        sys.exit(0)
    py = fides_python()
    if not os.path.exists(py):
        skipped(f"no Fides venv ({py} is missing)")
    os.environ["_FIDES_BASELINE_REEXEC"] = "1"
    os.execv(py, [py, *sys.argv])  # noqa: S606 (same argv, the Fides venv python)

CLIENT_ID, CLIENT_SECRET = "fidesbench", "fidesbench-secret"
CONN, DATASET, STORE = "bench_pg", "bench_shop", "bench_json"
ACCESS, ERASURE = "bench_access", "bench_erasure"
DONE = {"complete", "error", "canceled", "denied", "duplicate", "requires_input"}


def field(name, cats, **meta):
    f = {"name": name, "data_categories": cats}
    if meta:
        f["fides_meta"] = meta
    return f


def ref(collection):
    return {"references": [{"dataset": DATASET, "field": f"{collection}.id", "direction": "from"}]}


SYS = ["system.operations"]
DATASET_DEF = {
    "fides_key": DATASET,
    "name": "benchmark shop",
    "collections": [
        {
            "name": "customers",
            "fields": [
                field("id", SYS, primary_key=True),
                field("email", ["user.contact.email"], identity="email", data_type="string"),
                field("name", ["user.name"]),
                field("phone", ["user.contact.phone_number"]),
            ],
        },
        {
            "name": "orders",
            "fields": [
                field("id", SYS, primary_key=True),
                field("customer_id", SYS, **ref("customers")),
                field("delivery_name", ["user.name"]),
                field("delivery_address", ["user.contact.address"]),
                field("created", SYS),
            ],
        },
        {
            "name": "order_lines",
            "fields": [
                field("id", SYS, primary_key=True),
                field("order_id", SYS, **ref("orders")),
                field("gift_message", ["user.content"]),
            ],
        },
        {  # bookkeeping: only categories no erasure rule targets, so read but never masked
            "name": "invoices",
            "fields": [
                field("id", SYS, primary_key=True),
                field("buyer_email", ["user.financial"], identity="email", data_type="string"),
                field("buyer_name", ["user.financial"]),
                field("fiscal_year_end", SYS),
            ],
        },
    ],
}
# Erasure rules: (rule key, masking strategy, targeted data categories).
ERASURE_RULES = [
    (
        "null_fields",
        {"strategy": "null_rewrite", "configuration": {}},
        ["user.name", "user.contact.phone_number", "user.contact.address", "user.content"],
    ),
    (
        "rewrite_email",
        {"strategy": "string_rewrite", "configuration": {"rewrite_value": "erased@invalid"}},
        ["user.contact.email"],
    ),
]


def fides_env(pg, app_db, redis_db):
    env = dict(os.environ)
    env.update(
        FIDES__DATABASE__SERVER=pg.hostname or "127.0.0.1",
        FIDES__DATABASE__PORT=str(pg.port or 5432),
        FIDES__DATABASE__USER=pg.username or "postgres",
        FIDES__DATABASE__PASSWORD=pg.password or "unused",
        FIDES__DATABASE__DB=app_db,
        FIDES__REDIS__HOST="127.0.0.1",
        FIDES__REDIS__PASSWORD="",  # local Redis has no AUTH (Fides default: testpassword)
        FIDES__REDIS__DB_INDEX=str(redis_db),
        FIDES__SECURITY__APP_ENCRYPTION_KEY="0123456789abcdef0123456789abcdef",
        FIDES__SECURITY__OAUTH_ROOT_CLIENT_ID=CLIENT_ID,
        FIDES__SECURITY__OAUTH_ROOT_CLIENT_SECRET=CLIENT_SECRET,
        FIDES__USER__ANALYTICS_OPT_OUT="true",  # no fideslog phone-home
        FIDES__CELERY__TASK_ALWAYS_EAGER="true",  # DSR tasks run in the webserver process
        FIDES__LOGGING__LEVEL="WARNING",
        # belt and braces: any stray outbound HTTP goes to a dead loopback port
        HTTP_PROXY="http://127.0.0.1:9",
        HTTPS_PROXY="http://127.0.0.1:9",
        http_proxy="http://127.0.0.1:9",
        https_proxy="http://127.0.0.1:9",
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
    )
    return env


def start_fides(args, pg, workdir):
    """(Re)create Fides' app database unless --keep-app-db, start uvicorn, wait for /health."""
    conn = psycopg2.connect(args.dsn)
    conn.autocommit = True
    with conn.cursor() as cur:
        if not args.keep_app_db:  # fresh app db + cache: no history from earlier runs
            cur.execute(f'DROP DATABASE IF EXISTS "{args.app_db}"')
            redis.Redis(host="127.0.0.1", db=args.redis_db).flushdb()
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (args.app_db,))
        if not cur.fetchone():
            cur.execute(f'CREATE DATABASE "{args.app_db}"')
    conn.close()
    log = os.path.join(workdir, "fides-server.log")
    cmd = [sys.executable, "-m", "uvicorn", "fides.api.main:app"]
    cmd += ["--host", "127.0.0.1", "--port", str(args.port), "--log-level", "warning"]
    env = fides_env(pg, args.app_db, args.redis_db)
    with open(log, "w") as out:  # the child keeps its own copy of the descriptor
        proc = subprocess.Popen(cmd, cwd=workdir, env=env, stdout=out, stderr=out)  # noqa: S603
    deadline = time.monotonic() + 180  # first start runs all alembic migrations (~10 s)
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"fides exited early, see {log}")
        try:
            if requests.get(f"{args.url}/health", timeout=2).ok:
                return proc
        except requests.ConnectionError:
            pass
        time.sleep(0.5)
    proc.kill()
    sys.exit(f"fides did not come up, see {log}")


def targets(categories):
    return [{"data_category": c, "name": c, "key": c.replace(".", "_")} for c in categories]


def configure(s, url, pg):
    """Idempotently create connection, dataset and the two policies."""

    def call(method, path, body):
        r = s.request(method, f"{url}/api/v1{path}", json=body, timeout=60)
        if not r.ok or (isinstance(r.json(), dict) and r.json().get("failed")):
            sys.exit(f"{method} {path} -> {r.status_code}: {r.text[:800]}")
        return r.json()

    conn = {"key": CONN, "name": CONN, "connection_type": "postgres", "access": "write"}
    call("PATCH", "/connection", [conn])
    secrets = {
        "host": pg.hostname or "127.0.0.1",
        "port": pg.port or 5432,
        "dbname": pg.path.lstrip("/"),
        "username": pg.username or "postgres",
        "password": pg.password or "",
    }
    call("PUT", f"/connection/{CONN}/secret?verify=false", secrets)
    call("PATCH", f"/connection/{CONN}/dataset", [DATASET_DEF])
    # access results: plain JSON files under <workdir>/fides_uploads (default would be HTML)
    store = {
        "name": STORE,
        "key": STORE,
        "type": "local",
        "format": "json",
        "details": {"naming": "request_id"},
    }
    call("PATCH", "/storage/config", [store])
    call(
        "PATCH", "/dsr/policy", [{"name": ACCESS, "key": ACCESS}, {"name": ERASURE, "key": ERASURE}]
    )
    rule = {"name": "all", "key": "all", "action_type": "access", "storage_destination_key": STORE}
    call("PATCH", f"/dsr/policy/{ACCESS}/rule", [rule])
    call("PATCH", f"/dsr/policy/{ACCESS}/rule/all/target", targets(["user", "system"]))
    for key, masking, cats in ERASURE_RULES:
        rule = {"name": key, "key": key, "action_type": "erasure", "masking_strategy": masking}
        call("PATCH", f"/dsr/policy/{ERASURE}/rule", [rule])
        call("PATCH", f"/dsr/policy/{ERASURE}/rule/{key}/target", targets(cats))


def run_request(s, url, policy, email, poll):
    """Submit one privacy request; return ms until Fides reports it complete."""
    t0 = time.perf_counter()
    body = [{"identity": {"email": email}, "policy_key": policy}]
    r = s.post(f"{url}/api/v1/privacy-request", json=body, timeout=600)
    r.raise_for_status()
    res = r.json()
    if res["failed"]:
        sys.exit(f"request rejected: {res['failed']}")
    rid = res["succeeded"][0]["id"]
    while True:
        st = s.get(f"{url}/api/v1/privacy-request", params={"request_id": rid}, timeout=60)
        status = st.json()["items"][0]["status"]
        if status in DONE:
            break
        time.sleep(poll)
    ms = (time.perf_counter() - t0) * 1000
    if status != "complete":
        sys.exit(f"{policy} request {rid} for {email} ended as {status}")
    return ms


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dsn", required=True, help="postgresql://user[:pw]@host:port/db")
    ap.add_argument("-n", type=int, default=20, help="requests of each kind")
    ap.add_argument("--emails", help="comma-separated subject e-mails")
    ap.add_argument("--emails-file", help="file with one subject e-mail per line")
    ap.add_argument("--port", type=int, default=8089)
    ap.add_argument("--url", help="use an already running Fides instead of starting one")
    ap.add_argument("--app-db", default="fides_app", help="Fides' own application database")
    ap.add_argument("--keep-app-db", action="store_true", help="don't reset it on start")
    ap.add_argument("--redis-db", type=int, default=7, help="Redis db that Fides may flush")
    ap.add_argument("--poll", type=float, default=0.01, help="status poll interval, s")
    ap.add_argument(
        "--workdir", default=os.path.join(tempfile.gettempdir(), "gallra-bench-fides", "work")
    )
    args = ap.parse_args()
    pg = urlparse(args.dsn)
    if args.emails_file:
        with open(args.emails_file) as f:
            emails = [ln.strip() for ln in f if ln.strip()]
    elif args.emails:
        emails = args.emails.split(",")
    else:
        with psycopg2.connect(args.dsn) as c, c.cursor() as cur:
            cur.execute("SELECT email FROM customers ORDER BY id LIMIT %s", (args.n,))
            emails = [e for (e,) in cur.fetchall()]
    emails = emails[: args.n]

    os.makedirs(args.workdir, exist_ok=True)
    proc = None
    if not args.url:
        args.url = f"http://127.0.0.1:{args.port}"
        proc = start_fides(args, pg, args.workdir)
    try:
        s = requests.Session()
        s.trust_env = False  # talk to loopback directly, ignore the dead proxy
        tok = s.post(
            f"{args.url}/api/v1/oauth/token",
            data={"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET},
        )
        tok.raise_for_status()
        s.headers["Authorization"] = f"Bearer {tok.json()['access_token']}"
        configure(s, args.url, pg)
        run_request(s, args.url, ACCESS, emails[0], args.poll)  # warm-up, not counted
        access = [run_request(s, args.url, ACCESS, e, args.poll) for e in emails]
        erasure = [run_request(s, args.url, ERASURE, e, args.poll) for e in emails]
    finally:
        if proc:
            proc.terminate()
            proc.wait(30)
    out = {"access_ms": [round(x, 1) for x in access], "erasure_ms": [round(x, 1) for x in erasure]}
    out["fides_version"] = fides.__version__
    print(json.dumps(out))


if __name__ == "__main__":
    main()
