"""Login events under attack (issue 16, items 7-11 and 14): hostile lines, forged journal
entries, addresses that carry an IPv4 address, free text posted as a method, hostile JSON,
and the real log forms that were read wrongly. Every expected value is worked out by hand."""

import hashlib
import json
import os
import shutil
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.utils import timezone

from gallra.api.models import ApiEventSeen, ApiToken
from gallra.logins import sshd
from gallra.logins.ingest import IN_FUTURE, MAX_LINE, TOO_LONG, ingest_files
from gallra.logins.models import WEB_METHODS, WEB_SERVICES, LoginEvent, WebEventSeen
from gallra.logins.reveal import Request, reveal
from gallra.logins.sealing import Network
from gallra.logins.tests.test_ingest_logins import _all_stored_text

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
STOCKHOLM = ZoneInfo("Europe/Stockholm")
DATA = Path(__file__).parent / "data"
FAILED = "Nov 24 22:14:01 web1 sshd[1201]: Failed password for root from 203.0.113.7 port 5 ssh2"


def write(path: Path, text: str | bytes) -> Path:
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    os.utime(path, (NOW.timestamp(), NOW.timestamp()))
    return path


def outcomes() -> dict[str, int]:
    return dict(Counter(LoginEvent.objects.values_list("outcome", flat=True)))


# -- item 8: `message repeated N times` means at most MAX_REPEATS ---------------------------


def repeated(n: str) -> str:
    return (
        f"Nov 24 22:14:02 web1 sshd[1]: message repeated {n} times: [ Failed password for "
        f"root from 198.51.100.9 port 22 ssh2]"
    )


@pytest.mark.parametrize(
    ("count", "stored", "skipped"),
    [
        ("3", 3, {}),  # what rsyslog writes: stored as that many
        ("100", 100, {}),  # the cap itself
        ("101", 100, {sshd.TOO_MANY_REPEATS: 1}),
        ("50000", 100, {sshd.TOO_MANY_REPEATS: 1}),
        ("1000000000", 100, {sshd.TOO_MANY_REPEATS: 1}),  # MemoryError before
        ("9" * 5000, 100, {sshd.TOO_MANY_REPEATS: 1}),  # int() would refuse 5,000 digits
        ("0", 0, {sshd.BAD_LINE: 1}),
        ("-5", 0, {sshd.BAD_LINE: 1}),
    ],
)
def test_a_repeated_line_stands_for_at_most_100_attempts_and_the_run_goes_on(
    shares, policy, tmp_path, count, stored, skipped
):
    log = write(tmp_path / "auth.log", f"{FAILED}\n{repeated(count)}\n{FAILED}\n")
    report = ingest_files([log], policy, now=NOW)
    assert report.events == stored + 2  # the lines around it are read too
    assert dict(report.skipped) == skipped
    assert LoginEvent.objects.count() == stored + 2
    # and a rerun (the forged line is still there) neither repeats nor dies
    assert ingest_files([log], policy, now=NOW).events == 0
    assert LoginEvent.objects.count() == stored + 2


def test_the_repeat_count_never_builds_a_list_of_its_size():
    """What the parser hands on for 10^9 repeats is MAX_REPEATS attempts, nothing larger."""
    times = sshd.Timestamps(STOCKHOLM, NOW)
    found = sshd.parse_line(repeated("1000000000"), times)
    assert type(found) is sshd.Capped and len(found) == sshd.MAX_REPEATS == 100
    assert found.skipped == sshd.TOO_MANY_REPEATS


@pytest.mark.parametrize(
    ("line", "skipped"),
    [
        (
            b"Nov 24 22:14:01 web1 sshd[1]: Failed password for "
            + b"x" * (MAX_LINE + 10)
            + b" from 203.0.113.7 port 5 ssh2",
            TOO_LONG,
        ),
        (b"Nov 24 22:14:01 web1 sshd[1]: " + b"\x00" * (3 * MAX_LINE), TOO_LONG),
        (
            b"Nov 24 22:14:01 web1 sshd[1]: Failed password for root from 203.0.113.7 port "
            b"5 ssh2 " + b"A" * 1000,
            sshd.BAD_LINE,
        ),
        # a time that overflows when put into UTC, and one far in the future
        (
            b"0001-01-01T00:30:00+01:00 web1 sshd[1]: Failed password for root from 203.0.113.7 "
            b"port 5 ssh2",
            sshd.NO_TIMESTAMP,
        ),
        (
            b"0001 Jan  1 00:30:00 web1 sshd[1]: Failed password for root from 203.0.113.7 port 5 "
            b"ssh2",
            sshd.NO_TIMESTAMP,
        ),
        (
            b"9999-12-31T23:59:59-01:00 web1 sshd[1]: Failed password for root from 203.0.113.7 "
            b"port 5 ssh2",
            sshd.NO_TIMESTAMP,
        ),
        (
            b"2400-01-01T00:00:00Z web1 sshd[1]: Failed password for root from 203.0.113.7 port 5 "
            b"ssh2",
            IN_FUTURE,
        ),
    ],
)
def test_an_overlong_or_absurd_line_is_counted_and_skipped(shares, policy, tmp_path, line, skipped):
    log = write(
        tmp_path / "auth.log", FAILED.encode() + b"\n" + line + b"\n" + FAILED.encode() + b"\n"
    )
    report = ingest_files([log], policy, now=NOW)
    assert (report.lines, report.events, dict(report.skipped)) == (3, 2, {skipped: 1})


