"""Reading sshd's login events out of auth.log lines and journald's JSON export.

A line yields zero or more `Attempt`s (a `message repeated N times` line stands for N), or
the name of the category it was skipped under. Categories are reported to the operator in
counts; the line itself is never kept, since it carries the address and often a password
typed into the user name.

auth.log timestamps come in three shapes: classic syslog without a year
(`Nov  5 03:14:15`), the same with a year (`Nov  5 2026 03:14:15` or `2026 Nov  5 ...`),
and RFC 3339 (`2026-11-05T03:14:15.123456+01:00`, rsyslog's high-precision format, the
default on Debian 12 and Ubuntu 24.04). Without a year it is inferred from a reference
time (the file's modification time): the latest year that does not put the line more than
a day after it.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta, tzinfo
from typing import NamedTuple

# What a skipped line was. "other" lines are no concern of gallra's (cron, sudo, sshd's own
# session bookkeeping); the rest are lines that should have been events and were not.
OTHER = "other"
NOT_LOGIN = "sshd, not a login event"
NO_TIMESTAMP = "malformed: no timestamp"
BAD_ADDRESS = "malformed: not an IP address"
BAD_LINE = "malformed: unrecognised sshd line"
BAD_JSON = "malformed: not a journal JSON entry"
BAD_ENCODING = "malformed: not text"

SSHD_PROGRAMS = ("sshd", "sshd-session", "sshd-auth")


class Attempt(NamedTuple):
    at: datetime  # timezone-aware
    outcome: str  # success, failure or aborted (connection closed before authentication)
    method: str  # password, publickey, keyboard-interactive, invalid_user, pam, preauth, ...
    username: str  # as given; may be a password typed into the user field
    address: str  # IP address as logged (or a host name from PAM's rhost)
    host: str  # the server that logged it


_MONTHS = {
    m: i
    for i, m in enumerate(
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"], 1
    )
}
_SYSLOG = re.compile(
    r"(?:(?P<y1>\d{4}) )?(?P<mon>[A-Z][a-z]{2}) +(?P<day>\d{1,2}) (?:(?P<y2>\d{4}) )?"
    r"(?P<h>\d\d):(?P<m>\d\d):(?P<s>\d\d) (?P<rest>.*)",
    re.DOTALL,
)
# The common case in one match: a classic timestamp and one of sshd's programs.
_SSHD_LINE = re.compile(
    r"([A-Z][a-z]{2}) +(\d{1,2}) (\d\d):(\d\d):(\d\d) (\S+) "
    r"(?:sshd|sshd-session|sshd-auth)\[\d+\]: (.*)",
    re.DOTALL,
)
_RFC3339 = re.compile(
    r"(?P<ts>\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d{1,9})?(?:Z|[+-]\d\d:?\d\d)) (?P<rest>.*)",
    re.DOTALL,
)
_PROGRAM = re.compile(r"(?P<host>\S+) (?P<prog>[^\s\[:]+)(?:\[\d+\])?: (?P<msg>.*)", re.DOTALL)

_ADDR = r"(?P<addr>[0-9A-Fa-f:.%]+)"
# The user name is greedy so that the address is sshd's own, the last one on the line: a
# user name such as "x from 10.0.0.1 port 22" cannot plant another address.
_TAIL = r" port \d+(?: ssh2)?(?:: .*)?$"
_PREAUTH = r" port \d+ \[preauth\]$"
# Each message sshd writes about an attempt: the first words it can start with, the pattern,
# and its outcome and method. Within a first word the more specific pattern comes first.
_MESSAGES = [
    (("Accepted",),
     re.compile(rf"Accepted (?P<method>[\w/-]+) for (?P<user>.*) from {_ADDR}{_TAIL}"), "success"),
    (("Failed",),
     re.compile(rf"Failed (?P<method>[\w/-]+) for invalid user (?P<user>.*) from {_ADDR}{_TAIL}"),
     "failure"),
    (("Failed",),
     re.compile(rf"Failed (?P<method>[\w/-]+) for (?P<user>.*) from {_ADDR}{_TAIL}"), "failure"),
    (("Invalid",),
     re.compile(rf"Invalid user (?P<user>.*) from {_ADDR}(?: port \d+)?$"), "failure:invalid_user"),
    (("Connection", "Disconnected"),
     re.compile(rf"(?:Connection closed by|Disconnected from) (?:authenticating|invalid) user "
                rf"(?P<user>.*) {_ADDR}{_PREAUTH}"), "aborted:preauth"),
    (("Connection", "Disconnected"),
     re.compile(rf"(?:Connection (?:closed|reset) by|Disconnected from) {_ADDR}{_PREAUTH}"),
     "aborted:preauth"),
]  # fmt: skip
# Only the patterns that can match a message's first word are tried.
_BY_FIRST_WORD: dict[str, list[tuple[re.Pattern, str]]] = {}
for _words, _pattern, _what in _MESSAGES:
    for _word in _words:
        _BY_FIRST_WORD.setdefault(_word, []).append((_pattern, _what))
_PAM_FAILURE = re.compile(
    r"pam_unix\(sshd:auth\): authentication failure;.*? rhost=(?P<addr>\S*)"
    r"(?:\s+user=(?P<user>\S*))?"
)
_REPEATED = re.compile(r"message repeated (?P<n>\d+) times: \[ ?(?P<msg>.*?) ?\]$", re.DOTALL)
# Lines sshd writes that are not attempts, so that they are not mistaken for broken ones.
_NOT_LOGIN = re.compile(
    r"pam_unix\(sshd:session\)|Received disconnect|Disconnected from user"
    r"|Disconnected from \S+ port|Server listening|Received signal|session opened"
    r"|session closed|Starting session"
    r"|Close session|PAM \d+ more authentication failures|error:|fatal:|Timeout before"
    r"|Connection from|Postponed|User child|banner exchange|Unable to negotiate|kex_"
    r"|maximum authentication attempts|Did not receive identification|pam_systemd"
    r"|reverse mapping|Bad protocol version|Protocol major versions|ssh_dispatch|drop connection"
    r"|Connection closed by \S+ port \d+$|Connection reset by \S+ port \d+$|exited|Exiting"
    r"|check pass; user unknown"
)


class Timestamps:
    """Turns syslog timestamps into UTC datetimes; a missing year comes from `reference`.

    The hour is looked up once (year, zone, daylight saving) and minutes and seconds are
    added to it: a log has many lines per hour and each lookup costs microseconds.
    """

    def __init__(self, zone: tzinfo, reference: datetime) -> None:
        self.zone = zone
        self.reference = reference
        self._hours: dict[tuple, datetime | None] = {}

    def syslog(self, m: re.Match) -> datetime | None:
        return self.at(m["y1"] or m["y2"], m["mon"], m["day"], m["h"], m["m"], m["s"])

    def at(self, year, mon: str, day: str, hour: str, minutes: str, seconds: str):
        key = (year, mon, day, hour)
        base = self._hours.get(key, False)
        if base is False:
            base = self._hours[key] = self._hour(*key)
        mi, se = int(minutes), int(seconds)
        if base is None or mi > 59 or se > 60:
            return None
        return base + timedelta(minutes=mi, seconds=min(se, 59))

    def _hour(self, year: str | None, mon: str, day: str, hour: str) -> datetime | None:
        try:
            month, d, h = _MONTHS[mon], int(day), int(hour)
            if year:
                at = datetime(int(year), month, d, h, tzinfo=self.zone)
            else:
                at = self._yearless(month, d, h)
        except (KeyError, ValueError):
            return None
        return at.astimezone(UTC)

    def _yearless(self, month: int, day: int, hour: int) -> datetime:
        limit = self.reference + timedelta(days=1)
        for year in range(limit.year, limit.year - 5, -1):
            try:
                at = datetime(year, month, day, hour, tzinfo=self.zone)
            except ValueError:  # 29 February of a year that has none
                continue
            if at <= limit:
                return at
        raise ValueError("no year fits")

    @staticmethod
    def rfc3339(text: str) -> datetime | None:
        try:
            at = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return None
        return at.astimezone(UTC) if at.tzinfo else None


def parse_line(line: str, times: Timestamps) -> list[Attempt] | str:
    """The attempts one auth.log line records, or the category it was skipped under."""
    if m := _SSHD_LINE.match(line):
        mon, day, hour, minutes, seconds, host, message = m.groups()
        at = times.at(None, mon, day, hour, minutes, seconds)
        if at is None:
            return NO_TIMESTAMP
        return parse_message(message.rstrip("\r\n"), at, host)
    if line[:1].isdigit() and (m := _RFC3339.match(line)):
        at = times.rfc3339(m["ts"])
        rest = m["rest"]
    elif m := _SYSLOG.match(line):
        at = times.syslog(m)
        rest = m["rest"]
    else:
        return NO_TIMESTAMP
    p = _PROGRAM.match(rest)
    if not p:
        return OTHER if at else NO_TIMESTAMP
    if p["prog"] not in SSHD_PROGRAMS:
        return OTHER
    if at is None:
        return NO_TIMESTAMP
    return parse_message(p["msg"].rstrip("\r\n"), at, p["host"])


def parse_message(message: str, at: datetime, host: str) -> list[Attempt] | str:
    """The attempts one sshd message records (the part after `sshd[pid]: `)."""
    times = 1
    if message.startswith("message repeated"):
        r = _REPEATED.match(message)
        if not r:
            return BAD_LINE
        times, message = int(r["n"]), r["msg"]
    if message.startswith("pam_unix(sshd:auth): authentication failure"):
        m = _PAM_FAILURE.search(message)
        if not m or not m["addr"]:
            return NOT_LOGIN  # a local failure, no remote host
        outcome, method = "failure", "pam"
    else:
        for pattern, what in _BY_FIRST_WORD.get(message[: message.find(" ")], ()):  # noqa: B007
            if m := pattern.match(message):
                break
        else:
            return NOT_LOGIN if _NOT_LOGIN.search(message) else BAD_LINE
        outcome, _, method = what.partition(":")
        method = method or m["method"]
    user = (m["user"] or "") if "user" in m.re.groupindex else ""
    attempt = Attempt(at, outcome, method, user, m["addr"], host)
    return [attempt] * times


def parse_journal_entry(line: str) -> list[Attempt] | str:
    """The attempts one line of `journalctl -o json` records, or why it was skipped."""
    try:
        entry = json.loads(line)
        program = entry.get("SYSLOG_IDENTIFIER") or entry.get("_COMM") or ""
        message = entry["MESSAGE"]
        micros = int(entry["__REALTIME_TIMESTAMP"])
    except (ValueError, KeyError, TypeError, AttributeError):
        return BAD_JSON
    if program not in SSHD_PROGRAMS:
        return OTHER
    if isinstance(message, list):  # journald writes non-UTF-8 messages as a byte array
        try:
            message = bytes(message).decode("utf-8", "replace")
        except (ValueError, TypeError):
            return BAD_ENCODING
    if not isinstance(message, str):
        return BAD_JSON
    at = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=micros)
    return parse_message(message, at, str(entry.get("_HOSTNAME", "")))
