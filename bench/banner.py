"""Benchmark the cookie banner: its weight against other consent banners, and how many
decisions a second the consent endpoint stores; and, the other endpoint open to posts from
outside, how many web login events a second /logins/events stores.

Run from the project root:

    .venv/bin/python bench/banner.py                    # both parts, SQLite and PostgreSQL
    .venv/bin/python bench/banner.py --only size
    .venv/bin/python bench/banner.py --only rate --seconds 20 --connections 32 --workers 1,2,4

Size: what a page loads, minified and gzipped (-9), in bytes. gallra's banner.js is minified
with terser and banner.css with csso; the others are the files their packages ship for a
page (already minified): klaro (dist/klaro.js, CSS included), vanilla-cookieconsent with
iframemanager (the two libraries orestbida offers for a banner that also holds back iframes:
both .js and .css), and orejime (the Swedish standard bundle and its CSS). All of them, with
terser and csso, are installed from the npm registry into a temporary folder in the same run.

Rate: `gallra serve` (waitress, --threads, default 8) on a fresh instance for every run:
SQLite with one web process, and PostgreSQL with each of --workers (default 1 and 2: `serve
--workers`, one process per core; SQLite refuses more than one). wrk (Debian's package;
installed if missing; 2 threads on the same cores) posts over --connections keep-alive
connections for --seconds:

* decisions: valid ones, each with a new random consent id. The per-client limit
  (GALLRA_CONSENT_RATE) is off in every run, since one wrk client stands for thousands of
  visitors (and with several processes it would count per process).
* login events: one event a post, as a web application sends them, with the token of
  `gallra logins token create` (after `gallra logins escrow init`): a new event id, a random
  address, one of eight user names, a failure in four.

After each run the table is checked against the answers wrk recorded: every consent id
answered 201 must be in the table exactly once; the login events stored must number at least
those answered, with one event id mark each. (There are a few more rows than answers: wrk
stops counting while requests are still in flight, and those are stored too.) The rate is
what was answered, over wrk's own duration; PostgreSQL's runs end with the ratio of each
number of processes to one. The load average before each run is printed: other work on the
machine moves these figures.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STATIC = ROOT / "src" / "gallra" / "consent" / "static" / "gallra"
GALLRA = Path(sys.executable).parent / "gallra"
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_DB = "gallra_bench_consent"

OTHERS = {
    "klaro": ["klaro/dist/klaro.js"],
    "vanilla-cookieconsent + iframemanager": [
        "vanilla-cookieconsent/dist/cookieconsent.umd.js",
        "vanilla-cookieconsent/dist/cookieconsent.css",
        "@orestbida/iframemanager/dist/iframemanager.js",
        "@orestbida/iframemanager/dist/iframemanager.css",
    ],
    "orejime": ["orejime/dist/orejime-standard-sv.js", "orejime/dist/orejime-standard.css"],
}
PACKAGES = [
    "klaro",
    "vanilla-cookieconsent",
    "@orestbida/iframemanager",
    "orejime",
    "terser",
    "csso-cli",
]


def gz(data: bytes) -> int:
    return len(gzip.compress(data, compresslevel=9))


def sizes() -> None:
    work = Path(tempfile.mkdtemp(prefix="gallra-banner-"))
    try:
        subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--silent", *PACKAGES],
            cwd=work,
            check=True,
        )
        modules = work / "node_modules"
        version = {
            p: json.loads((modules / p / "package.json").read_text())["version"] for p in PACKAGES
        }
        js = subprocess.run(
            [modules / ".bin" / "terser", STATIC / "banner.js", "--compress", "--mangle"],
            check=True,
            capture_output=True,
        ).stdout
        css = subprocess.run(
            [modules / ".bin" / "csso", STATIC / "banner.css"], check=True, capture_output=True
        ).stdout
        raw = (STATIC / "banner.js").read_bytes() + (STATIC / "banner.css").read_bytes()
        rows = [
            (
                "gallra banner.js + banner.css",
                gz(js + css),
                len(js + css),
                f"terser {version['terser']}, csso-cli {version['csso-cli']}",
            )
        ]
        for name, files in OTHERS.items():
            data = b"".join((modules / f).read_bytes() for f in files)
            packages = sorted({f.split("/dist/")[0] for f in files})
            rows.append(
                (name, gz(data), len(data), ", ".join(f"{p} {version[p]}" for p in packages))
            )
        print("\nWhat a page loads, minified, gzipped -9 (bytes):")
        for name, zipped, plain, what in rows:
            print(f"  {name:40} {zipped:7,} gz  ({plain:7,} minified)  {what}")
        print(f"  gallra source as served (unminified), gzipped: {gz(raw):,}")
        ours = rows[0][1]
        smallest = min(r[1] for r in rows[1:])
        print(
            f"  gallra: {ours:,} bytes; budget 10,000: {'within' if ours <= 10_000 else 'OVER'}"
            f"; {smallest / ours:.1f}x smaller than the smallest other ({smallest:,})"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


# -- the consent endpoint and the login events endpoint ------------------------------------

# Both scripts: each answer adds a line to `answered` (what it stored, or ! and its status),
# and at the end every thread's lines go to the file ANSWERED (the bench checks them against
# the tables).
LUA_ANSWERS = """
math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
local hex = "0123456789abcdef"
function h(n)
  local t = {}
  for i = 1, n do local k = math.random(16) t[i] = hex:sub(k, k) end
  return table.concat(t)
