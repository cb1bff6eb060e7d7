"""A realistic, deterministic Debian/Ubuntu auth.log for benchmarks and parser tests.

    .venv/bin/python bench/authlog.py OUT --lines 1000000            # about 5 s
    .venv/bin/python bench/authlog.py OUT --lines 20000 --samples 5  # and show lines per kind
    .venv/bin/python bench/authlog.py OUT --distinct                 # every line another address

or, with bench/ on sys.path, `from authlog import generate`. The same seed and arguments give
the same file, byte for byte.

Lines are in time order, with classic syslog timestamps without a year
(`Nov  5 03:14:15 web1 sshd[1234]: ...`, the day padded with a space), starting at `start`
and about 3 s apart (0.5 s inside an attacker's burst). The host "bastion" runs OpenSSH 9.8+:
its per-connection lines come from `sshd-session` instead of `sshd`.

The mix (share of all lines, `malformed` = 0.05):

* failed_password  35%  Failed password for root from 61.177.172.9 port 41322 ssh2
* failed_invalid   10%  Failed password for invalid user admin from ... port N ssh2
* invalid_user     10%  Invalid user admin from 61.177.172.9 port 41322
* accepted          6%  Accepted password/publickey for anna from ... (publickey: key type
                        and SHA256 fingerprint after "ssh2: ")
* repeated          3%  message repeated 3 times: [ Failed password for root from ... ssh2]
                        (2 to 5 times; counted as repeated.N)
* pam_failure       5%  pam_unix(sshd:auth): authentication failure; ... rhost=IP  user=root
                        (no user= for unknown users; 2% with a host name as rhost)
* closed            8%  Connection closed by authenticating/invalid user ... [preauth],
                        Disconnected from authenticating/invalid user ... [preauth]
* other            18%  lines that are no login event: sshd sessions opened and closed,
                        Received disconnect, Disconnected from user, Connection closed by IP
                        [preauth], kex and negotiation errors, CRON, sudo, su, systemd-logind
* malformed         5%  truncated lines, garbage bytes (invalid UTF-8, NUL runs), no
                        timestamp, an impossible timestamp (Nov 31, 25:..), sshd lines with
                        an invalid IP (999.1.1.1, 1.2.3, 2001:db8::g1), blank lines

Rare but real user names (about 0.3% of unknown names) are counted apart as "tricky.*": the
empty name (`Invalid user  from ...`), a name with a space, and a name that itself contains
" from 10.0.0.1" (log injection: the real address is the last one).

Addresses: about 10% IPv6 (2001:db8::/32 and global prefixes: 2a01:4f8 DE, 2001:6b0 SE,
240e CN, ...), the rest IPv4 from some 4,000 addresses in about 100 real-world /16s over
90 /8s (CN, US, RU, DE, FR, BR, VN, IN, KR, ...); 40 attacker /24s and 6 /64s send bursts of
20 to several hundred failures. Known users (about 200 names) log in from Nordic home
addresses, each user from one or two of them.
"""

from __future__ import annotations

import argparse
import base64
import ipaddress
import random
import sys
import time
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path

START = datetime(2026, 10, 1)
HOSTS = ("web1", "web2", "db1", "mail", "bastion")
SESSION_HOSTS = frozenset({"bastion"})  # OpenSSH 9.8+: sshd-session logs the connections


def _words(text: str) -> list[str]:
    return text.split()


MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

