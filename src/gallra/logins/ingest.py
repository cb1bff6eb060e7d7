"""Storing login attempts: from log files (`ingest`, `follow`) and from web applications.

A file is read in batches; each batch's events and the file's new offset are written in
one transaction, so a run killed halfway is finished by the next one without storing
anything twice, and reading a file (or its rotated copy) again stores nothing. Lines that
are not events are counted by category and dropped; no line is ever stored.

`ingest` parses and anonymises the batches in worker processes (one per CPU by default),
the main process alone writes to the database, batch after batch in the file's order: what
is stored is what one process stores, and a killed run leaves the same whole batches.
"""

from __future__ import annotations

import gzip
import hashlib
import hmac
import io
import multiprocessing
import os
import pickle
import threading
from collections import Counter, deque
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from gallra.logins import partitions, sshd
from gallra.logins.models import LoginEvent, LogSource
from gallra.logins.sealing import (
    BadAddress,
    Keys,
    MissingKey,
    Network,
    Sealer,
    aad_for,
    month_of,
)
from gallra.policy.model import Policy
from gallra.registry.models import Account

BATCH_LINES = 20_000
BATCH_BYTES = 8 << 20  # a batch of long lines ends sooner: what is held stays small
BLOCK = 1 << 20  # read at a time
AHEAD = 1  # batches waiting for each worker process (they hold memory)
TOO_OLD = "older than the retention period"
IN_FUTURE = "malformed: more than a day in the future"
TOO_LONG = "malformed: line longer than 1 MiB"
# sshd's lines are a few hundred bytes and journald's JSON of one entry a few kB; a longer
# line is nobody's login and is skipped without being held in memory whole.
MAX_LINE = 1 << 20
FUTURE = timedelta(days=1)  # how far ahead of our clock a sender's clock may run
TAIL_BYTES = 256
WRITER_LIFETIME = timedelta(hours=1)
COLUMNS = [
    "at",
    "outcome",
    "method",
    "service",
    "host",
    "account",
    "pseudonym",
    "network",
    "country",
    "sealed",
    "sealed_with",
]


@dataclass
class Report:
    """What a run read and stored; `skipped` counts lines by the category they fell under."""

    files: int = 0
    lines: int = 0
    already_read: int = 0  # bytes of files read before, not read again
    events: int = 0
    skipped: Counter = field(default_factory=Counter)
    alerts: int = 0
    first_at: datetime | None = None  # the span of what was stored, for detection
    last_at: datetime | None = None

    def stored(self, rows: list[tuple]) -> None:
        if rows:
            self._span(len(rows), min(r[0] for r in rows), max(r[0] for r in rows))

    def added(self, batch: Parsed) -> None:
        """A batch stored by `ingest`."""
        self.skipped.update(batch.skipped)
        if batch.rows:
            self._span(len(batch.rows), batch.first_at, batch.last_at)

    def _span(self, events: int, first: datetime, last: datetime) -> None:
        self.events += events
        self.first_at = first if self.first_at is None else min(first, self.first_at)
        self.last_at = last if self.last_at is None else max(last, self.last_at)

    def as_dict(self) -> dict:
        return {
            "files": self.files,
            "lines": self.lines,
            "events": self.events,
            "already_read_bytes": self.already_read,
            "skipped": dict(sorted(self.skipped.items())),
            "alerts": self.alerts,
        }


