"""Benchmark the cookie banner: its weight against other consent banners, and how many
decisions a second the consent endpoint stores.

Run from the project root:

    .venv/bin/python bench/banner.py                    # both parts, SQLite and PostgreSQL
    .venv/bin/python bench/banner.py --only size
    .venv/bin/python bench/banner.py --only rate --seconds 20 --connections 32

Size: what a page loads, minified and gzipped (-9), in bytes. gallra's banner.js is minified
with terser and banner.css with csso; the others are the files their packages ship for a
page (already minified): klaro (dist/klaro.js, CSS included), vanilla-cookieconsent with
iframemanager (the two libraries orestbida offers for a banner that also holds back iframes:
both .js and .css), and orejime (the Swedish standard bundle and its CSS). All of them, with
terser and csso, are installed from the npm registry into a temporary folder in the same run.

Rate: `gallra serve` (waitress, --threads, default 8) on a fresh instance, SQLite and
PostgreSQL, and
wrk (Debian's package; installed if missing) posting valid decisions, each with a new random
consent id, over --connections keep-alive connections for --seconds. Then the table is
counted: every decision answered 201 must be there.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
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


# -- the consent endpoint ---------------------------------------------------------------

LUA = """
math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
local hex = "0123456789abcdef"
local function h(n)
  local t = {}
  for i = 1, n do local k = math.random(16) t[i] = hex:sub(k, k) end
  return table.concat(t)
end
request = function()
  local id = h(8) .. "-" .. h(4) .. "-4" .. h(3) .. "-8" .. h(3) .. "-" .. h(12)
  local body = string.format(BODY, id)
  return wrk.format("POST", "/consent/decisions", {["Content-Type"] = "text/plain"}, body)
end
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(env: dict, port: int, threads: int) -> subprocess.Popen:
    subprocess.run([GALLRA, "init"], env=env, check=True, capture_output=True)
    command = [GALLRA, "serve", "--port", str(port), "--threads", str(threads)]
    log = Path(env["GALLRA_DATA"]) / "serve.log"
    with log.open("w") as out:  # a file, not a pipe: a full pipe would stall the server
        server = subprocess.Popen(command, env=env, stdout=out, stderr=out)
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/consent/config", timeout=1)
            return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise RuntimeError(log.read_text()[-2000:])


def count(env: dict) -> int:
    code = "from gallra.consent.models import ConsentDecision as D; print(D.objects.count())"
    out = subprocess.run(
        [GALLRA, "django", "shell", "-c", code], env=env, check=True, capture_output=True, text=True
    )
    return int(out.stdout.strip().splitlines()[-1])


def rate(backend: str, seconds: int, connections: int, threads: int) -> None:
    if not shutil.which("wrk"):
        install = ["apt-get", "install", "-y", "-qq", "wrk"]
        if subprocess.run(install, check=False).returncode:  # no package lists yet, say
            subprocess.run(["apt-get", "update", "-qq"], check=True)
            subprocess.run(install, check=True)
    data = Path(tempfile.mkdtemp(prefix="gallra-consent-"))
    # One wrk client stands for thousands of visitors: the per-client limit is lifted.
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
    port = free_port()
    server = serve(env, port, threads)
    try:
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
        script = data / "post.lua"
        body_lua = json.dumps(json.dumps(body))  # a Lua string literal holding the JSON
        script.write_text(f"BODY = {body_lua}\n" + LUA)
        before = count(env)
        result = subprocess.run(
            [
                "wrk",
                "-t2",
                f"-c{connections}",
                f"-d{seconds}s",
                "-s",
                str(script),
                "--latency",
                f"http://127.0.0.1:{port}",
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        time.sleep(1)  # let requests still in flight when wrk stopped finish
        stored = count(env) - before
    finally:
        server.terminate()
        server.wait(10)
        shutil.rmtree(data, ignore_errors=True)
    out = result.stdout
    total = int(out.split(" requests in ")[0].split()[-1])
    non2xx = int(out.split("Non-2xx or 3xx responses:")[1].split()[0]) if "Non-2xx" in out else 0
    errors = (
        out.split("Socket errors:")[1].splitlines()[0].strip() if "Socket errors" in out else "none"
    )
    latency = {
        line.split()[0]: line.split()[1]
        for line in out.splitlines()
        if line.strip().startswith(("50%", "99%"))
    }
    answered = total - non2xx
    print(
        f"\n{backend}: {answered / seconds:,.0f} decisions/s stored and answered 201 "
        f"({answered:,} in {seconds} s, {connections} connections; latency median "
        f"{latency.get('50%')}, p99 {latency.get('99%')}; non-2xx {non2xx}; socket errors: "
        f"{errors})"
    )
    print(
        f"  rows in the table afterwards: {stored:,} "
        f"({'none lost' if stored >= answered else f'{answered - stored} MISSING'})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", choices=["size", "rate"])
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=8, help="waitress threads (serve --threads)")
    args = parser.parse_args()
    if args.only in (None, "size"):
        sizes()
    if args.only in (None, "rate"):
        for backend in args.backends.split(","):
            rate(backend, args.seconds, args.connections, args.threads)


if __name__ == "__main__":
    main()