# Share of all lines, in percent; scaled so that with `malformed` they add up to 100.
MIX = {
    "failed_password": 35,
    "failed_invalid": 10,
    "invalid_user": 10,
    "accepted": 6,
    "repeated": 3,
    "pam_failure": 5,
    "closed": 8,
    "other": 18,
}
OTHER = {
    "session_opened": 16,
    "session_closed": 14,
    "received_disconnect": 12,
    "disconnected_user": 8,
    "closed_preauth": 8,
    "kex": 5,
    "negotiate": 3,
    "check_pass": 3,
    "listening": 0.3,
    "cron_opened": 10,
    "cron_closed": 10,
    "sudo_command": 3,
    "sudo_opened": 2,
    "sudo_closed": 2,
    "logind_new": 5,
    "logind_removed": 4,
    "systemd_user": 2,
    "su": 1,
}
CLOSED = {
    "closed_authenticating": 35,
    "closed_invalid": 30,
    "disconnected_invalid": 25,
    "disconnected_authenticating": 10,
}
MALFORMED = {
    "truncated": 25,
    "garbage": 20,
    "no_timestamp": 15,
    "bad_ip": 20,
    "blank": 10,
    "bad_timestamp": 10,
}

PEOPLE = _words("""
anna bo erik lars karin maria eva lena kerstin johan per nils jan olof sven ingrid
birgitta marie christina sara emma elin ida julia hanna linnea ebba alva wilma maja alice astrid
freja saga olivia ella vera stella selma signe tyra edith agnes klara moa nora lilly juni tilda
elsa leah isak oscar william liam hugo lucas elias noah adam viktor axel theo ludvig leo olle
alfred gustav arvid harry vincent sixten melvin frans ebbe love otto valter sigge malte vidar
loke max anton filip emil jonas mattias fredrik henrik andreas daniel martin magnus mikael
stefan thomas peter anders mats patrik tobias niklas marcus jesper rasmus simon david linus
sebastian robin kristoffer joakim jimmy dennis kim pontus jonatan oskar gabriel samuel benjamin
jakob josef petra camilla jenny sofia malin jessica therese linda helena susanne annika ulrika
cecilia karolina frida emelie matilda josefin johanna louise amanda rebecka hedvig mimmi lovisa
ronja nellie tove tuva wera siri ylva asa ake orjan gosta goran sture bengt rolf leif kjell
bjorn ulf hakan stig ove""")
SERVICE = _words("""
deploy git backup ansible ubuntu debian postgres jenkins gitlab-runner grafana
prometheus borg restic svc-web svc-api release ops sftpuser nagios zabbix""")
UNKNOWN = _words("""
admin oracle test ubnt user guest support pi ftpuser hadoop mysql tomcat minecraft
steam ts3 teamspeak odoo es elastic user1 test1 test2 administrator default centos vagrant sol
solana validator ethereum node dev developer pruebas usuario 1234 0 ftp www web server kafka
zookeeper redis mongo apache nginx docker k8s kube jira confluence demo temp tmp student
teacher sysadmin operator manager office postmaster webmaster info sales guest1 dbadmin oracle1
testuser test123 ubuntu1 user01 mcserver sftp backup1 bitcoin trader admin123 Admin""")
# Real-world /16s (first two octets): attackers' and scanners' networks ...
WORLD_V4 = _words("""
61.177 218.92 222.186 112.85 183.136 180.101 116.31 117.50 121.4 115.238 45.55
104.248 167.99 138.68 159.89 134.209 64.225 206.189 165.227 3.91 18.217 34.70 35.196 20.115
52.170 5.188 95.165 91.240 46.161 176.59 109.70 78.46 88.99 95.217 138.201 144.76 5.9 116.202
157.90 49.12 89.248 141.98 51.15 37.187 91.121 164.132 212.83 86.12 81.2 103.152 117.200
49.36 177.66 179.43 187.45 189.6 200.146 201.48 121.128 211.253 220.94 14.225 113.160 171.244
36.89 153.120 126.15 128.199 159.65 41.216 197.210 102.165 190.2 181.49 186.10 62.210 2.56
77.37 94.23 31.13 185.156 193.32 43.153 119.45 101.36 27.71 39.98 60.191 58.218 123.57
125.124 175.6 150.109 106.75 139.59 147.182 146.190 143.198 170.64 192.99 198.199
216.128""")
# ... and Nordic access networks the known users log in from.
HOME_V4 = _words("""
81.224 90.224 83.250 85.224 130.237 193.10 213.64 31.208 78.69 94.254 84.216 188.149
151.177 84.208 87.59 91.152 195.198 62.20 80.216""")
WORLD_V6 = (
    "2001:db8",
    "2a01:4f8",
    "2604:a880",
    "2400:6180",
    "2001:41d0",
    "2a03:b0c0",
    "240e:3b0",
    "2409:8a1e",
    "2001:470",
    "2a02:c7c",
    "2a05:d014",
    "2600:1f18",
    "2a0e:97c0",
    "2401:db00",
)
HOME_V6 = ("2001:6b0", "2a02:aa1", "2a00:801", "2001:db8")
KEY_TYPES = ("ED25519",) * 7 + ("RSA",) * 2 + ("ECDSA",)
COMMANDS = (
    "/usr/bin/apt update",
    "/usr/bin/apt upgrade -y",
    "/usr/bin/systemctl restart nginx",
    "/usr/bin/journalctl -u gallra",
    "/usr/bin/tail -f /var/log/syslog",
    "/usr/sbin/reboot",
    "/usr/bin/docker ps",
)
NEGOTIATE = (
    "no matching key exchange method found. Their offer: diffie-hellman-group14-sha1,"
    "diffie-hellman-group-exchange-sha1,diffie-hellman-group1-sha1",
    "no matching host key type found. Their offer: ssh-rsa,ssh-dss",
)