class EventWriter:
    """Anonymises attempts and writes them; one per run (it holds the run's sealing keys)."""

    def __init__(self, policy: Policy, now: datetime | None = None) -> None:
        self.now = now or timezone.now()
        self.sealer = Sealer(self.now)
        self.network = Network(policy.logins.ipv4_prefix, policy.logins.ipv6_prefix)
        self.accounts = set(Account.objects.values_list("username", flat=True))
        today = self.now.astimezone(UTC).date()
        self.oldest = oldest_kept(policy, today)
        self.latest = self.now + FUTURE
        self.last_sealed = last_sealed_month(policy, today)
        self._months: dict[tuple[int, int], date] = {}

    def month(self, at: datetime) -> date:
        """The month of `at` (in UTC)."""
        month = self._months.get((at.year, at.month))
        if month is None:
            month = self._months[(at.year, at.month)] = date(at.year, at.month, 1)
        return month

    def row(self, attempt: sshd.Attempt, service: str) -> tuple | str:
        """The stored form of one attempt, or the category it is skipped under."""
        at = attempt.at  # in UTC
        if at < self.oldest:
            return TOO_OLD
        if at > self.latest:  # a forged or broken time: it would outlive every purge
            return IN_FUTURE
        try:
            network, country, address = self.network.of(attempt.address, attempt.method == "pam")
        except BadAddress:
            return sshd.BAD_ADDRESS
        month = self.month(at)
        sealable = month >= self.last_sealed and month not in self.sealer.destroyed
        username = attempt.username
        if username in self.accounts:
            account, pseudonym = username, ""
        else:
            account = ""
            pseudonym = self.sealer.pseudonym(month, username) if username and sealable else ""
        if sealable:
            sealed, key_id = self.sealer.seal(month, address, aad_for(at, network))
        else:  # past the reveal period already: anonymous from the start
            sealed, key_id = b"", 0
        host = attempt.host if len(attempt.host) <= 255 and attempt.host.isprintable() else ""
        return (
            at,
            attempt.outcome,
            attempt.method[:40],
            service,
            host,
            account,
            pseudonym,
            network,
            country,
            sealed,
            key_id,
        )

    def write(self, rows: list[tuple], months: set[date] | None = None) -> None:
        """Insert rows, as `row` made them or as `parse_batch` did (with the months of their
        times); call inside a transaction."""
        if not rows:
            return
        partitions.ensure_months(months if months is not None else {month_of(r[0]) for r in rows})
        table = LoginEvent._meta.db_table
        names = ", ".join(COLUMNS)
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                raw = cursor.cursor  # psycopg's own cursor: COPY is the fast path
                with raw.copy(f"COPY {table} ({names}) FROM STDIN") as copy:  # noqa: S608
                    for r in rows:
                        copy.write_row(r)
            else:  # times as Django stores them (naive UTC text), or comparisons fail
                if isinstance(rows[0][0], datetime):
                    rows = [(r[0].replace(tzinfo=None).isoformat(" "), *r[1:]) for r in rows]
                marks = ", ".join(["%s"] * len(COLUMNS))
                cursor.executemany(
                    f"INSERT INTO {table} ({names}) VALUES ({marks})",  # noqa: S608
                    rows,
                )


def oldest_kept(policy: Policy, today: date) -> datetime:
    """Events before this are past retention on `today` (UTC midnight of the first kept day)."""
    keep = policy.login_rule().keep_for
    # The earliest date whose retention has not run out by today.
    day = today - timedelta(days=1)
    while keep.after(day) > today:
        day -= timedelta(days=31)
    while keep.after(day) <= today:
        day += timedelta(days=1)
    return datetime.combine(day, datetime.min.time(), UTC)


def last_sealed_month(policy: Policy, today: date) -> date:
    """The oldest month whose addresses may still be revealed on `today`.

    A month's keys live `sealed_ip_key_lifetime` from the month's first day, so no address
    stays revealable longer than that.
    """
    lifetime = policy.logins.sealed_ip_key_lifetime
    month = date(today.year, today.month, 1)
    while lifetime.after(month) > today:
        month = date(month.year - (month.month == 1), (month.month - 2) % 12 + 1, 1)
    return partitions.next_month(month)


# --- files -----------------------------------------------------------------------------------


def _open(path: Path) -> io.BufferedIOBase:
    f = open(path, "rb")  # noqa: SIM115 (returned to the caller, who closes it)
    if f.read(2) == b"\x1f\x8b":
        f.close()
        return gzip.open(path, "rb")  # type: ignore[return-value]
    f.seek(0)
    return f


def _digest(data: bytes) -> str:
    return hmac.new(settings.GALLRA_KEYS.pseudonym_key, data, hashlib.sha256).hexdigest()


def _skip_to(f, offset: int, length: int) -> bytes:
    """Move to `offset` and return the `length` bytes before it (read, for gzip files)."""
    before = max(0, offset - length)
    if isinstance(f, gzip.GzipFile):
        remaining = before
        while remaining:
            chunk = f.read(min(remaining, 1 << 20))
            if not chunk:
                break
            remaining -= len(chunk)
    else:
        f.seek(before)
    return f.read(offset - before)


