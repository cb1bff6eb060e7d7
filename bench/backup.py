"""Benchmark `gallra backup run` against `restic backup` of the same data, and time the window
step (forget + prune) and the restore drill (`gallra backup verify`).

Run from the project root:

    .venv/bin/python bench/backup.py                  # about 1 GB: database + home folders
    .venv/bin/python bench/backup.py --scale 0.1      # about 100 MB, a quick try
    .venv/bin/python bench/backup.py --repeat 5       # five runs of each measurement

The data (synthetic, seeded; no real person in it) is kept in /tmp/gallra-bench-backup/ and
made again only when the scale, the seed or GENERATOR below changed:

* data/: a gallra instance (`gallra init`) whose SQLite database is filled with sqlite3
  executemany, about 320 MB at --scale 1: 20,000 customers (60,000 people), 2,000 technical
  documents (5-150 KB each, half of them Swedish-looking text, half random bytes), 300,000
  letters, 400,000 cookie-consent decisions and 200,000 login events (sealed addresses).
  The columns are read from the tables `gallra migrate` made, so a changed schema is filled
  too (a column the generator does not know gets a plain value or NULL). When the data is
  reused, `gallra migrate` is run on it first (not timed).
* home/: 40 users' home folders, about 650 MB: text documents (1-400 KB) and mailboxes
  (2-25 MB) of Swedish-looking text (Zipf-distributed words; compresses about 2.5x), small
  dotfiles, photos (0.3-8 MB) and archives (5-40 MB) of random bytes (do not compress), and
  about 5% copies of photos and archives in other users' Downloads (restic deduplicates them).
* policy.toml: JufCorp's policy (window P7D) with `directories = [home/]` under [backups].

Every measurement is a process of its own (wall time from start to exit, interpreter and
Django start-up included); all data is read once before any clock starts, so every process
reads it from the page cache, and `sync` runs before each (not timed), so that no process
waits for what an earlier one wrote. Each measurement runs --repeat times (3), alternating
which of the two goes first; the median is shown. restic gets the same environment from both
sides (RESTIC_REPOSITORY, RESTIC_PASSWORD_FILE, a cache folder of its own, TZ=UTC) and the
same options (`backup --tag gallra --host gallra --json`). The gallra code measured is the
one the venv imports (the working tree); its commit is printed, with any uncommitted change
to gallra/backups or gallra/evidence.

* First backup into a new repository (`restic init`, not timed):
  - plain: `restic backup` of a copy of the database (made before, not timed, with SQLite's
    backup API, as gallra makes it) and the home folders;
  - gallra: `gallra backup run`, all of it: the database dump, its summary (rows per table
    and a checksum of every row), restic backup, the snapshot list, the keys snapshot
    (`gallra-keys`, when the code has one), the window, the evidence entry.
    It runs through a small driver (SHIM below) that calls gallra's own command line
    (gallra.cli.main) after wrapping gallra's dump, summary, restic and evidence functions with
    timers, so the parts of the step are shown too. The wrappers cost microseconds.
* Second backup into the same repository (--repeat more of each), home unchanged, the
  database dumped again (for the plain run: copied again, not timed). What a daily backup
  does. restic's own summary shows what it read and added; the repositories' sizes after
  the first and the later backups are printed.
* The window step: a copy of gallra's repository with five more snapshots, taken with restic
  --time 10, 9, 8, 3 and 2 days ago, each with a day's changes (--scale x 40 MB, half text,
  half random); the three older than the policy's window (7 days) are forgotten and the data
  only they hold is pruned:
  - plain: `restic forget ID ID ID` and `restic prune --max-unused 0` (two processes);
  - gallra: its window step, `gallra.backups.runs.apply_window(policy, now)` in a process
    (the snapshot lists, forget by id, prune --max-unused 0). Each run on a fresh copy.
* The restore drill, on the repository the window step left (the snapshot of the last
  second backup is the newest):
  - plain: `restic check` and `restic restore NEWEST --target DIR`;
  - plain, database only: `restic restore NEWEST --include gallra.sqlite3` (for comparison);
  - gallra: `gallra backup verify` (snapshot ages, restic check, restore of the newest
    snapshot into a scratch folder, rows and checksum of the restored database compared with
    those recorded at backup, the scratch folder removed, the evidence entry).

Target: gallra's backup step at most 1.2x plain `restic backup`. The script prints numbers;
nothing is asserted.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
GALLRA = Path(sys.executable).parent / "gallra"
POLICY = ROOT / "src" / "gallra" / "policies" / "jufcorp.toml"  # gallra.config.DEFAULT_POLICY
CACHE = Path(tempfile.gettempdir()) / "gallra-bench-backup"
GENERATOR = 1  # raise when the generated data changes: the cached data is made again
TARGET = 1.2
MB = 1_000_000
WINDOW_DAYS = (10, 9, 8, 3, 2)  # back-dated snapshots for the window step (window: 7 days)

# -- synthetic text ----------------------------------------------------------------------------


def _words(text: str) -> list[str]:
    return text.split()


WORDS = _words(
    "och i att det som en på är av för med till den har de inte om ett vi men jag var så "
    "kan man sig från vid eller när nu också efter då under mot bara sedan alla hade skulle "
    "mycket finns där här hur vad två år andra många får kunde ska blir genom utan enligt "
    "kommer måste första nya stora samma del tid dag vecka månad kund avtal faktura tjänst "
    "server konto lösenord säkerhetskopia brandvägg nätverk skrivare support ärende offert "
    "leverans installation uppgradering licens användare e-post kalender möte projekt "
    "rapport budget styrelse protokoll beslut underlag bilaga kontor lager fordon resa "
    "hälsningar vänliga tack hej fråga svar problem lösning fel ändring datum pris kostnad"
)
SYLLABLES = _words(
    "ba be bo bro da de dal e el en er fa fi fors gå ha hem holm i in ka kla kro la le lin "
    "lund ma mo na ne no ny o pa pe ra re ro sa se sjö sko sta sten strö sund ta te to tu "
    "u ul va ve vik å ä ö berg gård ström"
)
FIRST = _words(
    "Anna Erik Maria Lars Karin Anders Eva Johan Sara Per Lena Nils Emma Karl Ingrid "
    "Oskar Elin Gustav Maja Olof Astrid Hugo Sofia Axel Linnea"
)
LAST = _words(
    "Andersson Johansson Karlsson Nilsson Eriksson Larsson Olsson Persson Svensson "
    "Gustafsson Pettersson Lindberg Lindqvist Berg Holm Sjöberg Ek Lund Strand Forsberg "
    "Björk Wallin Engström Hedlund Nyström"
)
STREETS = _words("Storgatan Kyrkvägen Skolgatan Ringvägen Strandvägen Parkgatan Björkvägen")
TOWNS = _words("Stockholm Göteborg Malmö Uppsala Umeå Luleå Örebro Västerås Kiruna Visby")
SUBJECTS = (
    "Fråga om faktura",
    "Angående avtalet",
    "Supportärende",
    "Beställning",
    "Uppsägning",
    "Lösenordet fungerar inte",
    "Offertförfrågan",
    "Ny användare",
    "Skrivaren",
    "Möte nästa vecka",
)
TITLES = (
    "Nätverksskiss",
    "Brandväggsregler",
    "Serverdokumentation",
    "Installationsanteckning",
    "Driftsättning",
    "Återställningsplan",
    "Licensöversikt",
)


class Text:
    """Swedish-looking text: Zipf-distributed words from a few thousand, some punctuation."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        made = {"".join(rng.choices(SYLLABLES, k=rng.randint(2, 4))) for _ in range(4000)}
        words = WORDS + sorted(made - set(WORDS))
        rng.shuffle(words)
        extra = [w + p for w in words[:400] for p in (".", ",")] + ["\n", "\n\n"] * 30
        self.words = words + extra
        rng.shuffle(self.words)
        self.cum = list(itertools.accumulate(1 / (k + 1) for k in range(len(self.words))))

    def make(self, size: int) -> bytes:
        words = self.rng.choices(self.words, cum_weights=self.cum, k=size // 6 + 8)
        data = " ".join(words).encode()
        while len(data) < size:
            data += b" " + data[: size - len(data)]
        return data[:size].decode(errors="ignore").encode()  # no cut character at the end


def log_uniform(rng: random.Random, low: int, high: int) -> int:
    return int(math.exp(rng.uniform(math.log(low), math.log(high))))


# -- the home folders --------------------------------------------------------------------------

# kind: (folder, extensions, smallest, largest, MB at --scale 1, text?)
HOME_KINDS = {
    "documents": ("Dokument", (".txt", ".md", ".csv"), 1_000, 400_000, 180, True),
    "mail": ("Mail", (".mbox",), 2 * MB, 25 * MB, 110, True),
    "dotfiles": (".config", (".conf", ".rc", ".ini"), 100, 4_000, 10, True),
    "photos": ("Bilder", (".jpg", ".png"), 300_000, 8 * MB, 220, False),
    "archives": ("Arkiv", (".zip", ".img"), 5 * MB, 40 * MB, 100, False),
}
COPIES_MB = 30  # copies of photos and archives in other users' Hämtade (Downloads)


def make_home(folder: Path, scale: float, seed: int) -> dict:
    rng = random.Random(f"{seed}-home")
    text = Text(random.Random(f"{seed}-text"))
    users = sorted({f"{rng.choice(FIRST)}.{rng.choice(LAST)}".lower() for _ in range(60)})[:40]
    stats: dict[str, list[int]] = {}
    binaries: list[Path] = []
    number = itertools.count(1)
    for kind, (sub, exts, low, high, mb, is_text) in HOME_KINDS.items():
        budget, files, written = int(mb * MB * scale), 0, 0
        while written < budget:
            size = min(log_uniform(rng, low, high), budget - written)
            year = rng.choice(("2021", "2022", "2023", "2024", "2025"))
            name = f"{rng.choice(WORDS)}-{next(number)}{rng.choice(exts)}"
            path = folder / rng.choice(users) / sub / year / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(text.make(size) if is_text else rng.randbytes(size))
            if not is_text:
                binaries.append(path)
            files, written = files + 1, written + size
        stats[kind] = [files, written]
    budget, files, written = int(COPIES_MB * MB * scale), 0, 0
    while written < budget and binaries:
        source = rng.choice(binaries)
        target = folder / rng.choice(users) / "Hämtade" / f"{next(number)}-{source.name}"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        files, written = files + 1, written + source.stat().st_size
    stats["copies"] = [files, written]
    return stats


# -- the database ------------------------------------------------------------------------------

STAMP = "2025-01-01 12:00:00"
TABLE_ROWS = {  # rows at --scale 1
    "registry_customer": 20_000,
    "registry_customerkey": 20_000,  # when the schema has it
    "registry_person": 60_000,
    "registry_technicaldocument": 2_000,
    "registry_correspondence": 300_000,
    "consent_consentdecision": 400_000,
    "logins_loginevent": 200_000,
}


def column_values(table: str, customers: int, rng: random.Random, text: Text) -> dict:
    """Per column: a function of the row number."""
    start = datetime(2025, 1, 1, tzinfo=UTC)

    def stamp(i: int) -> str:
        return (start + timedelta(seconds=37 * i)).strftime("%Y-%m-%d %H:%M:%S")

    def day(i: int) -> str:
        return (start - timedelta(days=i % 3000)).strftime("%Y-%m-%d")

    common = {"created_at": lambda i: STAMP, "updated_at": lambda i: STAMP}
    if table == "registry_customer":
        return common | {
            "ref": lambda i: f"C-{i}",
            "kind": lambda i: "company" if i % 4 else "private",
            "name": lambda i: f"{rng.choice(LAST)} {rng.choice(TITLES[:3])} {i} AB",
            "org_number": lambda i: f"556{rng.randrange(10**6):06d}-{rng.randrange(10**4):04d}",
            "wrapped_key": lambda i: rng.randbytes(60),
        }
    if table == "registry_customerkey":
        return {
            "customer_ref": lambda i: f"C-{i}",
            "master": lambda i: "0" * 16,
            "wrapped": lambda i: rng.randbytes(60),
            "created": lambda i: STAMP,
        }
    if table == "registry_person":

        def address(i: int) -> str:
            return (
                f"{rng.choice(STREETS)} {rng.randint(1, 80)}\n"
                f"{rng.randint(100, 999)} {rng.randint(10, 99)} {rng.choice(TOWNS)}"
            )

        return common | {
            "ref": lambda i: f"P-{i}",
            "first_name": lambda i: rng.choice(FIRST),
            "last_name": lambda i: rng.choice(LAST),
            "email": lambda i: f"person{i}@kund{i // 3}.example",
            "postal_address": address,
            "mobile": lambda i: f"+46 70 {rng.randrange(1000):03d} {rng.randrange(10000):04d}",
            "is_user": lambda i: 1,
            "is_contact": lambda i: int(i % 3 == 0),
            "is_billing_contact": lambda i: int(i % 3 == 0),
            "customer_id": lambda i: i // 3 % customers + 1,
        }
    if table == "registry_technicaldocument":

        def content(i: int) -> bytes:
            size = log_uniform(rng, 5_000, 150_000)
            return text.make(size) if i % 2 else rng.randbytes(size)

        return common | {
            "ref": lambda i: f"D-{i}",
            "title": lambda i: f"{rng.choice(TITLES)} {i}",
            "created": day,
            "content": content,
            "customer_id": lambda i: i % customers + 1,
        }
    if table == "registry_correspondence":
        return common | {
            "ref": lambda i: f"M-{i}",
            "received": day,
            "last_activity": lambda i: None,
            "sender": lambda i: (
                f"{rng.choice(FIRST)}.{rng.choice(LAST)}{i % 97}@example.se".lower()
            ),
            "subject": lambda i: f"{rng.choice(SUBJECTS)} ({i})",
            "customer_id": lambda i: i % customers + 1 if i % 3 else None,
            "prospect_id": lambda i: None,
        }
    if table == "consent_consentdecision":
        categories = ["necessary", "preferences", "statistics", "marketing"]
        services = ["matomo", "youtube", "vimeo", "google-maps", "hotjar", "linkedin"]
        return {
            "consent_id": lambda i: str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "action": lambda i: rng.choice(("accept_all", "reject_all", "custom")),
            "categories": lambda i: json.dumps(
                ["necessary", *rng.sample(categories[1:], rng.randint(0, 3))]
            ),
            "services": lambda i: json.dumps(rng.sample(services, rng.randint(0, 4))),
            "banner_revision": lambda i: rng.randint(1, 5),
            "policy_revision": lambda i: rng.randint(1, 3),
            "text_hash": lambda i: rng.randbytes(32).hex(),
            "locale": lambda i: rng.choice(("sv", "en")),
            "at": stamp,
        }
    if table == "logins_loginevent":
        return {
            "at": stamp,
            "outcome": lambda i: rng.choice(("failure", "failure", "invalid", "success")),
            "method": lambda i: rng.choice(("password", "publickey")),
            "service": lambda i: "sshd",
            "host": lambda i: f"srv{rng.randint(1, 9)}.jufcorp.example",
            "account": lambda i: f"u{rng.randrange(3000)}",
            "pseudonym": lambda i: rng.randbytes(16).hex(),
            "network": lambda i: f"198.51.{rng.randrange(256)}.0/24",
            "country": lambda i: rng.choice(("SE", "SE", "CN", "US", "RU", "DE", "NL")),
            "sealed": lambda i: rng.randbytes(60),
            "sealed_with": lambda i: 1,
        }
    raise ValueError(table)


def default_value(kind: str, name: str, notnull: bool) -> Callable[[int], object]:
    """A value for a column the generator does not know (a schema changed under it)."""
    kind = kind.lower()
    if not notnull:
        return lambda i: None
    if "int" in kind or "bool" in kind:
        return lambda i: 0
    if "datetime" in kind:
        return lambda i: STAMP
    if "date" in kind:
        return lambda i: STAMP[:10]
    if "blob" in kind:
        return lambda i: b""
    if "decimal" in kind or "real" in kind:
        return lambda i: "0"
    return lambda i: f"{name}-{i}"


def fill(conn: sqlite3.Connection, table: str, n: int, values: dict) -> int:
    columns = conn.execute(f'PRAGMA table_info("{table}")').fetchall()
    if not columns:
        return 0  # not in this schema
    names, getters = [], []
    for _, name, kind, notnull, _, pk in columns:
        names.append(name)
        if name == "id" and pk:
            getters.append(lambda i: i + 1)
        else:
            getters.append(values.get(name) or default_value(kind, name, bool(notnull)))
    quoted = ", ".join(f'"{name}"' for name in names)
    marks = ", ".join("?" * len(names))
    rows = (tuple(get(i) for get in getters) for i in range(n))
    conn.executemany(f'INSERT INTO "{table}" ({quoted}) VALUES ({marks})', rows)
    return n


def make_database(bench: Bench, scale: float, seed: int) -> dict:
    run_checked([GALLRA, "init"], bench.gallra_env(None), "gallra init")
    counts = {}
    text = Text(random.Random(f"{seed}-db-text"))
    customers = max(1, int(TABLE_ROWS["registry_customer"] * scale))
    conn = sqlite3.connect(bench.database, isolation_level=None)
    conn.execute("BEGIN")
    for table, rows in TABLE_ROWS.items():
        n = max(1, int(rows * scale))
        values = column_values(table, customers, random.Random(f"{seed}-{table}"), text)
        counts[table] = fill(conn, table, n, values)
    conn.execute("COMMIT")
    conn.close()  # the last connection: the WAL is checkpointed into the file and removed
    return counts


# -- the bench folder --------------------------------------------------------------------------


@dataclass
class Bench:
    root: Path
    data: Path = field(init=False)
    home: Path = field(init=False)
    policy: Path = field(init=False)
    password: Path = field(init=False)
    work: Path = field(init=False)

    def __post_init__(self) -> None:
        self.data = self.root / "data"
        self.home = self.root / "home"
        self.policy = self.root / "policy.toml"
        self.password = self.root / "restic-password"
        self.work = self.root / "work"

    @property
    def database(self) -> Path:
        return self.data / "gallra.sqlite3"

    def gallra_env(self, repository: Path | None) -> dict:
        env = {
            **os.environ,
            "GALLRA_DATA": str(self.data),
            "GALLRA_POLICY": str(self.policy),
            "GALLRA_BACKUP_PASSWORD_FILE": str(self.password),
        }
        env["GALLRA_BACKUP_REPOSITORY"] = str(repository or "")
        for name in ("GALLRA_DATABASE_URL", "GALLRA_KEY_FILE", "GALLRA_DEBUG"):
            env.pop(name, None)
        return env

    def restic_env(self, repository: Path) -> dict:
        """What gallra gives restic (gallra.backups.restic._env), with a cache of its own."""
        keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "TMPDIR", "LANG")}
        return keep | {
            "TZ": "UTC",
            "RESTIC_REPOSITORY": str(repository),
            "RESTIC_PASSWORD_FILE": str(self.password),
            "RESTIC_CACHE_DIR": str(self.work / "restic-cache"),
        }


