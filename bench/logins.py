"""Benchmark `gallra logins ingest` of a 1,000,000-line auth.log against fail2ban-regex and grep.

Run from the project root:

    .venv/bin/python bench/logins.py                      # 1,000,000 lines, SQLite and PostgreSQL
    .venv/bin/python bench/logins.py --lines 100000       # a quick try
    .venv/bin/python bench/logins.py --only baselines     # grep and fail2ban-regex only
    .venv/bin/python bench/logins.py --only gallra --backends sqlite
    .venv/bin/python bench/logins.py --processes 2 --distinct-lines 0   # 2 processes only

The file comes from bench/authlog.py (seeded; sshd's failed, invalid-user, accepted,
repeated, PAM and preauth-close lines, 18% other lines such as cron and sudo, 5% malformed;
see its docstring for the mix). It is kept in /tmp/gallra-bench/ (auth-1M.log for the
default size and seed, with its composition in auth-1M.json) and made again only when the
size, the seed or the generator's source changed. The whole file is read once before any
clock starts, so every tool reads it from the page cache.

Every tool runs as its own process; measured are its wall time from start to exit
(interpreter and Django start-up included) and its peak RSS, that process alone, as GNU time
(/usr/bin/time -f %M) reports it: started straight from this script, a child's peak would
include this script's own memory (os.wait4 is used only when /usr/bin/time is missing).
Lines/s = lines in the file / wall seconds, the same count for every tool.

* grep -c sshd FILE: the floor, reading the file and finding a word in every line.
* fail2ban-regex -r --print-no-missed --print-no-ignored FILE
  /etc/fail2ban/filter.d/sshd.conf: Debian's fail2ban (apt-get install fail2ban) with its
  stock sshd filter. -r: no DNS look-ups of host names (PAM's rhost= can be one); the two
  --print-no-* options: it collects no lines to print. Its own summary is shown (its line
  count leaves out empty lines; "ignored" = matched by a rule marked no-failure, such as
  Accepted or pam_unix authentication failure), and its own processing time, without
  start-up.
* gallra logins ingest FILE --processes N --format json, on SQLite and on PostgreSQL, with
  1 process and with one per CPU (`--processes 1,2` on two CPUs): each run on a fresh
  instance in a temporary folder (GALLRA_DATA; `gallra init`, then `gallra logins escrow
  init --out`), for PostgreSQL the database gallra_bench_logins dropped and created with
  psql first. Events stored and lines skipped per category come from its JSON summary. An
  ingest of an empty file afterwards shows the start-up time (included in the figures).
  With more than one process, the peak RSS is that of the largest process (GNU time's
  figure); the memory of all of them together is shown too: the sum of their PSS (shared
  pages counted once), sampled from /proc every 50 ms.
* memory whatever the number of senders: gallra logins ingest (first backend, one process
  per CPU) of a file of `--distinct-lines` failed logins (1,000,000 by default, 0 skips it),
  each from an address of its own (bench/authlog.py --distinct: 1,000,000 distinct
  addresses and about as many /24 networks; half of them with a user name of its own).
  Target: peak RSS under 200 MB.

Target: gallra at least 5x fail2ban-regex's lines/s. The script prints numbers; nothing is
asserted.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import authlog  # noqa: E402 (bench/ itself, put on the path just above)

GALLRA = Path(sys.executable).parent / "gallra"
CACHE = Path(tempfile.gettempdir()) / "gallra-bench"
SSHD_FILTER = Path("/etc/fail2ban/filter.d/sshd.conf")
PG_DB = "gallra_bench_logins"
PG_URL = f"postgresql://postgres@127.0.0.1:5432/{PG_DB}"
TARGET = 5.0
TARGET_MB = 200
TIME = "/usr/bin/time" if Path("/usr/bin/time").exists() else None  # GNU time, for peak RSS


@dataclass
class Measured:
    seconds: float
    rss: float  # MB
    stdout: str
    stderr: str
    returncode: int
    tree_rss: float = 0.0  # MB, the largest PSS sum of the process and its children (sampled)


def _descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        parent = todo.pop()
        try:
            text = Path(f"/proc/{parent}/task/{parent}/children").read_text()
        except OSError:
            continue
        kids = [int(k) for k in text.split()]
        found += kids
        todo += kids
    return found


def _pss_kb(pid: int) -> int:
    """The process's proportional set size: pages it shares with its forked workers count
    once over them all, so that the sum is what they take together."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _sample_tree(pid: int, peak: list, done: threading.Event) -> None:
    """The largest PSS sum of pid's descendants (GNU time's own pages left out), every 50 ms."""
    while not done.wait(0.05):
        peak[0] = max(peak[0], sum(_pss_kb(p) for p in _descendants(pid)))