def test_a_line_still_being_written_is_read_whole_by_follow_later(shares, policy, tmp_path):
    """`follow` keeps its file open: half a line is put back, not read as a broken line."""
    log = write(tmp_path / "auth.log", FAILED + "\n" + FAILED[:40])
    from gallra.logins.ingest import EventWriter, LogFile, Report, read_lines

    report, file = Report(), LogFile(log, STOCKHOLM)
    f = file.open_at_start(report)
    writer = EventWriter(policy, NOW)
    read_lines(f, file, writer, report)
    with open(log, "a") as out:
        out.write(FAILED[40:] + "\n")
    read_lines(f, file, writer, report)
    f.close()
    assert (report.lines, report.events, dict(report.skipped)) == (2, 2, {})


# -- item 9: only journald's own fields say that sshd wrote an entry --------------------------

# 2026-11-24T21:27:21Z: 2026-01-01 is 1,767,225,600 s after 1970; Nov 24 is 327 days later
# (304 to 1 November, 23 more): + 28,252,800 s; 21:27:21 is 77,241 s.
MICROS = "1795555641000000"


def entry(message="Accepted password for anna from 203.0.113.7 port 5 ssh2", **fields) -> dict:
    """A journal entry as sshd's own process writes it; `fields` change or (None) drop."""
    out = {
        "__CURSOR": "s=1;i=1",
        "__REALTIME_TIMESTAMP": MICROS,
        "_HOSTNAME": "web2",
        "SYSLOG_IDENTIFIER": "sshd",
        "_PID": "812",
        "_UID": "0",
        "_GID": "0",
        "_COMM": "sshd",
        "_EXE": "/usr/sbin/sshd",
        "_SYSTEMD_UNIT": "ssh.service",
        "_TRANSPORT": "syslog",
        "MESSAGE": message,
    }
    out.update(fields)
    return {k: v for k, v in out.items() if v is not None}


USER_UNIT = "user@1000.service"


@pytest.mark.parametrize(
    ("fields", "category"),
    [
        # `logger -t sshd` as a local user: the identifier is the sender's word
        (
            {
                "_UID": "1000",
                "_COMM": "logger",
                "_EXE": "/usr/bin/logger",
                "_SYSTEMD_UNIT": "session-3.scope",
            },
            sshd.NOT_SSHD,
        ),
        # a copy of any program named sshd, run by a user (comm and exe are the user's)
        ({"_UID": "1000", "_EXE": "/home/eve/sshd", "_SYSTEMD_UNIT": USER_UNIT}, sshd.NOT_SSHD),
        # a user's shell left in ssh.service's cgroup (no pam_systemd): still not root
        ({"_UID": "1000", "_COMM": "bash", "_EXE": "/usr/bin/bash"}, sshd.NOT_SSHD),
        (
            {"_UID": "1000", "SYSLOG_IDENTIFIER": "sshd-session", "_COMM": "sshd-session"},
            sshd.NOT_SSHD,
        ),
        # root, but another program (a cron job's logger)
        (
            {"_COMM": "logger", "_EXE": "/usr/bin/logger", "_SYSTEMD_UNIT": "cron.service"},
            sshd.NOT_SSHD,
        ),
        # an export without the trusted fields proves nothing
        ({"_UID": None, "_COMM": None, "_EXE": None, "_SYSTEMD_UNIT": None}, sshd.NOT_SSHD),
        ({"_UID": None, "SYSLOG_IDENTIFIER": "sshd(pam_unix)"}, sshd.NOT_SSHD),
        # trusted fields of the wrong type are no journald entry
        ({"_UID": 0}, sshd.BAD_JSON),
        ({"_UID": ["0", "1000"]}, sshd.BAD_JSON),
        ({"_COMM": {"x": "sshd"}}, sshd.BAD_JSON),
        # not claiming to be sshd at all
        ({"_UID": "1000", "SYSLOG_IDENTIFIER": "backup", "_COMM": "backup"}, sshd.OTHER),
    ],
)
def test_a_journal_entry_that_is_not_from_sshds_process_stores_nothing(
    shares, policy, accounts, tmp_path, fields, category
):
    forged = entry(**fields)
    path = write(tmp_path / "ssh.json", json.dumps(forged) + "\n")
    report = ingest_files([path], policy, now=NOW)
    assert (report.events, dict(report.skipped)) == (0, {category: 1})
    assert not LoginEvent.objects.filter(outcome="success").exists()