def v6(rng: random.Random, prefix: str, server: bool) -> str:
    """An address in the /32 `prefix`: a server-looking ::N or a random interface id."""
    net = int(ipaddress.IPv6Address(prefix + "::")) + (rng.getrandbits(32) << 64)
    low = rng.randrange(1, 300) if server else rng.getrandbits(64)
    return ipaddress.IPv6Address(net + low).compressed


def pools(rng: random.Random) -> dict:
    def v4(prefixes: list[str], n: int) -> list[str]:
        return [
            f"{rng.choice(prefixes)}.{rng.randrange(256)}.{rng.randrange(1, 255)}" for _ in range(n)
        ]

    attackers = [f"{rng.choice(WORLD_V4[:40])}.{rng.randrange(256)}" for _ in range(40)]
    attackers6 = [v6(rng, rng.choice(WORLD_V6), True).rsplit(":", 1)[0] for _ in range(6)]
    known = list(dict.fromkeys(PEOPLE + SERVICE))
    homes = v4(HOME_V4, 160) + [v6(rng, rng.choice(HOME_V6), False) for _ in range(20)]
    return {
        "world4": v4(WORLD_V4, 4000),
        "world6": [v6(rng, rng.choice(WORLD_V6), rng.random() < 0.5) for _ in range(400)],
        "attackers": attackers,
        "attackers6": attackers6,
        "known": known,
        "uid": {u: 1000 + i for i, u in enumerate(known)},
        "home": {u: rng.sample(homes, rng.choice((1, 1, 2))) for u in known},
        "keys": {
            u: (rng.choice(KEY_TYPES), base64.b64encode(rng.randbytes(32)).decode()[:43])
            for u in known
        },
    }


def garbage(rng: random.Random, n: int) -> str:
    """n random bytes (no newline) as text: bytes >= 0x80 as surrogates (surrogateescape)."""
    out = []
    for b in rng.randbytes(n):
        if b == 10:
            b = 63
        out.append(chr(0xDC00 + b) if b >= 0x80 else chr(b))
    return "".join(out)