class LogFile:
    """One log file being read: where it starts, and its format."""

    def __init__(self, path: Path, zone: tzinfo) -> None:
        self.path = path
        self.zone = zone
        mtime = datetime.fromtimestamp(path.stat().st_mtime, UTC)
        self.times = sshd.Timestamps(zone, mtime)
        self.journal = False
        self.source: LogSource | None = None

    def open_at_start(self, report: Report):
        """The open file, positioned after what was read before; None while it is empty."""
        with _open(self.path) as f:
            first = f.readline(MAX_LINE)
        if not first.endswith(b"\n") and len(first) < MAX_LINE:
            return None
        self.journal = first.lstrip().startswith(b"{")
        fingerprint = _digest(first)
        self.source = LogSource.objects.filter(fingerprint=fingerprint).first()
        if self.source is None:
            self.source = LogSource(fingerprint=fingerprint, path=str(self.path), offset=0)
        f = _open(self.path)
        offset = self.source.offset
        if offset:
            length, _, digest = self.source.tail.partition(":")
            if length.isdigit() and _digest(_skip_to(f, offset, int(length))) == digest:
                report.already_read += offset
                return f
            # Another file that only starts the same: read it whole.
            f.close()
            f = _open(self.path)
            self.source.offset = 0
        return f

    def parse(self, line: bytes) -> list[sshd.Attempt] | str:
        text = line.decode("utf-8", "surrogateescape")
        if self.journal:
            return sshd.parse_journal_entry(text)
        return sshd.parse_line(text, self.times)

    def commit_offset(self, offset: int, tail: bytes, lines: int, now: datetime) -> None:
        source = self.source
        source.offset, source.path = offset, str(self.path)
        source.tail = f"{len(tail)}:{_digest(tail)}"
        source.lines += lines
        source.updated = now
        source.save()


@dataclass
class Batch:
    """Lines read from a file, and where the file stands after them."""

    lines: list[bytes]
    offset: int
    tail: bytes  # the last line's end, to know the file again
    count: int  # lines read, overlong ones included
    too_long: int


@dataclass
class Parsed:
    """A batch's events in their stored form, and the lines skipped by category."""

    rows: list[tuple]
    months: set[date]
    first_at: datetime | None
    last_at: datetime | None
    skipped: Counter


def batches(f, log: LogFile, tick: Callable[[int], None] | None = None):
    """Batches of complete lines from `f` to its end (BATCH_LINES lines or BATCH_BYTES),
    without their newline.

    Read a block at a time. A line still being written is left for the next read (`f` is
    put back to its start); a line longer than MAX_LINE is skipped in pieces and counted,
    never held whole. `tick(offset)` after each block: how far into the (uncompressed) file
    it is.
    """
    offset = log.source.offset
    lines: list[bytes] = []
    size = count = too_long = 0
    last = b""
    rest = b""  # the start of a line whose end is not read yet
    while block := f.read(BLOCK):
        parts = (rest + block).split(b"\n")
        rest = parts.pop()
        while parts:
            take = parts[: BATCH_LINES - count]
            del parts[: len(take)]
            read = sum(map(len, take)) + len(take)
            offset += read
            size += read
            count += len(take)
            last = take[-1] + b"\n"
            if max(map(len, take)) >= MAX_LINE:  # its newline makes it longer than MAX_LINE
                kept = [line for line in take if len(line) < MAX_LINE]
                too_long += len(take) - len(kept)
                take = kept
            lines += take
            if count >= BATCH_LINES or size >= BATCH_BYTES:
                yield Batch(lines, offset, last[-TAIL_BYTES:], count, too_long)
                lines, size, count, too_long = [], 0, 0, 0
        if len(rest) >= MAX_LINE:
            skipped = _skip_line(f)
            if skipped is None:  # a long line still being written
                break
            length, tail = skipped
            offset += len(rest) + length
            last = (rest + tail)[-TAIL_BYTES:]
            count += 1
            too_long += 1
            rest = b""
        if tick is not None:
            tick(offset)
    if rest:
        f.seek(f.tell() - len(rest))
    if count:
        yield Batch(lines, offset, last[-TAIL_BYTES:], count, too_long)


