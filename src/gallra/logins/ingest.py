"""Storing login attempts: from log files (`ingest`, `follow`) and from web applications.

A file is read in batches; each batch's events and the file's new offset are written in
one transaction, so a run killed halfway is finished by the next one without storing
anything twice, and reading a file (or its rotated copy) again stores nothing. Lines that
are not events are counted by category and dropped; no line is ever stored.
"""

from __future__ import annotations

import gzip
import hashlib
import hmac
import io
import os
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from gallra.logins import partitions, sshd
from gallra.logins.models import LoginEvent, LogSource
from gallra.logins.sealing import BadAddress, Network, Sealer, aad_for, month_of
from gallra.policy.model import Policy
from gallra.registry.models import Account

BATCH_LINES = 20_000
TOO_OLD = "older than the retention period"
IN_FUTURE = "malformed: more than a day in the future"
TOO_LONG = "malformed: line longer than 1 MiB"
# sshd's lines are a few hundred bytes and journald's JSON of one entry a few kB; a longer
# line is nobody's login and is skipped without being held in memory whole.
MAX_LINE = 1 << 20
TICK_LINES = 5_000  # lines read between two calls of a progress callback
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
        if not rows:
            return
        self.events += len(rows)
        first, last = min(r[0] for r in rows), max(r[0] for r in rows)
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
        month = self._months.get((at.year, at.month))
        if month is None:
            month = self._months[(at.year, at.month)] = date(at.year, at.month, 1)
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

    def write(self, rows: list[tuple]) -> None:
        """Insert rows; call inside a transaction."""
        if not rows:
            return
        partitions.ensure_months({month_of(r[0]) for r in rows})
        table = LoginEvent._meta.db_table
        names = ", ".join(COLUMNS)
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                raw = cursor.cursor  # psycopg's own cursor: COPY is the fast path
                with raw.copy(f"COPY {table} ({names}) FROM STDIN") as copy:  # noqa: S608
                    for r in rows:
                        copy.write_row(r)
            else:  # times as Django stores them (naive UTC text), or comparisons fail
                marks = ", ".join(["%s"] * len(COLUMNS))
                cursor.executemany(
                    f"INSERT INTO {table} ({names}) VALUES ({marks})",  # noqa: S608
                    [(r[0].replace(tzinfo=None).isoformat(" "), *r[1:]) for r in rows],
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


def read_lines(
    f,
    log: LogFile,
    writer: EventWriter,
    report: Report,
    service: str = "ssh",
    tick: Callable[[int], None] | None = None,
) -> int:
    """Read complete lines from `f` to its end, storing in batches. Returns lines read.

    A line still being written is left for the next read (`f` is put back to its start); a
    line longer than MAX_LINE is skipped in pieces and counted, never held whole.
    `tick(offset)` every TICK_LINES lines: how far into the (uncompressed) file it is.
    """
    offset = log.source.offset
    rows: list[tuple] = []
    last = b""
    count = 0
    in_batch = 0
    while True:
        line = f.readline(MAX_LINE)
        if not line.endswith(b"\n"):
            if len(line) < MAX_LINE:  # the end, or a line still being written
                if line:
                    f.seek(f.tell() - len(line))
                break
            rest = _skip_line(f)
            if rest is None:  # a long line still being written
                f.seek(f.tell() - len(line))
                break
            length, tail = rest
            offset += len(line) + length
            last = (line + tail)[-TAIL_BYTES:]
            count += 1
            in_batch += 1
            report.skipped[TOO_LONG] += 1
            continue
        offset += len(line)
        last = line
        count += 1
        in_batch += 1
        if tick is not None and count % TICK_LINES == 0:
            tick(offset)
        parsed = log.parse(line)
        if isinstance(parsed, str):
            report.skipped[parsed] += 1
        else:
            for attempt in parsed:
                row = writer.row(attempt, service)
                if isinstance(row, str):
                    report.skipped[row] += 1
                else:
                    rows.append(row)
            if type(parsed) is sshd.Capped:
                report.skipped[parsed.skipped] += 1
        if in_batch >= BATCH_LINES:
            _flush(log, writer, rows, offset, last[-TAIL_BYTES:], in_batch, report)
            rows, in_batch = [], 0
    if in_batch:
        _flush(log, writer, rows, offset, last[-TAIL_BYTES:], in_batch, report)
    report.lines += count
    return count


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


def _flush(log, writer, rows, offset, tail, lines, report) -> None:
    with transaction.atomic():
        writer.write(rows)
        log.commit_offset(offset, tail, lines, writer.now)
    report.stored(rows)


def ingest_files(
    paths: Iterable[Path],
    policy: Policy,
    zone: tzinfo | None = None,
    now: datetime | None = None,
    progress: Callable[[int, int | None], None] | None = None,
) -> Report:
    """Read each file from where it was last read to its end.

    `progress(bytes read, bytes in all files)` now and then, for the command's bar on a
    terminal; the total is None when a file is compressed (its size says nothing then).
    """
    zone = zone or ZoneInfo(settings.TIME_ZONE)
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
                read_lines(f, log, writer, report, tick=tick)
        if progress is not None:
            before += sizes[n]
            progress(before, total)
    return report


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