def write_policy(bench: Bench) -> None:
    lines = POLICY.read_text().splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if line.split("#")[0].strip() == "[backups]")
    lines.insert(at + 1, f"directories = [{json.dumps(str(bench.home))}]\n")
    bench.policy.write_text("".join(lines))


def prepare(bench: Bench, scale: float, seed: int) -> dict:
    """The cached data for this scale and seed (made if missing or stale); its metadata."""
    meta_path = bench.root / "meta.json"
    key = {"generator": GENERATOR, "scale": scale, "seed": seed}
    if meta_path.exists() and bench.database.exists() and bench.home.is_dir():
        meta = json.loads(meta_path.read_text())
        if {k: meta.get(k) for k in key} == key:
            print(
                f"data: {bench.root} (scale {scale:g}, seed {seed}), made before in "
                f"{meta['seconds']:.0f} s; `gallra migrate` on it (not timed)",
                flush=True,
            )
            write_policy(bench)
            run_checked(
                [GALLRA, "django", "migrate", "--noinput"], bench.gallra_env(None), "gallra migrate"
            )
            return meta
    print(f"data: making it in {bench.root} (scale {scale:g}, seed {seed}) ...", flush=True)
    shutil.rmtree(bench.root, ignore_errors=True)
    bench.data.mkdir(parents=True)
    bench.password.write_text("korrekt häst batteri häftklammer\n")
    bench.password.chmod(0o600)
    write_policy(bench)
    start = time.perf_counter()
    rows = make_database(bench, scale, seed)
    database_seconds = time.perf_counter() - start
    home = make_home(bench.home, scale, seed)
    seconds = time.perf_counter() - start
    meta = key | {"seconds": seconds, "rows": rows, "home": home}
    meta_path.write_text(json.dumps(meta, indent=1) + "\n")
    print(f"  made in {seconds:.0f} s (database {database_seconds:.0f} s)", flush=True)
    return meta