@pytest.mark.parametrize(
    "fields",
    [
        {},  # Debian: sshd in ssh.service
        {"SYSLOG_IDENTIFIER": None},  # no identifier at all: the trusted fields suffice
        {"_COMM": "sshd-session", "_EXE": "/usr/lib/openssh/sshd-session"},  # OpenSSH 9.8+
        {"_SYSTEMD_UNIT": "sshd.service"},  # Red Hat
        {"_COMM": "sshd", "_SYSTEMD_UNIT": None},  # in a container without systemd units
        {"_COMM": "x", "_EXE": "/x", "_SYSTEMD_UNIT": "ssh@3-192.0.2.1:22-203.0.113.7:5.service"},
    ],
)
def test_an_entry_from_sshds_own_process_is_read(shares, policy, accounts, tmp_path, fields):
    path = write(tmp_path / "ssh.json", json.dumps(entry(**fields)) + "\n")
    report = ingest_files([path], policy, now=NOW)
    assert (report.events, dict(report.skipped)) == (1, {})
    stored = LoginEvent.objects.get()
    assert (stored.outcome, stored.account, stored.network, stored.host) == (
        "success",
        "anna",
        "203.0.113.0/24",
        "web2",
    )
    assert stored.at == datetime(2026, 11, 24, 21, 27, 21, tzinfo=UTC)


@pytest.mark.parametrize(
    ("line", "category"),
    [
        (json.dumps(entry(__REALTIME_TIMESTAMP="9" * 40)), sshd.BAD_JSON),  # overflow
        (json.dumps(entry(__REALTIME_TIMESTAMP="999999999999999999")), sshd.BAD_JSON),  # y 33658
        (json.dumps(entry(__REALTIME_TIMESTAMP="-1")), sshd.BAD_JSON),
        (json.dumps(entry(__REALTIME_TIMESTAMP="1e6")), sshd.BAD_JSON),
        (json.dumps(entry(__REALTIME_TIMESTAMP="")), sshd.BAD_JSON),
        (json.dumps(entry(__REALTIME_TIMESTAMP=1795904041000000)), sshd.BAD_JSON),  # a number
        (json.dumps(entry(__REALTIME_TIMESTAMP="١٧٩٥٩٠٤٠٤١٠٠٠٠٠٠")), sshd.BAD_JSON),  # not ASCII
        (json.dumps(entry(__REALTIME_TIMESTAMP=None)), sshd.BAD_JSON),
        (json.dumps(entry(__REALTIME_TIMESTAMP="32503680000000000")), IN_FUTURE),  # year 3000
        (json.dumps(entry(MESSAGE={"text": "Accepted"})), sshd.BAD_ENCODING),
        (json.dumps(entry(MESSAGE=[65, 300, 66])), sshd.BAD_ENCODING),
        (json.dumps(entry(MESSAGE=["Accepted", "password"])), sshd.BAD_ENCODING),
        (json.dumps(entry(MESSAGE=None)), sshd.BAD_JSON),
        ("[" * 100_000 + "]" * 100_000, sshd.BAD_JSON),  # RecursionError before
        ('{"a": ' * 50_000 + "1" + "}" * 50_000, sshd.BAD_JSON),
        ('{"x": ' + "9" * 5000 + "}", sshd.BAD_JSON),
        ("null", sshd.BAD_JSON),
    ],
)
def test_every_field_of_a_journal_line_is_checked_before_use(
    shares, policy, tmp_path, line, category
):
    good = json.dumps(entry("Failed password for root from 203.0.113.8 port 5 ssh2"))
    path = write(tmp_path / "ssh.json", f"{good}\n{line}\n{good}\n")
    report = ingest_files([path], policy, now=NOW)
    assert (report.events, dict(report.skipped)) == (2, {category: 1})


