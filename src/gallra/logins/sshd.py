"""Reading sshd's login events out of auth.log lines and journald's JSON export.

A line yields zero or more `Attempt`s (a `message repeated N times` line stands for N, at
most MAX_REPEATS), or the name of the category it was skipped under. Categories are reported
to the operator in counts; the line itself is never kept, since it carries the address and
often a password typed into the user name.

A line is hostile input: any local user can write one (`logger -t 'sshd[1]'`), and a journald
entry's own fields (`SYSLOG_IDENTIFIER`, `MESSAGE`) are the sender's. Nothing a line says can
make a run allocate without bound or stop: it is read, or counted under a category.

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
NOT_SSHD = "journal: claims to be sshd, not from sshd's own process"
TOO_MANY_REPEATS = "malformed: repeated more often than sshd can (100 stored)"  # MAX_REPEATS

SSHD_PROGRAMS = ("sshd", "sshd-session", "sshd-auth")
# Red Hat / CentOS 4-5 syslog wrote PAM's messages under this tag: `sshd(pam_unix)[PID]: ...`.
OLD_PAM_PROGRAM = "sshd(pam_unix)"
# rsyslog folds only identical consecutive messages of the same host, program and PID, and
# sshd's attempt messages carry the client's port: the repeats all come from one connection,
# which sshd ends after MaxAuthTries failures (6 by default). No real line says more than a
# handful; a larger count is forged or broken and stands for this many attempts at most.
MAX_REPEATS = 100
# systemd units that run sshd (Debian's ssh.service, Red Hat's sshd.service, and the
# per-connection units of socket activation, ssh@N-ADDR:22-ADDR:PORT.service).
SSHD_UNITS = re.compile(r"sshd?(?:@[^/\s]*)?\.service")


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
_PROGRAM = re.compile(
    r"(?P<host>\S+) (?P<prog>[^\s\[:(]+(?:\([a-z_]+\))?)(?:\[\d+\])?: (?P<msg>.*)", re.DOTALL
)

_ADDR = r"(?P<addr>[0-9A-Fa-f:.%]+)"
# The user name is greedy so that the address is sshd's own, the last one on the line: a
# user name such as "x from 10.0.0.1 port 22" cannot plant another address.
_TAIL = r" port \d+(?: ssh2)?(?:: .*)?$"
_PREAUTH = r" port \d+ \[preauth\]$"
# Each message sshd writes about an attempt: the first words it can start with, the pattern,
# and its outcome and method. Within a first word the more specific pattern comes first.
_MESSAGES = [
    (
        ("Accepted",),
        re.compile(rf"Accepted (?P<method>[\w/-]+) for (?P<user>.*) from {_ADDR}{_TAIL}"),
        "success",
    ),
    (
        ("Failed",),
        re.compile(
            rf"Failed (?P<method>[\w/-]+) for invalid user (?P<user>.*) from {_ADDR}{_TAIL}"
        ),
        "failure",
    ),
    (
        ("Failed",),
        re.compile(rf"Failed (?P<method>[\w/-]+) for (?P<user>.*) from {_ADDR}{_TAIL}"),
        "failure",
    ),
    (
        ("Invalid",),
        re.compile(rf"Invalid user (?P<user>.*) from {_ADDR}(?: port \d+)?$"),
        "failure:invalid_user",
    ),
    # AllowUsers/DenyUsers/AllowGroups/DenyGroups: sshd's "Invalid user" for an existing one.
    (
        ("User",),
        re.compile(rf"User (?P<user>.*) from {_ADDR} not allowed because .*$"),
        "failure:not_allowed",
    ),
    (
        ("ROOT",),
        re.compile(rf"ROOT LOGIN REFUSED FROM {_ADDR}(?: port \d+)?$"),
        "failure:not_allowed",
    ),
    (
        ("Connection", "Disconnected"),
        re.compile(
            rf"(?:Connection closed by|Disconnected from) (?:authenticating|invalid) user "
            rf"(?P<user>.*) {_ADDR}{_PREAUTH}"
        ),
        "aborted:preauth",
    ),
    (
        ("Connection", "Disconnected"),
        # OpenSSH before 7.x left out the port: `Connection closed by 203.0.113.7 [preauth]`.
        re.compile(
            rf"(?:Connection (?:closed|reset) by|Disconnected from) {_ADDR}"
            rf"(?: port \d+)? \[preauth\]$"
        ),
        "aborted:preauth",
    ),
]
# Only the patterns that can match a message's first word are tried: (pattern, outcome,
# method or "" when the message names it, whether it names a user).
_BY_FIRST_WORD: dict[str, list[tuple[re.Pattern, str, str, bool]]] = {}
for _words, _pattern, _what in _MESSAGES:
    _outcome, _, _method = _what.partition(":")
    for _word in _words:
        _BY_FIRST_WORD.setdefault(_word, []).append(
            (_pattern, _outcome, _method, "user" in _pattern.groupindex)
        )
_PAM_FAILURE = re.compile(
    r"pam_unix\(sshd:auth\): authentication failure;.*? rhost=(?P<addr>\S*)"
    r"(?:\s+user=(?P<user>\S*))?"
)
_OLD_PAM_FAILURE = re.compile(
    r"authentication failure;.*? rhost=(?P<addr>\S*)(?:\s+user=(?P<user>\S*))?"
)
_REPEATED = re.compile(r"message repeated (?P<n>[0-9]+) times: \[ ?(?P<msg>.*?) ?\]$", re.DOTALL)
# Lines sshd writes that are not attempts, so that they are not mistaken for broken ones.
# (`input_userauth_request: invalid user X` repeats the `Invalid user` line before it; `PAM N
# more authentication failures` and `maximum authentication attempts exceeded` sum up
# failures already logged one by one; `Received disconnect ... [preauth]` precedes the
# `Disconnected from` line that is counted: none is counted again.)
_NOT_LOGIN = re.compile(
    r"pam_unix\(sshd:session\)|Received disconnect|Disconnected from user"
    r"|input_userauth_request|Disconnecting|Received SIG|Timeout, client not responding"
    r"|POSSIBLE BREAK-IN ATTEMPT|Nasty PTR record|subsystem request|Transferred: sent"
    r"|refused connect from|Connection closed by \S+$|Connection reset by \S+$"
    r"|not allowed because"
    r"|Disconnected from \S+ port|Server listening|Received signal|session opened"
    r"|session closed|Starting session"
    r"|Close session|PAM \d+ more authentication failures|error:|fatal:|Timeout before"
    r"|Connection from|Postponed|User child|banner exchange|Unable to negotiate|kex_"
    r"|maximum authentication attempts|Did not receive identification|pam_systemd"
    r"|reverse mapping|Bad protocol version|Protocol major versions|ssh_dispatch|drop connection"
    r"|Connection closed by \S+ port \d+$|Connection reset by \S+ port \d+$|exited|Exiting"
    r"|check pass; user unknown"
)


_SECONDS = [timedelta(seconds=n) for n in range(3600)]  # into the hour


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
            if len(self._hours) > 10_000:  # a file whose every line has another year
                self._hours.clear()
            base = self._hours[key] = self._hour(*key)
        mi, se = int(minutes), int(seconds)
        if base is None or mi > 59 or se > 60:
            return None
        return base + _SECONDS[mi * 60 + min(se, 59)]

    def _hour(self, year: str | None, mon: str, day: str, hour: str) -> datetime | None:
        try:
            month, d, h = _MONTHS[mon], int(day), int(hour)
            if year:
                at = datetime(int(year), month, d, h, tzinfo=self.zone)
            else:
                at = self._yearless(month, d, h)
            return at.astimezone(UTC)
        except (KeyError, ValueError, OverflowError):  # Overflow: year 1 east of UTC
            return None

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
            return at.astimezone(UTC) if at.tzinfo else None
        except (ValueError, OverflowError):  # OverflowError: year 1 east of UTC, 9999 west
            return None


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
    program = p["prog"]
    if program not in SSHD_PROGRAMS and program != OLD_PAM_PROGRAM:
        return OTHER
    if at is None:
        return NO_TIMESTAMP
    return parse_message(p["msg"].rstrip("\r\n"), at, p["host"], program == OLD_PAM_PROGRAM)


class Capped(list):
    """The attempts of a `message repeated` line that claimed more than MAX_REPEATS: the
    line is counted under `skipped` too."""

    skipped = TOO_MANY_REPEATS


def parse_message(
    message: str, at: datetime, host: str, old_pam: bool = False
) -> list[Attempt] | str:
    """The attempts one sshd message records (the part after `sshd[pid]: `).

    `old_pam`: the message came under the old `sshd(pam_unix)` tag, where PAM's failure reads
    `authentication failure; ... rhost=ADDR user=USER` and everything else is bookkeeping.
    """
    times = 1
    if message.startswith("message repeated"):
        r = _REPEATED.match(message)
        if not r:
            return BAD_LINE
        # A count of thousands of digits is not even converted (int() would refuse it).
        count, message = r["n"], r["msg"]
        times = int(count) if len(count) <= 6 else MAX_REPEATS + 1
        if times < 1:
            return BAD_LINE
    if old_pam:
        if not message.startswith("authentication failure;"):
            return NOT_LOGIN  # session opened/closed, check pass, N more failures
        m = _OLD_PAM_FAILURE.match(message)
        if not m or not m["addr"]:
            return NOT_LOGIN  # a local failure, no remote host
        outcome, method, user = "failure", "pam", m["user"] or ""
    elif message.startswith("pam_unix(sshd:auth): authentication failure"):
        m = _PAM_FAILURE.search(message)
        if not m or not m["addr"]:
            return NOT_LOGIN  # a local failure, no remote host
        outcome, method, user = "failure", "pam", m["user"] or ""
    else:
        for pattern, outcome, method, named in _BY_FIRST_WORD.get(  # noqa: B007
            message[: message.find(" ")], ()
        ):
            if m := pattern.match(message):
                break
        else:
            return NOT_LOGIN if _NOT_LOGIN.search(message) else BAD_LINE
        method = method or m["method"]
        user = (m["user"] or "") if named else ""
    attempt = Attempt(at, outcome, method, user, m["addr"], host)
    if times > MAX_REPEATS:
        return Capped([attempt] * MAX_REPEATS)
    return [attempt] * times


# journald's own fields, which no client can set (it drops those a client sends that start
# with an underscore): the sending process's command name, executable, user and unit.
_TRUSTED = ("_COMM", "_EXE", "_UID", "_SYSTEMD_UNIT")
_MICROS = re.compile(r"[0-9]{1,18}")  # up to 9999-12-31 in microseconds since 1970
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_LAST_MICROS = (datetime(9999, 12, 31, tzinfo=UTC) - _EPOCH) // timedelta(microseconds=1)


def from_sshd(entry: dict) -> bool | None:
    """Whether a journal entry was written by sshd's own process: root, and sshd's command
    or executable or one of sshd's units. None when a trusted field has a wrong type.

    `SYSLOG_IDENTIFIER` is what the sender says it is: `logger -t sshd` sets it to anything.
    """
    comm, exe, uid, unit = (entry.get(name, "") for name in _TRUSTED)
    if not all(isinstance(v, str) for v in (comm, exe, uid, unit)):
        return None
    if uid != "0":
        return False
    return (
        comm in SSHD_PROGRAMS
        or exe.rpartition("/")[2] in SSHD_PROGRAMS
        or SSHD_UNITS.fullmatch(unit) is not None
    )


def _message_text(message: object) -> str | None:
    """MESSAGE as text: a string, or (not UTF-8) journald's array of byte values."""
    if isinstance(message, str):
        return message
    if isinstance(message, list) and all(type(b) is int and 0 <= b <= 255 for b in message):
        return bytes(message).decode("utf-8", "replace")
    return None