def folder_size(path: Path) -> tuple[int, int]:
    files = size = 0
    for dirpath, _, names in os.walk(path):
        for name in names:
            files += 1
            size += os.lstat(os.path.join(dirpath, name)).st_size
    return files, size


def describe(bench: Bench, meta: dict) -> tuple[int, int]:
    db = bench.database.stat().st_size
    files, home = folder_size(bench.home)
    rows = sum(meta["rows"].values())
    print(
        f"  database {db / MB:,.0f} MB ({rows:,} rows generated: "
        + ", ".join(f"{t.split('_', 1)[1]} {n:,}" for t, n in meta["rows"].items() if n)
        + ")"
    )
    text = sum(meta["home"][k][1] for k, v in HOME_KINDS.items() if v[5])
    print(
        f"  home {home / MB:,.0f} MB in {files:,} files: "
        + ", ".join(f"{k} {n:,} ({b / MB:,.0f} MB)" for k, (n, b) in meta["home"].items())
        + f"; text {100 * text / home:.0f}% of the bytes"
    )
    print(f"  total {(db + home) / MB:,.0f} MB")
    return db, home


def warm(*paths: Path) -> None:
    """Read everything once, so that every timed process reads from the page cache."""
    for path in paths:
        for dirpath, _, names in os.walk(path) if path.is_dir() else [("", [], [str(path)])]:
            for name in names:
                with open(os.path.join(dirpath, name), "rb") as f:
                    while f.read(1 << 23):
                        pass