end
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) answered = {} end
function done(summary, latency, requests)
  local out = assert(io.open(ANSWERED, "w"))
  for _, t in ipairs(threads) do
    for _, line in ipairs(t:get("answered")) do out:write(line, "\\n") end
  end
  out:close()
end
"""

# A decision with a new random consent id; the ids answered 201 are kept.
LUA_DECISIONS = """
request = function()
  local id = h(8) .. "-" .. h(4) .. "-4" .. h(3) .. "-8" .. h(3) .. "-" .. h(12)
  local body = string.format(BODY, id)
  return wrk.format("POST", "/consent/decisions", {["Content-Type"] = "text/plain"}, body)
end
function response(status, headers, body)
  if status == 201 then table.insert(answered, body:match('"id": *"([^"]+)"'))
  else table.insert(answered, "!" .. status) end
end
"""

# One login event a post, as a web application sends them: a new event id, a random
# address, one of a few user names, a failure in four.
LUA_EVENTS = """
local names = {"anna", "bo", "cecilia", "david", "eva", "fredrik", "greta", "hassan"}
request = function()
  local ip = math.random(1, 223) .. "." .. math.random(0, 255) .. "." ..
             math.random(0, 255) .. "." .. math.random(1, 254)
  local outcome = math.random(4) == 1 and "failure" or "success"
  local body = string.format(BODY, h(32), outcome, names[math.random(#names)], ip)
  return wrk.format("POST", "/logins/events", {["Content-Type"] = "application/json",
                    ["Authorization"] = "Bearer " .. TOKEN}, body)
end
function response(status, headers, body)
  if status == 200 then table.insert(answered, body:match('"stored": *(%d+)'))
  else table.insert(answered, "!" .. status) end
end
"""

# Run by `gallra django shell` after a run: the rows in the table, and the answered ones
# missing from it or stored more than once.
CHECK_DECISIONS = """
import json, os
from collections import Counter
from gallra.consent.models import ConsentDecision
rows = Counter(ConsentDecision.objects.values_list("consent_id", flat=True))
answered = open(os.environ["BENCH_ANSWERED"]).read().split()
print(json.dumps({
    "rows": sum(rows.values()),
    "missing": sum(1 for i in answered if i not in rows),
    "twice": sum(1 for i in answered if rows[i] > 1),
}))
"""
CHECK_EVENTS = """
import json
from gallra.logins.models import LoginEvent, SealingKey, WebEventSeen
print(json.dumps({
    "rows": LoginEvent.objects.filter(service="webmail").count(),
    "marks": WebEventSeen.objects.count(),
    "sealing_keys": SealingKey.objects.count(),
}))
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def gallra(env: dict, *args: str) -> str:
    out = subprocess.run([GALLRA, *args], env=env, capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(f"gallra {' '.join(args)}: {out.stderr[-2000:]}")
    return out.stdout


def instance(backend: str) -> dict:
    """The environment of a fresh instance (its own folder; PostgreSQL: a new database)."""
    data = Path(tempfile.mkdtemp(prefix="gallra-consent-"))
    # One wrk client stands for thousands of visitors: the consent endpoint's per-client
    # limit is lifted, in every run alike (with several processes it would count per process).
    env = os.environ | {
        "GALLRA_DATA": str(data),
        "GALLRA_ENFORCE_TIME": "off",
        "GALLRA_CONSENT_RATE": "off",
    }
    env.pop("GALLRA_DATABASE_URL", None)
    if backend == "postgresql":
        import psycopg

        with psycopg.connect(PG_ADMIN, autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)')
            c.execute(f'CREATE DATABASE "{PG_DB}"')
        env["GALLRA_DATABASE_URL"] = f"postgresql://postgres@127.0.0.1:5432/{PG_DB}"
    gallra(env, "init")
    return env


def serve(env: dict, port: int, threads: int, workers: int) -> subprocess.Popen:
    command = [GALLRA, "serve", "--port", str(port), "--threads", str(threads)]
    command += ["--workers", str(workers)]
    log = Path(env["GALLRA_DATA"]) / "serve.log"
    with log.open("w") as out:  # a file, not a pipe: a full pipe would stall the server
        # Its own process group, stopped as a whole, as systemd's gallra-web.service is
        # (docs/production.md): SIGTERM to the parent alone does not stop --workers 2.
        server = subprocess.Popen(command, env=env, stdout=out, stderr=out, start_new_session=True)
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/consent/config", timeout=1)
            return server
        except OSError:
            time.sleep(0.1)
    os.killpg(server.pid, signal.SIGKILL)
    raise RuntimeError(log.read_text()[-2000:])


def seconds_of(text: str) -> float:
    """wrk's durations: 10.01s, 1.00m, 250.00ms."""
    for unit, factor in (("us", 1e-6), ("ms", 1e-3), ("s", 1), ("m", 60), ("h", 3600)):
        if text.endswith(unit) and text[: -len(unit)].replace(".", "").isdigit():
            return float(text[: -len(unit)]) * factor
    raise ValueError(text)


def wrk(script: Path, port: int, seconds: int, connections: int) -> dict:
    # --timeout: an answer slower than wrk's default 2 s is still an answer, and counted.
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "30s"]
    command += ["-s", str(script)]
    command += ["--latency", f"http://127.0.0.1:{port}"]
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    total, took = out.split(" requests in ")
    latency = {
        line.split()[0]: line.split()[1]
        for line in out.splitlines()
        if line.strip().startswith(("50%", "99%"))
    }
    return {
        "requests": int(total.split()[-1]),
        "seconds": seconds_of(took.split(",")[0].strip()),
        "non2xx": int(out.split("Non-2xx or 3xx responses:")[1].split()[0])
        if "Non-2xx" in out
        else 0,
        "errors": out.split("Socket errors:")[1].splitlines()[0].strip()
        if "Socket errors" in out
        else "none",
        "median": latency.get("50%"),
        "p99": latency.get("99%"),
    }


def run(
    what: str, backend: str, workers: int, seconds: int, connections: int, threads: int
) -> float:
    """One run on a fresh instance: prints the rate and the table check, returns the rate."""
    env = instance(backend)
    data = Path(env["GALLRA_DATA"])
    answered_file = data / "answered.txt"
    port = free_port()
    load = os.getloadavg()[0]
    if what == "events":
        gallra(env, "logins", "escrow", "init", "--out", str(data / "shares"))
        token = gallra(env, "logins", "token", "create", "bench").split()[-1]
    server = serve(env, port, threads, workers)
    try:
        if what == "decisions":
            config = json.load(
                urllib.request.urlopen(f"http://127.0.0.1:{port}/consent/config?lang=sv")
            )
            optional = [c for c in config["categories"] if not c["required"]]
            body = {
                "id": "%s",
                "action": "custom",
                "revision": config["revision"],
                "hash": config["hash"],
                "lang": "sv",
                "categories": {c["id"]: c["id"] == "statistics" for c in optional},
                "services": {s["id"]: False for c in optional for s in c["services"]},
            }
            lua, check = LUA_DECISIONS, CHECK_DECISIONS
        else:
            at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 60))
            event = {"id": "%s", "at": at, "outcome": "%s", "username": "%s", "ip": "%s"}
            body = {"events": [event | {"service": "webmail"}]}
            lua, check = LUA_EVENTS, CHECK_EVENTS
        script = data / "post.lua"
        script.write_text(
            f"BODY = {json.dumps(json.dumps(body))}\n"  # a Lua string literal holding the JSON
            f"ANSWERED = {json.dumps(str(answered_file))}\n"
            + (f"TOKEN = {json.dumps(token)}\n" if what == "events" else "")
            + LUA_ANSWERS
            + lua
        )
        result = wrk(script, port, seconds, connections)
        time.sleep(1)  # let requests still in flight when wrk stopped finish
        lines = answered_file.read_text().split()
        answers = [line for line in lines if not line.startswith("!")]
        statuses = Counter(line[1:] for line in lines if line.startswith("!"))
        env["BENCH_ANSWERED"] = str(answered_file)
        table = json.loads(gallra(env, "django", "shell", "-c", check).strip().splitlines()[-1])
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(30)
        shutil.rmtree(data, ignore_errors=True)
    if what == "decisions":
        answered, unit = len(answers), "decisions/s stored and answered 201"
        checked = (
            f"{table['missing']} answered 201 and missing, {table['twice']} stored twice"
            f" ({'none lost' if not table['missing'] + table['twice'] else 'LOST OR DOUBLED'})"
        )
    else:
        answered, unit = sum(int(n) for n in answers), "login events/s stored and answered 200"
        lost = answered > table["rows"] or table["rows"] != table["marks"]
        checked = (
            f"{table['marks']:,} event id marks, {table['sealing_keys']:,} sealing keys"
            f" ({'LOST OR DOUBLED' if lost else 'none lost'})"
        )
    per_second = answered / result["seconds"]
    refused = ", ".join(f"{status}: {n}" for status, n in sorted(statuses.items()))
    processes = f"{workers} web process{'es' if workers > 1 else ''}"
    print(
        f"\n{backend}, {processes}: {per_second:,.0f} {unit} ({answered:,} in "
        f"{result['seconds']:.1f} s, {connections} connections; latency median "
        f"{result['median']}, p99 {result['p99']}; non-2xx {result['non2xx']}"
        + (f" ({refused})" if refused else "")
        + f"; socket errors: {result['errors']}; load average before {load:.1f})"
    )
    print(f"  rows in the table afterwards: {table['rows']:,}; {checked}")
    return per_second


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", choices=["size", "rate"])
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument(
        "--workers", default="1,2", help="web processes on PostgreSQL, a run each (serve --workers)"
    )
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=8, help="waitress threads (serve --threads)")
    args = parser.parse_args()
    if args.only in (None, "size"):
        sizes()
    if args.only in (None, "rate"):
        if not shutil.which("wrk"):
            install = ["apt-get", "install", "-y", "-qq", "wrk"]
            if subprocess.run(install, check=False).returncode:  # no package lists yet, say
                subprocess.run(["apt-get", "update", "-qq"], check=True)
                subprocess.run(install, check=True)
        print(f"\n{os.cpu_count()} cores; wrk with 2 threads on the same machine")
        workers = [int(n) for n in args.workers.split(",")]
        for what in ("decisions", "events"):
            rates = {}
            for backend in args.backends.split(","):
                for n in workers if backend == "postgresql" else [1]:
                    rates[backend, n] = run(
                        what, backend, n, args.seconds, args.connections, args.threads
                    )
            for n in workers:
                if n != 1 and rates.get(("postgresql", 1)):
                    print(
                        f"  postgresql, {n} web processes against 1: "
                        f"{rates['postgresql', n] / rates['postgresql', 1]:.2f}x the {what}/s"
                    )


if __name__ == "__main__":
    main()