def generate(
    path: str | Path,
    lines: int,
    seed: int = 1,
    malformed: float = 0.05,
    start: datetime = START,
    hosts: Sequence[str] = HOSTS,
    samples: dict[str, list[str]] | None = None,
    keep: int = 10,
) -> Counter:
    """Write `lines` lines to path; counts per kind ("kind" or "kind.variant").

    If samples is a dict, the first `keep` lines of every kind are put in it (as written,
    garbage bytes as lone surrogates: encode with "surrogateescape" to get the bytes).
    """
    rng = random.Random(seed)
    p = pools(rng)
    world4, world6, known, uid, home, keys = (
        p["world4"],
        p["world6"],
        p["known"],
        p["uid"],
        p["home"],
        p["keys"],
    )
    daemon = {h: "sshd-session" if h in SESSION_HOSTS else "sshd" for h in hosts}
    listener = {h: rng.randrange(500, 1500) for h in hosts}
    session_no = dict.fromkeys(hosts, rng.randrange(1, 5000))
    good = 1.0 - malformed
    total = sum(MIX.values())
    kinds = [*MIX, "malformed"]
    cum, acc = [], 0.0
    for k in kinds:
        acc += MIX[k] * good / total if k in MIX else malformed
        cum.append(acc)
    other_kinds, other_cum = list(OTHER), _cum(OTHER)
    closed_kinds, closed_cum = list(CLOSED), _cum(CLOSED)
    bad_kinds, bad_cum = list(MALFORMED), _cum(MALFORMED)

    r = rng.random
    counts: Counter = Counter()
    keep = keep if samples is not None else 0
    t = 0.0
    last_sec = -1
    ts = ""
    burst = 0  # attack lines left in the current burst
    burst_net = burst_host = ""
    burst_single = False
    conn = None  # the last attacker connection: (host, pid, ip, port, user, invalid)

    def attack_ip() -> str:
        if burst and r() < 0.85:
            if burst_single:
                return burst_net
            if ":" in burst_net:
                return f"{burst_net}:{rng.randrange(1, 0xFFFF):x}"
            return f"{burst_net}.{int(r() * 254) + 1}"
        return world6[int(r() * len(world6))] if r() < 0.10 else world4[int(r() * len(world4))]

    def unknown_user() -> tuple[str, str | None]:
        x = r()
        if x < 0.003:
            v = int(x * 1000)
            return (
                ("", "empty_user"),
                ("admin admin", "space_in_user"),
                ("x from 10.0.0.1", "from_in_user"),
            )[v]
        if x < 0.25:
            n = int(r() * 8) + 3
            return "".join(rng.choices("abcdefghijklmnopqrstuvwxyz0123456789", k=n)), None
        return UNKNOWN[int(r() * len(UNKNOWN))], None

    def connection(invalid: bool) -> tuple:
        nonlocal conn
        if conn is not None and conn[5] == invalid and r() < 0.45:
            return conn
        host = burst_host if burst else hosts[int(r() * len(hosts))]
        if invalid:
            user, tricky = unknown_user()
        else:
            user = "root" if r() < 0.65 else known[int(r() * len(known))]
            tricky = None
        conn = (
            host,
            int(r() * 900_000) + 1000,
            attack_ip(),
            int(r() * 64_000) + 1024,
            user,
            invalid,
            tricky,
        )
        return conn

    path = Path(path)
    with path.open("wb") as f:
        buf: list[str] = []
        for chunk_start in range(0, lines, 100_000):
            n = min(100_000, lines - chunk_start)
            for kind in rng.choices(kinds, cum_weights=cum, k=n):
                # the clock
                t += rng.expovariate(2.0 if burst else 1 / 3)
                sec = int(t)
                if sec != last_sec:
                    last_sec = sec
                    d = start + timedelta(seconds=sec)
                    ts = (
                        f"{MONTHS[d.month - 1]} {d.day:2d} "
                        f"{d.hour:02d}:{d.minute:02d}:{d.second:02d}"
                    )
                attack = kind not in ("accepted", "other", "malformed")
                if attack:
                    if burst:
                        burst -= 1
                    elif r() < 1 / 150:
                        burst = int(rng.expovariate(1 / 150)) + 20
                        burst_host = hosts[int(r() * len(hosts))]
                        burst_single = r() < 0.6
                        if r() < 0.10:
                            burst_net = rng.choice(p["attackers6"])
                            if burst_single:
                                burst_net += f":{rng.randrange(1, 0xFFFF):x}"
                        else:
                            burst_net = rng.choice(p["attackers"])
                            if burst_single:
                                burst_net += f".{rng.randrange(1, 255)}"
                key = kind
                tricky = None
                if kind == "failed_password":
                    host, pid, ip, port, user, _, _ = connection(False)
                    msg = f"Failed password for {user} from {ip} port {port} ssh2"
                elif kind == "failed_invalid":
                    host, pid, ip, port, user, _, tricky = connection(True)
                    msg = f"Failed password for invalid user {user} from {ip} port {port} ssh2"
                elif kind == "invalid_user":
                    host, pid, ip, port, user, _, tricky = connection(True)
                    msg = f"Invalid user {user} from {ip} port {port}"
                elif kind == "repeated":
                    invalid = r() < 0.2
                    host, pid, ip, port, user, _, tricky = connection(invalid)
                    who = f"invalid user {user}" if invalid else user
                    times = (2, 3, 3, 3, 4, 5)[int(r() * 6)]
                    key = f"repeated.{times}"
                    msg = (
                        f"message repeated {times} times: [ Failed password for {who} from "
                        f"{ip} port {port} ssh2]"
                    )
                elif kind == "pam_failure":
                    invalid = r() < 0.3
                    host, pid, ip, port, user, _, tricky = connection(invalid)
                    tricky = None  # pam_unix never names an unknown user
                    if r() < 0.02:
                        key = "pam_failure.hostname"
                        ip = f"{ip.replace('.', '-').replace(':', '-')}.static.example.net"
                    msg = (
                        "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 "
                        f"tty=ssh ruser= rhost={ip}"
                    )
                    if not invalid:
                        msg += f"  user={user}"
                elif kind == "closed":
                    sub = rng.choices(closed_kinds, cum_weights=closed_cum)[0]
                    key = f"closed.{sub}"
                    invalid = "invalid" in sub
                    host, pid, ip, port, user, _, tricky = connection(invalid)
                    how = "invalid" if invalid else "authenticating"
                    what = "Disconnected from" if sub.startswith("disc") else "Connection closed by"
                    msg = f"{what} {how} user {user} {ip} port {port} [preauth]"
                elif kind == "accepted":
                    host = hosts[int(r() * len(hosts))]
                    pid = int(r() * 900_000) + 1000
                    user = known[int(r() * len(known))]
                    ip = rng.choice(home[user])
                    port = int(r() * 64_000) + 1024
                    if r() < 0.7:
                        key = "accepted.publickey"
                        ktype, fp = keys[user]
                        msg = (
                            f"Accepted publickey for {user} from {ip} port {port} ssh2: "
                            f"{ktype} SHA256:{fp}"
                        )
                    else:
                        key = "accepted.password"
                        msg = f"Accepted password for {user} from {ip} port {port} ssh2"
                elif kind == "other":
                    sub = rng.choices(other_kinds, cum_weights=other_cum)[0]
                    key = f"other.{sub}"
                    host, msg = _other(
                        sub,
                        rng,
                        hosts,
                        known,
                        uid,
                        home,
                        attack_ip,
                        session_no,
                        daemon,
                        listener,
                        ts,
                    )
                    buf.append(msg)
                    counts[key] += 1
                    if counts[key] <= keep:
                        samples.setdefault(key, []).append(msg)
                    continue
                else:
                    sub = rng.choices(bad_kinds, cum_weights=bad_cum)[0]
                    key = f"malformed.{sub}"
                    line = _malformed(sub, rng, hosts, daemon, ts, attack_ip, known)
                    buf.append(line)
                    counts[key] += 1
                    if counts[key] <= keep:
                        samples.setdefault(key, []).append(line)
                    continue
                line = f"{ts} {host} {daemon[host]}[{pid}]: {msg}"
                buf.append(line)
                counts[key] += 1
                if counts[key] <= keep:
                    samples.setdefault(key, []).append(line)
                if tricky:
                    tkey = f"tricky.{tricky}"
                    counts[tkey] += 1
                    if counts[tkey] <= keep:
                        samples.setdefault(tkey, []).append(line)
            buf.append("")
            f.write("\n".join(buf).encode("utf-8", "surrogateescape"))
            buf = []
    return counts