def sqlite_copy(source: Path, folder: Path) -> Path:
    """The database copy the plain restic run gets: SQLite's backup API, as gallra's dump."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    target = folder / "gallra.sqlite3"
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()
    return target


# -- running -----------------------------------------------------------------------------------


@dataclass
class Done:
    seconds: float
    stdout: str
    stderr: str
    returncode: int


def run_child(argv: list, env: dict, timeout: float = 900) -> Done:
    os.sync()  # what earlier steps wrote is on disk before the clock starts
    start = time.perf_counter()
    done = subprocess.run([str(a) for a in argv], env=env, capture_output=True, timeout=timeout)
    seconds = time.perf_counter() - start
    return Done(
        seconds,
        done.stdout.decode(errors="replace"),
        done.stderr.decode(errors="replace"),
        done.returncode,
    )


def run_checked(argv: list, env: dict, what: str) -> Done:
    done = run_child(argv, env)
    if done.returncode:
        raise SystemExit(
            f"{what} failed ({done.returncode}):\n{(done.stdout + done.stderr)[-3000:]}"
        )
    return done


def last_json(stdout: str) -> dict:
    for line in reversed(stdout.splitlines()):
        if line.strip().startswith("{"):
            found = json.loads(line)
            if found.get("message_type", "summary") == "summary":
                return found
    return {}


# The gallra side: gallra's command line (or its window step), with timers wrapped around its
# parts where they are defined; every gallra module that already holds one of them by name gets
# the wrapper too, and modules imported later import the wrapper.
SHIM = r"""
import json, os, shutil, sys, time
start = time.perf_counter()
action, out = sys.argv[1], sys.argv[2]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gallra.settings")
import django
django.setup()
import importlib
parts, info = {}, {}
def restic_name(args):
    name = "restic " + args[0] + (" --prune" if "--prune" in args else "")
    tag = args[args.index("--tag") + 1] if "--tag" in args else "gallra"
    return name + ("" if tag == "gallra" else f" ({tag})")