def parse_journal_entry(line: str) -> list[Attempt] | str:
    """The attempts one line of `journalctl -o json` records, or why it was skipped.

    Every field is the line's word only: its type and size are checked before use, and only
    journald's own fields decide that sshd wrote it.
    """
    try:
        entry = json.loads(line)
    except (ValueError, RecursionError):  # RecursionError: arrays nested thousands deep
        return BAD_JSON
    if not isinstance(entry, dict):
        return BAD_JSON
    micros = entry.get("__REALTIME_TIMESTAMP")
    if not isinstance(micros, str) or not _MICROS.fullmatch(micros):
        return BAD_JSON
    if int(micros) > _LAST_MICROS:
        return BAD_JSON
    trusted = from_sshd(entry)
    if trusted is None:
        return BAD_JSON
    if not trusted:
        claimed = entry.get("SYSLOG_IDENTIFIER")
        return NOT_SSHD if claimed in SSHD_PROGRAMS or claimed == OLD_PAM_PROGRAM else OTHER
    if "MESSAGE" not in entry:
        return BAD_JSON
    message = _message_text(entry["MESSAGE"])
    if message is None:
        return BAD_ENCODING
    host = entry.get("_HOSTNAME", "")
    at = _EPOCH + timedelta(microseconds=int(micros))
    return parse_message(message, at, host if isinstance(host, str) else "")