def generate_distinct(
    path: str | Path, lines: int, seed: int = 1, start: datetime = START
) -> Counter:
    """Write `lines` failed logins, each from an address of its own: the worst case for what
    an ingest keeps per address. Counts per kind, as `generate`.

    IPv4 addresses are spread over the whole space (the line number times an odd constant,
    modulo 2**32: no two alike); every tenth line is IPv6 instead, in 2001:db8::/32 with the
    line number in its bits 32-63 (a /48 of its own). Half the lines name root, the other
    half an invalid user of random letters. One line a second.
    """
    rng = random.Random(seed)
    hosts = HOSTS
    counts: Counter = Counter()
    path = Path(path)
    with path.open("wb") as f:
        for chunk_start in range(0, lines, 100_000):
            buf = []
            for i in range(chunk_start, min(lines, chunk_start + 100_000)):
                d = start + timedelta(seconds=i)
                ts = f"{MONTHS[d.month - 1]} {d.day:2d} {d.hour:02d}:{d.minute:02d}:{d.second:02d}"
                if i % 10 == 9:
                    ip = str(ipaddress.IPv6Address((0x20010DB8 << 96) | (i << 64) | 1))
                else:
                    ip = str(ipaddress.IPv4Address((i * 2654435761 + seed) % (1 << 32)))
                host = hosts[i % len(hosts)]
                port = 1024 + i % 60_000
                if i % 2:
                    user = "".join(rng.choices("abcdefghijklmnopqrstuvwxyz", k=8))
                    msg = f"Failed password for invalid user {user} from {ip} port {port} ssh2"
                    counts["failed_invalid"] += 1
                else:
                    msg = f"Failed password for root from {ip} port {port} ssh2"
                    counts["failed_password"] += 1
                buf.append(f"{ts} {host} sshd[{1000 + i % 90_000}]: {msg}\n")
            f.write("".join(buf).encode())
    return counts