def timed(key, fn):
    def wrapper(*args, **kwargs):
        t = time.perf_counter()
        try:
            result = fn(*args, **kwargs)
        finally:
            name = key(args) if callable(key) else key
            parts[name] = parts.get(name, 0.0) + time.perf_counter() - t
        if name == "restic backup":
            info["restic"] = result
        return result
    return wrapper
def patch(module, name, key):
    module = importlib.import_module(module)
    original = getattr(module, name)
    wrapped = timed(key, original)
    for m in list(sys.modules.values()):
        if getattr(m, "__name__", "").startswith("gallra") and getattr(m, name, None) is original:
            setattr(m, name, wrapped)
patch("gallra.backups.restic", "restic", restic_name)
patch("gallra.backups.dump", "dump_database", "dump")
patch("gallra.backups.dump", "summary", "summary")
patch("gallra.evidence.log", "append", "evidence")
patch("gallra.backups.runs", "run_backup", "total")
patch("gallra.backups.runs", "verify", "total")
shutil.rmtree = timed("remove", shutil.rmtree)
from gallra.backups import runs
info["startup"] = time.perf_counter() - start
code = 0
try:
    if action == "window":
        from django.utils import timezone
        from gallra.policy.loading import policy_for_command
        window = timed("total", runs.apply_window)
        info["forgotten"] = window(policy_for_command(), timezone.now())
    else:
        from gallra.cli import main
        main(["gallra", "backup", action])
except SystemExit as exc:
    code = exc.code or 0