def parse_batch(
    lines: list[bytes], log: LogFile, writer: EventWriter, service: str, text_times: bool
) -> Parsed:
    """Parse and anonymise lines. `text_times`: times as SQLite stores them (naive UTC text).

    Raises MissingKey inside a worker process that lacks a month's key.
    """
    rows: list[tuple] = []
    skipped: Counter = Counter()
    months: set[date] = set()
    first = last = None
    parse, row = log.parse, writer.row
    for line in lines:
        parsed = parse(line)
        if type(parsed) is str:
            skipped[parsed] += 1
            continue
        for attempt in parsed:
            stored = row(attempt, service)
            if type(stored) is str:
                skipped[stored] += 1
                continue
            at = stored[0]
            if first is None:
                first = last = at
            elif at < first:
                first = at
            elif at > last:
                last = at
            if text_times:  # SQLite: one table, no partition of a month to make
                stored = (at.replace(tzinfo=None).isoformat(" "), *stored[1:])
            else:
                months.add(writer.month(at))
            rows.append(stored)
        if type(parsed) is sshd.Capped:
            skipped[parsed.skipped] += 1
    return Parsed(rows, months, first, last, skipped)


def read_lines(
    f,
    log: LogFile,
    writer: EventWriter,
    report: Report,
    service: str = "ssh",
    tick: Callable[[int], None] | None = None,
    processes: int = 1,
) -> int:
    """Read complete lines from `f` to its end, storing batch after batch. Returns lines read.

    With `processes` > 1 the batches are parsed in that many worker processes, started only
    for a file of more than one batch; the results are stored in the file's order.
    """
    text_times = connection.vendor != "postgresql"
    count = 0
    pool = None
    pending: deque = deque()  # (batch, its result to come) in the file's order

    def store() -> None:
        _store(*pending.popleft(), log, writer, service, text_times, report)

    try:
        for batch in batches(f, log, tick):
            count += batch.count
            if processes > 1 and pool is None and pending:
                store()  # the first batch, here: its months' keys are made before the workers'
                pool = _pool(processes, log, writer, service, text_times)
            if pool is None:
                pending.append((batch, None))
                if processes == 1:
                    store()
                continue
            start = writer.sealer.reserve(len(batch.lines) * (sshd.MAX_REPEATS + 1))
            pending.append((batch, pool.submit(_work, batch.lines, writer.sealer.keys(), start)))
            if len(pending) > AHEAD * processes:
                store()
        while pending:
            store()
        if pool is not None:
            pool.shutdown()
    finally:
        if pool is not None:  # after an error: the workers stop after the batch they parse
            pool.shutdown(wait=False, cancel_futures=True)
    report.lines += count
    return count


def _store(batch, result, log, writer, service, text_times, report) -> None:
    """Store one batch's events and the file's offset after it, in one transaction."""
    done = result.result() if result is not None else None
    if done is None:  # not sent to a worker, or a month's key was missing there
        parsed = parse_batch(batch.lines, log, writer, service, text_times)
    else:
        parsed = pickle.loads(done)  # noqa: S301 (our own worker's, through a pipe)
    if batch.too_long:
        parsed.skipped[TOO_LONG] += batch.too_long
    with transaction.atomic():
        writer.write(parsed.rows, parsed.months)
        log.commit_offset(batch.offset, batch.tail, batch.count, writer.now)
    report.added(parsed)


def _skip_line(f) -> tuple[int, bytes] | None:
    """Read past the end of an overlong line: (bytes read, its last bytes), or None (and `f`
    back where it was) when the file ends before the line does."""
    start, length, tail = f.tell(), 0, b""
    while True:
        piece = f.readline(MAX_LINE)
        if not piece:
            f.seek(start)
            return None
        length += len(piece)
        tail = (tail + piece)[-TAIL_BYTES:]
        if piece.endswith(b"\n"):
            return length, tail
        if len(piece) < MAX_LINE:  # the end of the file, mid-line
            f.seek(start)
            return None


# A worker process's parser and writer (`_pool`).
_worker: tuple = ()