def test_a_journal_host_name_of_the_wrong_type_is_left_out(shares, policy, tmp_path):
    path = write(tmp_path / "ssh.json", json.dumps(entry(_HOSTNAME=["web2", "x"])) + "\n")
    assert ingest_files([path], policy, now=NOW).events == 1
    assert LoginEvent.objects.get().host == ""


# -- item 10: an IPv6 address that carries an IPv4 address is cut as that IPv4 --------------
# 81.234.5.6 (Telia, SE) is 51ea:0506 in hex; inverted (Teredo) ae15:faf9. 198.51.100.77 is
# c633:644d. The expected networks are the IPv4 /24s, the countries those of the IPv4.


@pytest.mark.parametrize(
    ("address", "network", "country"),
    [
        ("2002:51ea:506::1", "81.234.5.0/24", "SE"),  # 6to4: bits 16-47
        ("2002:51ea:506:7:8::9", "81.234.5.0/24", "SE"),
        ("2002:c633:644d::1", "198.51.100.0/24", ""),  # the issue's example
        ("2001:0:4136:e378:8000:63bf:ae15:faf9", "81.234.5.0/24", "SE"),  # Teredo: XOR ffff
        ("2001:0:c000:201::ae15:faf9", "81.234.5.0/24", "SE"),  # server 192.0.2.1 not used
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "192.0.2.0/24", ""),  # RFC 4380's example
        ("64:ff9b::51ea:506", "81.234.5.0/24", "SE"),  # NAT64 well-known prefix
        ("64:ff9b::81.234.5.6", "81.234.5.0/24", "SE"),
        ("64:ff9b:1::51ea:506", "81.234.5.0/24", "SE"),  # NAT64 local-use, /96 at its start
        ("::ffff:81.234.5.6", "81.234.5.0/24", "SE"),  # IPv4-mapped
        ("::ffff:51ea:506", "81.234.5.0/24", "SE"),
        ("::ffff:0:51ea:506", "81.234.5.0/24", "SE"),  # IPv4-translated (SIIT)
        ("::51ea:506", "81.234.5.0/24", "SE"),  # IPv4-compatible
        ("2001:db8:1:2:0:5efe:51ea:506", "81.234.5.0/24", "SE"),  # ISATAP
        ("2001:db8:1:2:200:5efe:81.234.5.6", "81.234.5.0/24", "SE"),  # ISATAP, global bit
        # no IPv4 inside: the IPv6 /48 as before
        ("2a02:aa1:1000::17", "2a02:aa1:1000::/48", "SE"),
        ("2001:db8:7::10", "2001:db8:7::/48", ""),
        ("::1", "::/48", ""),  # loopback is no IPv4-compatible 0.0.0.1
        ("64:ff9b:1:abcd:ef::1", "64:ff9b:1::/48", ""),  # NAT64 of unknown layout: /48 only
    ],
)
def test_an_address_that_carries_ipv4_is_stored_as_the_ipv4_network(
    shares, policy, tmp_path, address, network, country
):
    log = write(
        tmp_path / "auth.log",
        f"Nov 24 22:14:01 web1 sshd[1]: Failed password for root from {address} port 5 ssh2\n",
    )
    assert ingest_files([log], policy, now=NOW).events == 1
    stored = LoginEvent.objects.get()
    assert (stored.network, stored.country) == (network, country)
    if network.endswith("/24"):  # the host byte (.6, .77, .45) is in no column
        assert network.split(".")[3] == "0/24"


def test_a_nat64_prefix_of_unknown_layout_keeps_no_ipv4_bits_even_under_a_longer_prefix():
    """With a policy that keeps IPv6 /64, 64:ff9b:1::/48 still keeps only /48: a /48 or /56
    NAT64 prefix would put IPv4 bits after bit 48 (RFC 6052)."""
    assert Network(24, 64).of("64:ff9b:1:51ea:6:600::")[0] == "64:ff9b:1::/48"
    assert Network(24, 64).of("2001:db8:1:2::5")[0] == "2001:db8:1:2::/64"