def run_child(argv: list, env: dict | None = None) -> Measured:
    """Run argv; its wall time and peak RSS (that process alone).

    The peak RSS comes from GNU time (/usr/bin/time -f %M, its wait4 of the command): a child
    started straight from this script would count this script's own pages (vfork/fork and
    exec keep the old address space's high-water mark). os.wait4 when there is no GNU time.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        with tempfile.NamedTemporaryFile(mode="r", suffix=".rss") as rss_file:
            command = [str(a) for a in argv]
            if TIME:
                command = [TIME, "-f", "%M", "-o", rss_file.name, *command]
            start = time.perf_counter()
            proc = subprocess.Popen(command, env=env, stdout=out, stderr=err)
            peak, done = [0], threading.Event()
            sampler = threading.Thread(target=_sample_tree, args=(proc.pid, peak, done))
            sampler.start()
            _, status, usage = os.wait4(proc.pid, 0)
            seconds = time.perf_counter() - start
            done.set()
            sampler.join()
            rss = usage.ru_maxrss / 1024
            if TIME:  # "Command exited with non-zero status N" may come first
                rss = int(rss_file.read().split()[-1]) / 1024
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode(errors="replace")
        stderr = err.read().decode(errors="replace")
    return Measured(seconds, rss, stdout, stderr, proc.returncode, peak[0] / 1024)


# -- the file ----------------------------------------------------------------------------------


def size_name(lines: int) -> str:
    if lines % 1_000_000 == 0:
        return f"{lines // 1_000_000}M"
    if lines % 1000 == 0:
        return f"{lines // 1000}k"
    return str(lines)


def log_file(lines: int, seed: int, distinct: bool = False) -> tuple[Path, dict]:
    """The cached auth.log for this size and seed (made if missing or stale); its metadata.

    `distinct`: authlog.generate_distinct's file, every line from another address."""
    CACHE.mkdir(parents=True, exist_ok=True)
    name = f"auth-{size_name(lines)}" + ("" if seed == 1 else f"-seed{seed}")
    name += "-distinct" if distinct else ""
    path, meta_path = CACHE / f"{name}.log", CACHE / f"{name}.json"
    source = hashlib.sha256(Path(authlog.__file__).read_bytes()).hexdigest()
    if path.exists() and meta_path.exists():
        meta = json.loads(meta_path.read_text())
        if (meta["lines"], meta["seed"], meta["generator"]) == (lines, seed, source):
            print(
                f"auth.log: {path} ({lines:,} lines, seed {seed}), made before in "
                f"{meta['seconds']:.1f} s"
            )
            return path, meta
    tmp = path.with_suffix(".tmp")
    start = time.perf_counter()
    make = authlog.generate_distinct if distinct else authlog.generate
    counts = make(tmp, lines, seed=seed)
    seconds = time.perf_counter() - start
    tmp.replace(path)
    meta = {
        "lines": lines,
        "seed": seed,
        "generator": source,
        "seconds": seconds,
        "counts": dict(sorted(counts.items())),
    }
    meta_path.write_text(json.dumps(meta, indent=1) + "\n")
    print(f"auth.log: {path} ({lines:,} lines, seed {seed}), made in {seconds:.1f} s")
    return path, meta


def describe(path: Path, meta: dict) -> None:
    counts = meta["counts"]
    lines = meta["lines"]
    top = authlog.kinds(counts)
    print(f"  {path.stat().st_size / 1e6:.1f} MB; per kind (bench/authlog.py):")
    for kind in [*authlog.MIX, "malformed"]:
        parts = sorted(
            (k.split(".", 1)[1], n) for k, n in counts.items() if k.startswith(kind + ".")
        )
        x = "x" if kind == "repeated" else ""
        detail = ", ".join(f"{k}{x} {n:,}" for k, n in parts) if kind != "other" else ""
        print(
            f"    {kind:16} {top.get(kind, 0):9,} {100 * top.get(kind, 0) / lines:5.1f}%"
            f"{'  (' + detail + ')' if detail else ''}"
        )
    repeated = sum(int(k.split(".")[1]) * n for k, n in counts.items() if k.startswith("repeated."))
    tricky = ", ".join(
        f"{k.split('.')[1]} {n:,}" for k, n in sorted(counts.items()) if k.startswith("tricky.")
    )
    print(
        f"    repeated lines stand for {repeated:,} failed passwords; odd user names "
        f"among the above: {tricky}"
    )