def _cum(weights: dict) -> list[float]:
    out, acc = [], 0.0
    for w in weights.values():
        acc += w
        out.append(acc)
    return out


def _other(sub, rng, hosts, known, uid, home, attack_ip, session_no, daemon, listener, ts):
    """A line that is no login event: (host, the whole line)."""
    host = hosts[int(rng.random() * len(hosts))]
    user = known[int(rng.random() * len(known))]
    pid = rng.randrange(1000, 901_000)
    port = rng.randrange(1024, 65_536)
    sshd = f"{ts} {host} {daemon[host]}[{pid}]: "
    if sub == "session_opened":
        if rng.random() < 0.3:  # older pam_unix
            return host, f"{sshd}pam_unix(sshd:session): session opened for user {user} by (uid=0)"
        return host, (
            f"{sshd}pam_unix(sshd:session): session opened for user "
            f"{user}(uid={uid[user]}) by (uid=0)"
        )
    if sub == "session_closed":
        return host, f"{sshd}pam_unix(sshd:session): session closed for user {user}"
    if sub == "received_disconnect":
        if rng.random() < 0.4:
            return (
                host,
                f"{sshd}Received disconnect from {attack_ip()} port {port}:11: Bye Bye [preauth]",
            )
        ip = rng.choice(home[user])
        return host, f"{sshd}Received disconnect from {ip} port {port}:11: disconnected by user"
    if sub == "disconnected_user":
        return host, f"{sshd}Disconnected from user {user} {rng.choice(home[user])} port {port}"
    if sub == "closed_preauth":
        return host, f"{sshd}Connection closed by {attack_ip()} port {port} [preauth]"
    if sub == "kex":
        x = rng.random()
        if x < 0.4:
            return (
                host,
                f"{sshd}error: kex_exchange_identification: Connection closed by remote host",
            )
        if x < 0.7:
            return host, f"{sshd}error: kex_exchange_identification: read: Connection reset by peer"
        return (
            host,
            f"{sshd}banner exchange: Connection from {attack_ip()} port {port}: invalid format",
        )
    if sub == "negotiate":
        return host, (
            f"{sshd}Unable to negotiate with {attack_ip()} port {port}: "
            f"{rng.choice(NEGOTIATE)} [preauth]"
        )
    if sub == "check_pass":
        return host, f"{sshd}pam_unix(sshd:auth): check pass; user unknown"
    if sub == "listening":
        where = "0.0.0.0" if rng.random() < 0.5 else "::"  # noqa: S104
        return host, f"{ts} {host} sshd[{listener[host]}]: Server listening on {where} port 22."
    if sub in ("cron_opened", "cron_closed"):
        who, n = ("root", 0) if rng.random() < 0.85 else ("www-data", 33)
        if sub == "cron_opened":
            what = f"session opened for user {who}(uid={n}) by (uid=0)"
        else:
            what = f"session closed for user {who}"
        return host, f"{ts} {host} CRON[{pid}]: pam_unix(cron:session): {what}"
    if sub == "sudo_command":
        return host, (
            f"{ts} {host} sudo: {user:>8} : TTY=pts/{rng.randrange(4)} ; "
            f"PWD=/home/{user} ; USER=root ; COMMAND={rng.choice(COMMANDS)}"
        )
    if sub == "sudo_opened":
        return host, (
            f"{ts} {host} sudo: pam_unix(sudo:session): session opened for user "
            f"root(uid=0) by {user}(uid={uid[user]})"
        )
    if sub == "sudo_closed":
        return host, f"{ts} {host} sudo: pam_unix(sudo:session): session closed for user root"
    if sub == "logind_new":
        session_no[host] += 1
        return host, (
            f"{ts} {host} systemd-logind[{listener[host] - 90}]: New session "
            f"{session_no[host]} of user {user}."
        )
    if sub == "logind_removed":
        n = session_no[host] - rng.randrange(3)
        what = (
            f"Removed session {n}."
            if rng.random() < 0.5
            else (f"Session {n} logged out. Waiting for processes to exit.")
        )
        return host, f"{ts} {host} systemd-logind[{listener[host] - 90}]: {what}"
    if sub == "systemd_user":
        return host, (
            f"{ts} {host} systemd[{pid}]: pam_unix(systemd-user:session): session "
            f"opened for user {user}(uid={uid[user]}) by (uid=0)"
        )
    # su
    if rng.random() < 0.5:
        return host, f"{ts} {host} su[{pid}]: (to root) {user} on pts/{rng.randrange(4)}"
    return host, (
        f"{ts} {host} su[{pid}]: pam_unix(su-l:session): session opened for user "
        f"root(uid=0) by {user}(uid={uid[user]})"
    )