def _pool(processes: int, log: LogFile, writer: EventWriter, service: str, text_times: bool):
    """Worker processes that parse batches as `parse_batch` in this one would.

    Forked: each starts with this process's parser, policy and caches, without pickling
    them or starting Django again. A worker never uses the database connection it inherits.
    """
    return ProcessPoolExecutor(
        processes,
        multiprocessing.get_context("fork"),
        _start_worker,
        (log, writer, service, text_times),
    )


def _start_worker(log: LogFile, writer: EventWriter, service: str, text_times: bool) -> None:
    global _worker
    writer.sealer = Keys(writer.sealer.destroyed)  # this process's copy of the writer
    _worker = (log, writer, service, text_times)


def _work(lines: list[bytes], keys: tuple, start: int) -> bytes | None:
    """A batch parsed in a worker, pickled: the main process holds the batches that wait
    for their turn as a few MB of bytes each, not as rows (several times that). None when
    it needs a key only the main process can make."""
    log, writer, service, text_times = _worker
    writer.sealer.update(keys, start)
    try:
        parsed = parse_batch(lines, log, writer, service, text_times)
    except MissingKey:
        return None
    return pickle.dumps(parsed, pickle.HIGHEST_PROTOCOL)


def ingest_files(
    paths: Iterable[Path],
    policy: Policy,
    zone: tzinfo | None = None,
    now: datetime | None = None,
    progress: Callable[[int, int | None], None] | None = None,
    processes: int | None = None,
) -> Report:
    """Read each file from where it was last read to its end.

    `progress(bytes read, bytes in all files)` now and then, for the command's bar on a
    terminal; the total is None when a file is compressed (its size says nothing then).
    `processes`: how many worker processes parse (default: one per CPU); 1 parses here.
    """
    zone = zone or ZoneInfo(settings.TIME_ZONE)
    processes = processes or cpu_count()
    writer = EventWriter(policy, now)
    report = Report()
    paths = [Path(p) for p in paths]
    sizes = [p.stat().st_size for p in paths] if progress else []
    total = None if any(_compressed(p) for p in paths if progress) else sum(sizes)
    before = 0
    for n, path in enumerate(paths):
        log = LogFile(path, zone)
        f = log.open_at_start(report)
        report.files += 1
        if f is not None:
            tick = None
            if progress is not None:

                def tick(offset: int, start: int = before) -> None:
                    progress(start + offset, total)

            with f:
                read_lines(f, log, writer, report, tick=tick, processes=processes)
        if progress is not None:
            before += sizes[n]
            progress(before, total)
    return report


def cpu_count() -> int:
    """The CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _compressed(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(2) == b"\x1f\x8b"


def follow(
    path: Path,
    policy: Policy,
    stop: threading.Event,
    poll: float = 1.0,
    zone: tzinfo | None = None,
    on_batch=None,
) -> Report:
    """Read a growing log until `stop` is set, across rotation (rename or truncate).

    The writer is made again every hour and at each rotation, so that new registry accounts,
    a new month and the retention and reveal periods of the day are taken into account.
    """
    zone = zone or ZoneInfo(settings.TIME_ZONE)
    report = Report()
    writer = None
    f = log = None
    try:
        while not stop.is_set():
            if writer is None or timezone.now() - writer.now > WRITER_LIFETIME:
                writer = EventWriter(policy)
            if f is None and path.exists():
                log = LogFile(path, zone)
                f = log.open_at_start(report)
                if f is not None:
                    report.files += 1
                    inode = os.fstat(f.fileno()).st_ino if hasattr(f, "fileno") else None
            if f is not None:
                read_lines(f, log, writer, report)
                if on_batch and report.first_at is not None:
                    on_batch(report)
                    report.first_at = report.last_at = None
                rotated = _rotated(path, inode, f)
                if rotated:
                    read_lines(f, log, writer, report)  # what was written before the rename
                    f.close()
                    f = writer = None
                    continue
            stop.wait(poll)
    finally:
        if f is not None:
            f.close()
    return report


def _rotated(path: Path, inode, f) -> bool:
    try:
        now = path.stat()
    except FileNotFoundError:
        return True
    if now.st_ino != inode:
        return True
    return now.st_size < f.tell()  # truncated in place (copytruncate)