def test_an_authority_asking_for_an_ipv4_address_finds_it_inside_ipv6(shares, policy, tmp_path):
    log = write(
        tmp_path / "auth.log",
        "Nov 24 23:10:00 web1 sshd[1]: Failed password for root from 2002:51ea:506::1 "
        "port 5 ssh2\nNov 24 23:11:00 web1 sshd[2]: Failed password for root from "
        "81.234.5.99 port 5 ssh2\n",
    )
    assert ingest_files([log], policy, now=NOW).events == 2
    window = {
        "case": "5000-K1-26",
        "requested_by": "Polisen",
        "actor": "vd",
        "start": datetime(2026, 11, 24, tzinfo=UTC),
        "end": datetime(2026, 11, 25, tzinfo=UTC),
    }
    by_v4 = reveal(Request(ip_prefix="81.234.5.6", **window), shares[:2], tmp_path / "a", NOW)
    assert [r["ip"] for r in by_v4.rows] == ["2002:51ea:506::1"]
    by_v6 = reveal(Request(ip_prefix="2002::/16", **window), shares[:2], tmp_path / "b", NOW)
    assert [r["ip"] for r in by_v6.rows] == ["2002:51ea:506::1"]


# -- item 11: a web event's method and service come from a closed list ----------------------


@pytest.fixture
def ingest_token(shares, capsys) -> str:
    call_command("logins", "token", "create", "webmail")
    return capsys.readouterr().out.strip()


@pytest.fixture
def api_token(shares) -> str:
    user = get_user_model().objects.create_user("poster", is_staff=True)
    user.user_permissions.set([Permission.objects.get(codename="add_loginevent")])
    return ApiToken.issue("poster", user, now=timezone.now(), actor="test")


def web_post(client, token: str, body, api: bool = False):
    data = body if isinstance(body, bytes | str) else json.dumps(body)
    url = "/api/v1/logins/events" if api else "/logins/events"
    return client.post(
        url, data=data, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}"
    )


def web_event(**kw) -> dict:
    return {
        "id": "evt-1",
        "at": "2026-11-24T22:14:01Z",
        "outcome": "failure",
        "username": "anna",
        "ip": "203.0.113.7",
        **kw,
    }


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("method", "203.0.113.77"),  # an address posted as the method
        ("method", "2001:db8::77"),
        ("method", "cb00714d"),  # the same address in hex
        ("method", "Password"),
        ("method", "password "),
        ("method", ""),
        ("method", 5),
        ("method", ["password"]),
        ("service", "203-0-113-77"),
        ("service", "abcdefab"),  # 171.205.239.171 in hex, all letters
        ("service", "ssh"),  # gallra's own: sshd lines
        ("service", "gallra"),  # gallra's own: staff logins
        ("service", "WEBMAIL"),
    ],
)
@pytest.mark.parametrize("api", [False, True], ids=["ingest-token", "api"])
def test_a_web_event_takes_only_known_methods_and_services(
    client, ingest_token, api_token, api, field, value
):
    response = web_post(
        client, api_token if api else ingest_token, {"events": [web_event(**{field: value})]}, api
    )
    if api:  # the API's schema has the lists: a shape error, 422 with the place
        assert response.status_code == 422, response.content
        assert response.json()["detail"][0]["loc"][-1] == field
    else:
        assert response.status_code == 400, response.content
        assert response.json()["field"] == f"events[0].{field}"
        assert "must be one of" in response.json()["error"]
    assert LoginEvent.objects.count() == 0
    assert "203.0.113.77" not in _all_stored_text()


@pytest.mark.parametrize("api", [False, True], ids=["ingest-token", "api"])
def test_every_known_method_and_service_is_stored_as_posted(client, ingest_token, api_token, api):
    events = [web_event(id=f"m-{i}", method=m) for i, m in enumerate(WEB_METHODS)]
    events += [web_event(id=f"s-{i}", service=s) for i, s in enumerate(WEB_SERVICES)]
    response = web_post(client, api_token if api else ingest_token, {"events": events}, api)
    assert response.status_code == 200, response.content
    assert response.json()["stored"] == 12 + 17
    stored = Counter(LoginEvent.objects.values_list("method", "service"))
    assert stored[("password", "web")] == 1 + 1  # the method "password", the service "web"
    assert {m for m, _s in stored} == set(WEB_METHODS)
    assert {s for _m, s in stored} == set(WEB_SERVICES)


@pytest.mark.parametrize("api", [False, True], ids=["ingest-token", "api"])
def test_an_event_id_that_holds_an_address_is_kept_only_keyed(client, ingest_token, api_token, api):
    """The id is kept to know a retry; an unkeyed SHA-256 of an IPv4 address is no secret."""
    body = {"events": [web_event(id="203.0.113.77")]}
    assert web_post(client, api_token if api else ingest_token, body, api).json()["stored"] == 1
    assert web_post(client, api_token if api else ingest_token, body, api).json() == {
        "stored": 0,
        "duplicates": 1,
        "skipped": {},
    }
    marks = ApiEventSeen if api else WebEventSeen
    digest = marks.objects.get().digest
    assert digest != hashlib.sha256(b"203.0.113.77").hexdigest()
    assert hashlib.sha256(b"203.0.113.77").hexdigest() not in _all_stored_text()
    assert "203.0.113.77" not in _all_stored_text()