BAD_TIMES = (
    "Nov 31 {h:02d}:{m:02d}:{s:02d}",
    "Feb 30 {h:02d}:{m:02d}:{s:02d}",
    "Oct {d:2d} 25:{m:02d}:{s:02d}",
    "Oct {d:2d} {h:02d}:61:{s:02d}",
    "Foo {d:2d} {h:02d}:{m:02d}:{s:02d}",
    "Oct {d:2d} {h:02d}:{m:02d}",
)


def _bad_ip(rng: random.Random) -> str:
    a, b, c, d = (rng.randrange(256) for _ in range(4))
    return rng.choice(
        (
            f"999.{b}.{c}.{d}",
            f"{256 + a}.{b}.{c}.{d}",
            f"{a}.{b}.{c}",
            f"{a}.{b}.{c}.{d}.{b}",
            f"{a}.{b}.{c}.{300 + d}",
            f"2001:db8::g{a}",
            f"2a01:4f8:::{a:x}",
            f"{a}.{b}.{c}.{d}x",
        )
    )


def _malformed(sub, rng, hosts, daemon, ts, attack_ip, known) -> str:
    host = hosts[int(rng.random() * len(hosts))]
    pid = rng.randrange(1000, 901_000)
    port = rng.randrange(1024, 65_536)
    head = f"{host} {daemon[host]}[{pid}]: "
    user = "root" if rng.random() < 0.6 else rng.choice(UNKNOWN + known)
    if sub == "truncated":  # cut anywhere before the address is complete
        ip = attack_ip()
        line = f"{ts} {head}Failed password for {user} from {ip} port {port} ssh2"
        return line[: rng.randrange(8, line.index(" from ") + 8)]
    if sub == "garbage":
        x = rng.random()
        if x < 0.4:
            return garbage(rng, rng.randrange(8, 160))
        if x < 0.8:
            return f"{ts} {head}" + garbage(rng, rng.randrange(4, 80))
        # a run of NULs (an unclean shutdown), then the next line glued on
        nuls = "\x00" * rng.randrange(16, 400)
        return f"{nuls}{ts} {head}Invalid user {user} from {attack_ip()} port {port}"
    if sub == "no_timestamp":
        return f"{head}Failed password for {user} from {attack_ip()} port {port} ssh2"
    if sub == "bad_ip":
        ip = _bad_ip(rng)
        x = rng.random()
        if x < 0.5:
            return f"{ts} {head}Failed password for {user} from {ip} port {port} ssh2"
        if x < 0.8:
            return f"{ts} {head}Invalid user {user} from {ip} port {port}"
        return f"{ts} {head}Accepted password for {user} from {ip} port {port} ssh2"
    if sub == "blank":
        return rng.choice(("", "", " ", "\t", "   ", " \t "))
    # bad_timestamp
    stamp = rng.choice(BAD_TIMES).format(
        d=rng.randrange(1, 29), h=rng.randrange(24), m=rng.randrange(60), s=rng.randrange(60)
    )
    return f"{stamp} {head}Failed password for {user} from {attack_ip()} port {port} ssh2"