finally:
    info["parts"] = parts
    with open(out, "w") as f:
        json.dump(info, f, default=str)
sys.exit(code)
"""


@dataclass
class Measured:
    seconds: float
    parts: dict = field(default_factory=dict)  # name: seconds
    info: dict = field(default_factory=dict)


def gallra_step(bench: Bench, action: str, repository: Path) -> Measured:
    out = bench.work / f"shim-{action}.json"
    out.unlink(missing_ok=True)
    done = run_child([PYTHON, "-c", SHIM, action, out], bench.gallra_env(repository))
    if done.returncode:
        raise SystemExit(
            f"gallra {action} failed ({done.returncode}):\n{(done.stdout + done.stderr)[-3000:]}"
        )
    info = json.loads(out.read_text())
    parts = info.pop("parts")
    parts["start-up and exit"] = done.seconds - parts.get("total", 0.0)
    return Measured(done.seconds, parts, info)


def new_repository(bench: Bench, name: str) -> Path:
    repository = bench.work / name
    shutil.rmtree(repository, ignore_errors=True)
    run_checked(["restic", "init"], bench.restic_env(repository), "restic init")
    return repository


def restic_backup(bench: Bench, repository: Path, *paths: Path, at: str | None = None) -> Measured:
    args = ["restic", "backup", "--tag", "gallra", "--host", "gallra"]
    if at:
        args += ["--time", at]
    done = run_checked([*args, *paths, "--json"], bench.restic_env(repository), "restic backup")
    return Measured(done.seconds, {}, {"restic": last_json(done.stdout)})


def du(path: Path) -> int:
    return folder_size(path)[1]


# -- the measurements --------------------------------------------------------------------------


def alternate(
    repeat: int,
    plain: Callable[[], Measured],
    gallra: Callable[[], Measured],
) -> tuple[list[Measured], list[Measured]]:
    plains, gallras = [], []
    for r in range(repeat):
        order = [(plain, plains), (gallra, gallras)]
        for run, into in order if r % 2 == 0 else reversed(order):
            into.append(run())
            print(
                f"    {'plain' if into is plains else 'gallra'}: {into[-1].seconds:.2f} s",
                flush=True,
            )
    return plains, gallras


def backups(bench: Bench, repeat: int) -> dict:
    dbcopy = bench.work / "dbcopy"
    state = {}

    def plain() -> Measured:
        state["plain"] = repository = new_repository(bench, "repository-plain")
        sqlite_copy(bench.database, dbcopy)
        warm(dbcopy)
        return restic_backup(bench, repository, dbcopy, bench.home)

    def gallra() -> Measured:
        state["gallra"] = repository = new_repository(bench, "repository-gallra")
        return gallra_step(bench, "run", repository)

    def plain_again() -> Measured:
        sqlite_copy(bench.database, dbcopy)
        warm(dbcopy)
        return restic_backup(bench, state["plain"], dbcopy, bench.home)

    def gallra_again() -> Measured:
        return gallra_step(bench, "run", state["gallra"])

    print("\nfirst backup into a new repository", flush=True)
    first = alternate(repeat, plain, gallra)
    sizes = [du(state["plain"]), du(state["gallra"])]
    print("second backup into the same repository (home unchanged, database again)", flush=True)
    second = alternate(repeat, plain_again, gallra_again)
    sizes += [du(state["plain"]), du(state["gallra"])]
    return {
        "first": first,
        "second": second,
        "sizes": sizes,
        "gallra": state["gallra"],
        "dbcopy": dbcopy,
    }


def churn(folder: Path, scale: float, seed: int, day: int) -> int:
    """A day's changes: about --scale x 40 MB of new files, half text, half random."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    rng = random.Random(f"{seed}-churn-{day}")
    text = Text(random.Random(f"{seed}-churn-text-{day}"))
    written, budget, n = 0, int(40 * MB * scale), 0
    while written < budget:
        size = min(log_uniform(rng, 50_000, 4 * MB), budget - written)
        n += 1
        data = text.make(size) if n % 2 else rng.randbytes(size)
        (folder / f"dag-{day}-{n}.{'txt' if n % 2 else 'bin'}").write_bytes(data)
        written += size
    return written