def warm(path: Path) -> None:
    with path.open("rb") as f:
        while f.read(1 << 23):
            pass


# -- the baselines -----------------------------------------------------------------------------


def grep(path: Path, lines: int) -> dict:
    m = run_child(["grep", "-c", "sshd", path])
    if m.returncode not in (0, 1):
        raise SystemExit(f"grep failed ({m.returncode}): {m.stderr}")
    note = f"{int(m.stdout.strip()):,} lines contain sshd"
    return {"tool": "grep -c sshd", "seconds": m.seconds, "rss": m.rss, "note": note}


def fail2ban(path: Path, lines: int) -> dict | None:
    tool = shutil.which("fail2ban-regex")
    if not tool:
        print(
            "\nfail2ban-regex is not installed: skipped. Install Debian's package with\n"
            "    apt-get install fail2ban\n(as root; it brings the stock filters to "
            "/etc/fail2ban/filter.d/)."
        )
        return None
    if not SSHD_FILTER.exists():
        print(f"\n{SSHD_FILTER} is missing: fail2ban-regex skipped (apt-get install fail2ban).")
        return None
    version = subprocess.run([tool, "-V"], capture_output=True, text=True).stdout.strip()
    argv = [tool, "-r", "--print-no-missed", "--print-no-ignored", path, SSHD_FILTER]
    print(f"\nfail2ban-regex {version}: {' '.join(map(str, argv))}", flush=True)
    m = run_child(argv)
    if m.returncode:
        print(f"  failed ({m.returncode}):\n{m.stdout[-2000:]}\n{m.stderr[-2000:]}")
        return None
    summary = re.search(r"Lines: (\d+) lines, (\d+) ignored, (\d+) matched, (\d+) missed", m.stdout)
    processed = re.search(r"\[processed in ([\d.]+) sec\]", m.stdout)
    note = ""
    if summary:
        tested, ignored, matched, missed = map(int, summary.groups())
        note = f"matched {matched:,}, ignored {ignored:,}, missed {missed:,} of {tested:,}"
        print(
            f"  its summary: {tested:,} lines (empty ones not counted), {matched:,} matched "
            f"(failures), {ignored:,} ignored (no-failure rules), {missed:,} missed"
        )
    if processed:
        seconds = float(processed.group(1))
        print(
            f"  its own processing time: {seconds:.2f} s ({lines / seconds:,.0f} lines/s "
            "without start-up)"
        )
    return {"tool": "fail2ban-regex (sshd)", "seconds": m.seconds, "rss": m.rss, "note": note}


# -- gallra ------------------------------------------------------------------------------------


def psql(sql: str) -> None:
    argv = [
        "psql",
        "-h",
        "127.0.0.1",
        "-U",
        "postgres",
        "-d",
        "postgres",
        "-q",
        "-v",
        "ON_ERROR_STOP=1",
        "-c",
        sql,
    ]
    done = subprocess.run(argv, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"psql -c {sql!r} failed ({done.returncode}): {done.stderr}")


def gallra(backend: str, path: Path, lines: int, processes: int) -> dict | None:
    data = Path(tempfile.mkdtemp(prefix="gallra-logins-"))
    env = {**os.environ, "GALLRA_DATA": str(data)}
    env.pop("GALLRA_DATABASE_URL", None)
    tool = f"gallra logins ingest ({backend}, {processes}p)"
    print(f"\n{tool}", flush=True)
    try:
        if backend == "postgresql":
            psql(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)')
            psql(f'CREATE DATABASE "{PG_DB}"')
            env["GALLRA_DATABASE_URL"] = PG_URL
        for step in (["init"], ["logins", "escrow", "init", "--out", data / "shares"]):
            m = run_child([GALLRA, *step], env)
            if m.returncode:
                print(
                    f"  gallra {' '.join(map(str, step))} failed ({m.returncode}), skipped:\n"
                    f"{(m.stdout + m.stderr)[-2000:]}"
                )
                return None
        m = run_child(
            [GALLRA, "logins", "ingest", path, "--processes", processes, "--format", "json"], env
        )
        if m.returncode:
            print(f"  failed ({m.returncode}):\n{(m.stdout + m.stderr)[-3000:]}")
            return None
        try:
            report = json.loads(m.stdout[m.stdout.index("{") :])
        except ValueError:
            print(f"  no JSON summary in its output:\n{m.stdout[-2000:]}")
            report = {}
        empty = data / "empty.log"
        empty.write_bytes(b"")
        startup = run_child([GALLRA, "logins", "ingest", empty, "--format", "json"], env)
    finally:
        shutil.rmtree(data, ignore_errors=True)
    events = report.get("events")
    skipped = report.get("skipped") or {}
    if isinstance(events, int):
        print(
            f"  {report.get('lines', 0):,} lines read, {events:,} events stored, "
            f"{sum(skipped.values()):,} lines skipped"
        )
    else:
        print(f"  summary: {report}")
    for category, n in sorted(skipped.items(), key=lambda kv: -kv[1]):
        print(f"    skipped {n:9,}  {category}")
    print(f"  start-up (ingest of an empty file): {startup.seconds:.2f} s")
    print(
        f"  peak RSS: {m.rss:.1f} MB the largest process; {m.tree_rss:.1f} MB all its "
        "processes together (PSS, sampled)"
    )
    note = f"{events:,} events" if isinstance(events, int) else ""
    return {
        "tool": tool,
        "seconds": m.seconds,
        "rss": m.rss,
        "tree_rss": m.tree_rss,
        "note": note,
        "startup": startup.seconds,
    }