def kinds(counts: Counter) -> dict[str, int]:
    """Counts per top-level kind (the part before the dot), tricky.* left out."""
    out: Counter = Counter()
    for key, n in counts.items():
        if not key.startswith("tricky."):
            out[key.split(".")[0]] += n
    return dict(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--malformed", type=float, default=0.05)
    parser.add_argument("--samples", type=int, default=0, help="print N lines of every kind")
    parser.add_argument(
        "--distinct", action="store_true", help="failed logins, each from another address"
    )
    args = parser.parse_args()
    samples: dict[str, list[str]] = {}
    began = time.perf_counter()
    if args.distinct:
        counts = generate_distinct(args.out, args.lines, seed=args.seed)
    else:
        counts = generate(
            args.out,
            args.lines,
            seed=args.seed,
            malformed=args.malformed,
            samples=samples,
            keep=args.samples,
        )
    seconds = time.perf_counter() - began
    size = args.out.stat().st_size
    print(
        f"{args.out}: {args.lines:,} lines, {size / 1e6:.1f} MB in {seconds:.1f} s "
        f"(seed {args.seed})"
    )
    top = kinds(counts)
    for kind in [*MIX, "malformed"]:
        print(f"  {kind:18} {top.get(kind, 0):9,}  {100 * top.get(kind, 0) / args.lines:5.1f}%")
        for key in sorted(k for k in counts if k.startswith(kind + ".")):
            print(f"    {key:40} {counts[key]:9,}")
    for key in sorted(k for k in counts if k.startswith("tricky.")):
        print(f"  {key:42} {counts[key]:9,}  (inside the kinds above)")
    for key in sorted(samples):
        print(f"\n{key}:")
        for line in samples[key]:
            raw = line.encode("utf-8", "surrogateescape")
            print("  " + (line if line.strip() and line.isprintable() else repr(raw)))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