# -- item 7: hostile JSON on both ingest endpoints --------------------------------------------

EVENT = json.dumps(web_event())[1:-1]  # its fields, to put hostile ones after


def body(extra: str) -> str:
    return '{"events": [{' + EVENT + ", " + extra + "}]}"


def ev(**kw) -> str:
    return json.dumps({"events": [web_event(**kw)]})


# (body, the place named, or "" for the document, the web endpoint's and the API's status)
HOSTILE = [
    pytest.param(
        '{"events": ' + "[" * 5000 + "]" * 5000 + "}", "events[0]", 400, 400, id="5000-deep-array"
    ),
    pytest.param(
        '{"events": [{"id": ' + '{"a": ' * 3000 + "1" + "}" * 3000 + "}]}",
        "events[0].id",
        400,
        400,
        id="3000-deep-object",
    ),
    pytest.param('{"events": [[[[[[[[[[]]]]]]]]]]}', "events[0]", 400, 400, id="10-deep"),
    pytest.param(
        body('"username": ' + "7" * 5000).replace('"username": "anna", ', ""),
        "events[0].username",
        400,
        400,
        id="5000-digits",
    ),
    pytest.param(body('"method": 1e999999999'), "events[0].method", 400, 400, id="1e999999999"),
    pytest.param(body('"service": NaN'), "events[0].service", 400, 400, id="NaN"),
    pytest.param(body('"service": -Infinity'), "events[0].service", 400, 400, id="-Infinity"),
    pytest.param(body('"service": 18446744073709551616'), "events[0].service", 400, 400, id="2^64"),
    pytest.param(ev(id="evt\u0000-1"), "events[0].id", 400, 400, id="NUL"),
    pytest.param(ev(username="anna\u0000"), "events[0].username", 400, 400, id="NUL-name"),
    pytest.param('{"events": [{"id\\u0000": 1}]}', "events[0]", 400, 400, id="NUL-key"),
    pytest.param(ev(username="\ud800"), "events[0].username", 400, 400, id="lone-surrogate"),
    pytest.param(ev(id="\udfff\ud800"), "events[0].id", 400, 400, id="reversed-pair"),
    pytest.param(
        '{"events": [], "events": [' + json.dumps(web_event()) + "]}",
        "events",
        400,
        400,
        id="duplicate-key",
    ),
    pytest.param(
        body('"ip": "203.0.113.8"').replace('"ip": "203.0.113.7", ', '"ip": 1, '),
        "events[0].ip",
        400,
        400,
        id="duplicate-field",
    ),
    pytest.param(b'{"events": "\xff\xfe"}', "", 400, 400, id="not-utf8"),
    pytest.param(b"\xef\xbb\xbf" + ev().encode(), "", 400, 400, id="bom"),
    pytest.param(ev() + " {}", "", 400, 400, id="trailing"),
    pytest.param("", "", 400, 422, id="empty"),
    # the right JSON, the wrong shapes: the API's schema answers 422 with the place
    pytest.param(ev(id="x" * 500_000), "events[0].id", 400, 422, id="huge-id"),
    pytest.param(ev(username="å" * 151), "events[0].username", 400, 422, id="long-name"),
    pytest.param(ev(outcome=1), "events[0].outcome", 400, 422, id="outcome-int"),
    pytest.param(ev(at=["2026-11-24T22:14:01Z"]), "events[0].at", 400, 422, id="at-list"),
    pytest.param(ev(ip={"v4": "203.0.113.7"}), "events[0].ip", 400, 422, id="ip-object"),
    pytest.param('{"events": {"0": {}}}', "events", 400, 422, id="events-object"),
    pytest.param("[]", "", 400, 422, id="array"),
    pytest.param('"events"', "", 400, 422, id="string"),
    pytest.param(
        '{"events": [' + ", ".join([json.dumps(web_event())] * 1001) + "]}",
        "events",
        400,
        422,
        id="1001-events",
    ),
]