def window(
    bench: Bench, gallra_repository: Path, dbcopy: Path, scale: float, seed: int, repeat: int
) -> dict:
    template = bench.work / "window-template"
    shutil.rmtree(template, ignore_errors=True)
    shutil.copytree(gallra_repository, template)
    now = datetime.now(UTC)
    expired, changed = [], 0
    for days in WINDOW_DAYS:
        changed += churn(bench.work / "churn", scale, seed, days)
        at = (now - timedelta(days=days)).strftime("%Y-%m-%d %H:%M:%S")
        made = restic_backup(bench, template, dbcopy, bench.home, bench.work / "churn", at=at)
        if days > 7:
            expired.append(made.info["restic"]["snapshot_id"])
    shutil.rmtree(bench.work / "churn", ignore_errors=True)
    listed = run_checked(
        ["restic", "snapshots", "--json"], bench.restic_env(template), "restic snapshots"
    )
    total = len(json.loads(listed.stdout))
    before = du(template)
    daily = changed / len(WINDOW_DAYS) / MB
    print(
        f"\nwindow step: {total} snapshots, {len(WINDOW_DAYS)} of them back-dated "
        f"({', '.join(map(str, WINDOW_DAYS))} days ago, each with {daily:.0f} MB changed); "
        f"{len(expired)} past the 7-day window; repository {before / MB:,.0f} MB",
        flush=True,
    )
    work = bench.work / "window"
    state = {}

    def fresh() -> Path:
        shutil.rmtree(work, ignore_errors=True)
        shutil.copytree(template, work)
        warm(work)
        return work

    def plain() -> Measured:
        repository = fresh()
        env = bench.restic_env(repository)
        forget = run_checked(["restic", "forget", *expired], env, "restic forget")
        prune = run_checked(["restic", "prune", "--max-unused", "0"], env, "restic prune")
        state["after"] = du(repository)
        return Measured(
            forget.seconds + prune.seconds,
            {"restic forget": forget.seconds, "restic prune": prune.seconds},
        )

    def gallra() -> Measured:
        repository = fresh()
        m = gallra_step(bench, "window", repository)
        state["after"] = du(repository)
        state["forgotten"] = len(m.info.get("forgotten") or [])
        return m

    plains, gallras = alternate(repeat, plain, gallra)
    shutil.rmtree(template, ignore_errors=True)
    return {
        "plain": plains,
        "gallra": gallras,
        "before": before,
        "after": state["after"],
        "forgotten": state["forgotten"],
        "expired": len(expired),
        "total": total,
        "repository": work,
    }


def drill(bench: Bench, repository: Path, repeat: int) -> dict:
    env = bench.restic_env(repository)
    listed = run_checked(
        ["restic", "snapshots", "--tag", "gallra", "--json"], env, "restic snapshots"
    )
    newest = max(json.loads(listed.stdout), key=lambda s: s["time"])["id"]  # all in UTC
    target = bench.work / "restore"
    print(f"\nrestore drill (newest snapshot {newest[:8]})", flush=True)

    def plain() -> Measured:
        shutil.rmtree(target, ignore_errors=True)
        check = run_checked(["restic", "check"], env, "restic check")
        restore = run_checked(
            ["restic", "restore", newest, "--target", target], env, "restic restore"
        )
        shutil.rmtree(target, ignore_errors=True)
        return Measured(
            check.seconds + restore.seconds,
            {"restic check": check.seconds, "restic restore": restore.seconds},
        )

    def database_only() -> Measured:
        shutil.rmtree(target, ignore_errors=True)
        restore = run_checked(
            ["restic", "restore", newest, "--target", target, "--include", "gallra.sqlite3"],
            env,
            "restic restore",
        )
        restored = list(target.rglob("gallra.sqlite3"))
        shutil.rmtree(target, ignore_errors=True)
        return Measured(restore.seconds, {}, {"files": len(restored)})

    def gallra() -> Measured:
        return gallra_step(bench, "verify", repository)

    plains, gallras = alternate(repeat, plain, gallra)
    print("    database only:", end=" ", flush=True)
    only = [database_only() for _ in range(repeat)]
    print(" ".join(f"{m.seconds:.2f} s" for m in only), flush=True)
    return {"plain": plains, "gallra": gallras, "database_only": only}


# -- the table ---------------------------------------------------------------------------------


def median(runs: list[Measured]) -> float:
    return statistics.median(m.seconds for m in runs)