# -- the table ---------------------------------------------------------------------------------


def table(rows: list[dict], lines: int) -> None:
    f2b = next((r for r in rows if r["tool"].startswith("fail2ban")), None)
    print(f"\n{lines:,} lines; lines/s = lines in the file / wall seconds of the process")
    head = f"{'tool':34} {'seconds':>8} {'lines/s':>11} {'peak MB':>8} {'vs fail2ban':>11}  notes"
    print(head)
    print("-" * len(head))
    for r in rows:
        rate = lines / r["seconds"]
        ratio = f"{f2b['seconds'] / r['seconds']:.2f}x" if f2b else "-"
        print(
            f"{r['tool']:34} {r['seconds']:8.2f} {rate:11,.0f} {r['rss']:8.1f} {ratio:>11}  "
            f"{r['note']}"
        )
    for r in rows:
        if not r["tool"].startswith("gallra"):
            continue
        if not f2b:
            print(f"{r['tool']}: no fail2ban-regex figure to compare with")
            continue
        ratio = f2b["seconds"] / r["seconds"]
        verdict = "met" if ratio >= TARGET else "NOT met"
        print(
            f"{r['tool']}: {lines / r['seconds']:,.0f} lines/s = {ratio:.1f}x "
            f"fail2ban-regex's {lines / f2b['seconds']:,.0f}; "
            f"target {TARGET:g}x: {verdict}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--only", choices=["baselines", "gallra"])
    parser.add_argument("--backends", default="sqlite,postgresql")
    cpus = len(os.sched_getaffinity(0))
    parser.add_argument(
        "--processes",
        default=",".join(dict.fromkeys(["1", str(cpus)])),
        help="gallra's --processes, one run each (default: 1 and one per CPU)",
    )
    parser.add_argument("--distinct-lines", type=int, default=1_000_000)
    args = parser.parse_args()
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    unknown = set(backends) - {"sqlite", "postgresql"}
    if unknown:
        parser.error(f"unknown backend(s): {', '.join(sorted(unknown))}")
    processes = [int(n) for n in args.processes.split(",") if n.strip()]

    path, meta = log_file(args.lines, args.seed)
    describe(path, meta)
    warm(path)
    rows = []
    if args.only in (None, "baselines"):
        rows.append(grep(path, args.lines))
        result = fail2ban(path, args.lines)
        if result:
            rows.append(result)
    if args.only in (None, "gallra"):
        for backend in backends:
            for n in processes:
                result = gallra(backend, path, args.lines, n)
                if result:
                    rows.append(result)
    table(rows, args.lines)
    if args.only in (None, "gallra") and args.distinct_lines and backends:
        distinct(backends[0], args.distinct_lines, args.seed, cpus)


def distinct(backend: str, lines: int, seed: int, processes: int) -> None:
    """Peak memory of an ingest where every line comes from another address."""
    path, _meta = log_file(lines, seed, distinct=True)
    print(f"  {path.stat().st_size / 1e6:.1f} MB, {lines:,} failed logins, {lines:,} addresses")
    warm(path)
    result = gallra(backend, path, lines, processes)
    if not result:
        return
    worst = max(result["rss"], result["tree_rss"])
    verdict = "met" if worst < TARGET_MB else "NOT met"
    print(
        f"\n{lines:,} distinct addresses, {result['tool']}: peak RSS {result['rss']:.1f} MB "
        f"(largest process), {result['tree_rss']:.1f} MB (all processes, PSS sampled); "
        f"{lines / result['seconds']:,.0f} lines/s; target under {TARGET_MB} MB: {verdict}"
    )


if __name__ == "__main__":
    main()