@pytest.mark.parametrize(("data", "field", "web_status", "api_status"), HOSTILE)
@pytest.mark.parametrize("api", [False, True], ids=["ingest-token", "api"])
def test_hostile_json_is_refused_with_its_place_and_nothing_is_stored(
    client, ingest_token, api_token, api, data, field, web_status, api_status
):
    response = web_post(client, api_token if api else ingest_token, data, api)
    assert response.status_code == (api_status if api else web_status), response.content[:300]
    answer = response.json()
    if response.status_code == 422:
        assert answer["detail"] and all("loc" in problem for problem in answer["detail"])
    elif field:
        assert answer["field"].startswith(field), answer
        assert field in (answer["detail"] if api else answer["error"])
    assert "Traceback" not in response.content.decode("utf-8", "replace")
    assert LoginEvent.objects.count() == 0
    assert WebEventSeen.objects.count() == ApiEventSeen.objects.count() == 0


@pytest.mark.parametrize("api", [False, True], ids=["ingest-token", "api"])
def test_a_body_over_a_megabyte_is_refused_unread(client, ingest_token, api_token, api):
    data = ev(id="x" * 1_100_000)
    response = web_post(client, api_token if api else ingest_token, data, api)
    assert response.status_code == (400 if api else 413)
    assert LoginEvent.objects.count() == 0


# -- item 14: the real forms of sshd's lines ------------------------------------------------


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        # Red Hat / CentOS 4-5: PAM under the tag sshd(pam_unix)
        (
            "sshd(pam_unix)[2101]: authentication failure; logname= uid=0 euid=0 tty=NODEVssh "
            "ruser= rhost=203.0.113.17  user=root",
            ("failure", "pam", "root", "203.0.113.17"),
        ),
        (
            "sshd(pam_unix)[2101]: authentication failure; logname= uid=0 euid=0 tty=NODEVssh "
            "ruser= rhost=198.51.100.24",
            ("failure", "pam", "", "198.51.100.24"),
        ),
        (
            "sshd(pam_unix)[2101]: authentication failure; logname= uid=0 euid=0 tty=NODEVssh "
            "ruser= rhost=bad.example.com  user=admin",
            ("failure", "pam", "admin", "bad.example.com"),
        ),
        (
            "sshd(pam_unix)[2101]: authentication failure; logname= uid=0 euid=0 tty=NODEVssh "
            "ruser= rhost=",
            sshd.NOT_LOGIN,
        ),  # a local failure
        ("sshd(pam_unix)[2104]: session opened for user anna by (uid=0)", sshd.NOT_LOGIN),
        ("sshd(pam_unix)[2105]: check pass; user unknown", sshd.NOT_LOGIN),
        (
            "sshd(pam_unix)[2106]: 2 more authentication failures; logname= uid=0 euid=0 "
            "tty=NODEVssh ruser= rhost=203.0.113.17  user=root",
            sshd.NOT_LOGIN,
        ),
        # the port came with OpenSSH 7
        (
            "sshd[7]: Connection closed by 203.0.113.19 [preauth]",
            ("aborted", "preauth", "", "203.0.113.19"),
        ),
        (
            "sshd[7]: Connection closed by 2001:db8:7::12 [preauth]",
            ("aborted", "preauth", "", "2001:db8:7::12"),
        ),
        ("sshd[7]: Connection closed by 203.0.113.19", sshd.NOT_LOGIN),  # after a session
        # repeats an `Invalid user` line: not counted twice
        ("sshd[7]: input_userauth_request: invalid user oracle [preauth]", sshd.NOT_LOGIN),
        (
            "sshd[7]: Disconnected from invalid user oracle 203.0.113.12 port 4 [preauth]",
            ("aborted", "preauth", "oracle", "203.0.113.12"),
        ),
        (
            "sshd[7]: Disconnected from authenticating user root 203.0.113.10 port 4 [preauth]",
            ("aborted", "preauth", "root", "203.0.113.10"),
        ),
        (
            "sshd[7]: Received disconnect from 203.0.113.12 port 4:11: Bye Bye [preauth]",
            sshd.NOT_LOGIN,
        ),
        (
            "sshd[7]: Received disconnect from 198.51.100.25: 11: Normal Shutdown [preauth]",
            sshd.NOT_LOGIN,
        ),
        (
            "sshd[7]: PAM 5 more authentication failures; logname= uid=0 euid=0 tty=ssh ruser= "
            "rhost=198.51.100.23",
            sshd.NOT_LOGIN,
        ),
        (
            "sshd[7]: error: maximum authentication attempts exceeded for root from 203.0.113.10 "
            "port 4 ssh2 [preauth]",
            sshd.NOT_LOGIN,
        ),
        (
            "sshd[7]: Disconnecting invalid user admin 198.51.100.20 port 5: Too many "
            "authentication failures [preauth]",
            sshd.NOT_LOGIN,
        ),
        ("sshd[7]: Disconnecting: Too many authentication failures [preauth]", sshd.NOT_LOGIN),
        (
            "sshd[7]: Failed none for invalid user ubnt from 203.0.113.13 port 6 ssh2",
            ("failure", "none", "ubnt", "203.0.113.13"),
        ),
        (
            "sshd[7]: Did not receive identification string from 203.0.113.21 port 40013",
            sshd.NOT_LOGIN,
        ),
        ("sshd[7]: Did not receive identification string from 198.51.100.26", sshd.NOT_LOGIN),
        (
            "sshd[7]: Invalid user test from 203.0.113.14",
            ("failure", "invalid_user", "test", "203.0.113.14"),
        ),
        (
            "sshd[7]: User root from 203.0.113.15 not allowed because not listed in AllowUsers",
            ("failure", "not_allowed", "root", "203.0.113.15"),
        ),
        ("sshd[7]: User root not allowed because account is locked", sshd.NOT_LOGIN),
        (
            "sshd[7]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh "
            "ruser= rhost=scanner.example.net  user=root",
            ("failure", "pam", "root", "scanner.example.net"),
        ),
        ("sshd[7]: Received SIGHUP; restarting.", sshd.NOT_LOGIN),
    ],
)
def test_the_real_forms_of_sshds_lines_are_read_right(message, expected):
    found = sshd.parse_line(f"Nov 24 22:14:01 web1 {message}", sshd.Timestamps(STOCKHOLM, NOW))
    if isinstance(expected, str):
        assert found == expected
    else:
        [attempt] = found
        assert (attempt.outcome, attempt.method, attempt.username, attempt.address) == expected