def median_parts(runs: list[Measured]) -> dict[str, float]:
    """The parts of the median run (the lower of the middle two for an even count)."""
    ordered = sorted(runs, key=lambda m: m.seconds)
    middle = ordered[(len(ordered) - 1) // 2]
    return {n: seconds for n, seconds in middle.parts.items() if n != "total"}


PART_NAMES = {
    "start-up and exit": "start-up and exit (Python, Django, policy)",
    "dump": "database dump (SQLite backup API)",
    "summary": "summary of the dump (rows, checksum of every row)",
    "remove": "removing the staging / scratch folder",
    "evidence": "evidence entry",
}


def row(name: str, runs: list[Measured], note: str = "") -> None:
    each = " ".join(f"{m.seconds:.2f}" for m in runs)
    print(f"  {name:52} {median(runs):8.2f}   {each:18} {note}")


def parts_rows(runs: list[Measured]) -> None:
    parts = median_parts(runs)
    for name, seconds in parts.items():
        print(f"      {PART_NAMES.get(name, name):48} {seconds:8.2f}")
    rest = sorted(m.seconds for m in runs)[(len(runs) - 1) // 2] - sum(parts.values())
    if rest < 0:  # parts that run side by side (threads) add up to more than the run
        print(f"      {'overlap (parts run side by side)':48} {rest:8.2f}")
    else:
        print(f"      {'rest (records, policy, Django)':48} {rest:8.2f}")


def restic_note(runs: list[Measured]) -> str:
    """restic's own summary: files of the last run; data added by each run."""
    found = [m.info.get("restic") or {} for m in runs]
    if not found[-1]:
        return ""
    s = found[-1]
    added = " ".join(f"{x.get('data_added', 0) / MB:,.0f}" for x in found)
    return (
        f"files new {s.get('files_new', 0):,}, changed {s.get('files_changed', 0):,}, "
        f"unmodified {s.get('files_unmodified', 0):,}; "
        f"{s.get('total_bytes_processed', 0) / MB:,.0f} MB read; MB added {added}"
    )


def report(db: int, home: int, version: str, repeat: int, b: dict, w: dict, d: dict) -> None:
    print(
        f"\n{version}; {(db + home) / MB:,.0f} MB of data: database {db / MB:,.0f} MB, "
        f"home {home / MB:,.0f} MB"
    )
    print(
        f"{repeat} runs of each, alternating which goes first; median seconds, each "
        "process's wall time; indented: the parts of the median run\n"
    )
    head = f"  {'step':52} {'seconds':>8}   {'runs':18} notes"
    print(head)
    print("-" * len(head))
    for key, title in (
        ("first", "first backup into a new repository"),
        ("second", "second backup (home unchanged, database again)"),
    ):
        plains, gallras = b[key]
        print(title)
        row("restic backup (plain)", plains, restic_note(plains))
        row("gallra backup run", gallras, restic_note(gallras))
        parts_rows(gallras)
        ratio = median(gallras) / median(plains)
        print(f"  {'gallra / plain':52} {ratio:7.2f}x")
    print(
        f"window step: forget {w['expired']} of {w['total']} snapshots, prune --max-unused 0 "
        f"(repository {w['before'] / MB:,.0f} -> {w['after'] / MB:,.0f} MB)"
    )
    row("restic forget + restic prune (plain)", w["plain"])
    for name, seconds in median_parts(w["plain"]).items():
        print(f"      {name:48} {seconds:8.2f}")
    row("gallra apply_window", w["gallra"], f"{w['forgotten']} forgotten")
    parts_rows(w["gallra"])
    print("restore drill")
    row("restic check + restic restore (plain)", d["plain"])
    for name, seconds in median_parts(d["plain"]).items():
        print(f"      {name:48} {seconds:8.2f}")
    row("restic restore --include gallra.sqlite3 (plain)", d["database_only"])
    row("gallra backup verify", d["gallra"])
    parts_rows(d["gallra"])
    ratio = median(b["first"][1]) / median(b["first"][0])
    verdict = "met" if ratio <= TARGET else "NOT met"
    print(
        f"\ngallra's backup step: {median(b['first'][1]):.2f} s against plain restic's "
        f"{median(b['first'][0]):.2f} s = {ratio:.2f}x (target at most {TARGET:g}x: "
        f"{verdict})"
    )
    ratio = median(b["second"][1]) / median(b["second"][0])
    print(
        f"second backup: {median(b['second'][1]):.2f} s against {median(b['second'][0]):.2f} "
        f"s = {ratio:.2f}x"
    )
    print(
        f"repository after the first backup: plain {b['sizes'][0] / MB:,.0f} MB, gallra "
        f"{b['sizes'][1] / MB:,.0f} MB; after {repeat} more: plain {b['sizes'][2] / MB:,.0f} MB, "
        f"gallra {b['sizes'][3] / MB:,.0f} MB"
    )


def code_state() -> str:
    """The commit measured, and whether gallra's backup code differs from it."""
    import gallra

    src = Path(gallra.__file__).resolve().parent
    git = ["git", "-C", str(src)]
    head = subprocess.run([*git, "log", "-1", "--format=%h %cs"], capture_output=True, text=True)
    if head.returncode:
        return f"{src} (not a git checkout)"
    changed = subprocess.run(
        [*git, "status", "--porcelain", "--", "backups", "evidence"], capture_output=True, text=True
    ).stdout.split("\n")
    dirty = [line[3:] for line in changed if line.strip()]
    return f"{src}, commit {head.stdout.strip()}" + (
        f"; changed since: {', '.join(dirty)}" if dirty else ""
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1 = about 1 GB of data")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the repositories in work/ (they are removed by default)",
    )
    args = parser.parse_args()
    if not shutil.which("restic"):
        raise SystemExit("restic is not installed (Debian: apt-get install restic)")
    version = subprocess.run(["restic", "version"], capture_output=True, text=True).stdout.strip()
    print(f"gallra: {code_state()}")

    bench = Bench(
        CACHE
        if args.scale == 1 and args.seed == 1
        else CACHE.with_name(f"{CACHE.name}-{args.scale:g}-{args.seed}")
    )
    meta = prepare(bench, args.scale, args.seed)
    shutil.rmtree(bench.work, ignore_errors=True)
    shutil.rmtree(bench.data / "restic-cache", ignore_errors=True)
    bench.work.mkdir()
    for leftover in [*bench.data.glob("gallra-backup-*"), *bench.data.glob("gallra-restore-*")]:
        shutil.rmtree(leftover, ignore_errors=True)
    db, home = describe(bench, meta)
    print(f"{version}; reading all data once (page cache) ...", flush=True)
    warm(bench.database, bench.home)
    start = time.perf_counter()
    try:
        b = backups(bench, args.repeat)
        w = window(bench, b["gallra"], b["dbcopy"], args.scale, args.seed, args.repeat)
        d = drill(bench, w["repository"], args.repeat)
    finally:
        if not args.keep:
            shutil.rmtree(bench.work, ignore_errors=True)
            shutil.rmtree(bench.data / "restic-cache", ignore_errors=True)
    print(f"\nmeasured in {time.perf_counter() - start:.0f} s")
    report(db, home, version, args.repeat, b, w, d)


if __name__ == "__main__":
    main()