# The fixture's forms (data/authlog_forms.json gives their lines in file order) and what each
# must be read as: events by outcome, or lines skipped by category.
F, A, S = "failure", "aborted", "success"
READ_AS = {
    "failed_password": {F: 3},
    "failed_invalid_user": {F: 2},
    "failed_none": {F: 2},
    "invalid_user": {F: 3},
    "input_userauth_request": {sshd.NOT_LOGIN: 2},
    "not_allowed": {F: 2},
    "pam_failure": {F: 2},
    "pam_failure_hostname": {F: 1},
    "old_pam_failure": {F: 3},
    "old_pam_other": {sshd.NOT_LOGIN: 4},
    "pam_more_failures": {sshd.NOT_LOGIN: 2},
    "max_attempts": {sshd.NOT_LOGIN: 2},
    "disconnecting": {sshd.NOT_LOGIN: 2},
    "closed_user_preauth": {A: 2},
    "closed_preauth": {A: 1},
    "closed_preauth_no_port": {A: 2},
    "disconnected_user_preauth": {A: 2},
    "received_disconnect_preauth": {sshd.NOT_LOGIN: 2},
    "no_identification": {sshd.NOT_LOGIN: 2},
    "accepted": {S: 2},
    "repeated": {F: 3 + 2},
    "session": {sshd.NOT_LOGIN: 4},
    "other_programs": {sshd.OTHER: 2},
}


def test_each_form_of_the_fixture_log_is_read_as_written_down():
    forms = json.loads((DATA / "authlog_forms.json").read_text())["forms"]
    lines = (DATA / "authlog_forms.log").read_text().splitlines()
    assert [f["form"] for f in forms] == list(READ_AS)
    assert sum(f["lines"] for f in forms) == len(lines) == 51
    times, start = sshd.Timestamps(STOCKHOLM, NOW), 0
    for form in forms:
        read: Counter = Counter()
        for line in lines[start : start + form["lines"]]:
            found = sshd.parse_line(line, times)
            read.update([found] if isinstance(found, str) else [a.outcome for a in found])
        start += form["lines"]
        assert dict(read) == READ_AS[form["form"]], form["form"]


def test_the_fixture_log_ingested_whole(shares, policy, tmp_path):
    log = tmp_path / "auth.log"
    shutil.copy(DATA / "authlog_forms.log", log)
    os.utime(log, (NOW.timestamp(), NOW.timestamp()))
    report = ingest_files([log], policy, now=NOW)
    # 3+2+2+3+2+2+1+3+(3+2) failures, 2+1+2+2 closed before authentication, 2 successes
    assert outcomes() == {"failure": 23, "aborted": 7, "success": 2}
    assert (report.lines, report.events) == (51, 32)
    # 2+4+2+2+2+2+2+4 lines that are sshd's but no attempt; CRON and sudo
    assert dict(report.skipped) == {sshd.NOT_LOGIN: 20, sshd.OTHER: 2}
    assert LoginEvent.objects.filter(network="").count() == 2  # the two rhost host names
