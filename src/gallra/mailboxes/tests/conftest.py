"""Real mailboxes for the tests: a Maildir in tmp_path, and a private Dovecot over IMAPS.

Dovecot is Debian's (`scripts/setup.sh --tests` installs dovecot-imapd); each test that asks
for it gets its own instance on a free loopback port with its own configuration, TLS
certificate (made here with `cryptography`, signed by a test CA) and mail store. The system's
Dovecot service is never touched. Dovecot will not give a mail user uid 0, so the user's mail
is owned by `nobody` and reached through a chroot into tmp_path (which only root may pass);
the auth process, which reads the password file there, runs as root.
"""

from __future__ import annotations

import imaplib
import ipaddress
import os
import pwd
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from gallra.policy.loading import current_policy
from gallra.policy.model import Mailbox

STOCKHOLM = ZoneInfo("Europe/Stockholm")
USER, PASSWORD = "salj", "hemligt-lösen-åäö"  # a UTF-8 password, as a real one may be


def message(
    mid: str,
    written: datetime | None,
    sender: str,
    to: str = "info@redcloud.example",
    subject: str = "Offertförfrågan",
    references: str = "",
    extra: str = "",
) -> bytes:
    """A plain RFC 5322 message."""
    lines = [f"Message-ID: <{mid}>"] if mid else []
    if written is not None:
        lines.append(f"Date: {format_datetime(written)}")
    lines += [f"From: Avsändare <{sender}>", f"To: {to}", f"Subject: {subject}"]
    if references:
        lines += [f"In-Reply-To: {references.split()[-1]}", f"References: {references}"]
    if extra:
        lines.append(extra)
    body = "Hej!\r\n\r\nVi vill ha en offert på drift av tre servrar.\r\n"
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()


def months_before(day, months: int, hour: int = 10) -> datetime:
    month = day.month - months
    year = day.year + (month - 1) // 12
    month = (month - 1) % 12 + 1
    return datetime(year, month, day.day, hour, tzinfo=STOCKHOLM)


# -- Maildir ------------------------------------------------------------------------------


class MaildirStore:
    """A Maildir with Maildir++ sub-folders, written the way a delivery agent writes it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.count = 0
        self.folder("INBOX")

    def _path(self, folder: str) -> Path:
        from gallra.mailboxes.connectors import mutf7

        return self.root if folder == "INBOX" else self.root / ("." + mutf7(folder))

    def folder(self, name: str) -> Path:
        path = self._path(name)
        for sub in ("cur", "new", "tmp"):
            (path / sub).mkdir(parents=True, exist_ok=True)
        return path

    def add(self, content: bytes, received: datetime, folder: str = "INBOX") -> str:
        self.count += 1
        unique = f"{int(received.timestamp())}.M{self.count}P{os.getpid()}.gallra-test"
        path = self.folder(folder) / "cur" / f"{unique}:2,S"
        path.write_bytes(content)
        os.utime(path, (received.timestamp(), received.timestamp()))
        return unique

    def message_ids(self, folder: str = "INBOX") -> set[str]:
        """The Message-IDs (without <>) in the folder; "" stands for a message without one."""
        return {
            _message_id(file.read_bytes())
            for sub in ("cur", "new")
            for file in (self._path(folder) / sub).iterdir()
        }


def _message_id(content: bytes) -> str:
    for line in content.split(b"\r\n"):
        if line.lower().startswith(b"message-id:"):
            return line.split(b"<", 1)[1].split(b">", 1)[0].decode()
    return ""


@pytest.fixture
def maildir(tmp_path) -> MaildirStore:
    return MaildirStore(tmp_path / "Maildir")


# -- Dovecot ------------------------------------------------------------------------------


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def make_tls(folder: Path, host: str = "127.0.0.1") -> tuple[Path, Path, Path]:
    """A test CA and a server certificate for `host` signed by it: (ca.pem, cert, key)."""
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("gallra test CA"))
        .issuer_name(_name("gallra test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(host))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address(host)), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    paths = folder / "ca.pem", folder / "server.pem", folder / "server.key"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    paths[2].chmod(0o600)
    return paths


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


CONFIG = """\
protocols = imap
listen = 127.0.0.1
base_dir = {run}
state_dir = {home}/state
log_path = {home}/dovecot.log
ssl = required
ssl_cert = <{cert}
ssl_key = <{key}
auth_mechanisms = plain
auth_failure_delay = 0
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {home}/passwd
}}
userdb {{
  driver = static
  args = uid=nobody gid=nogroup home={home}/mail/./%u
}}
valid_chroot_dirs = {home}/mail
mail_location = maildir:~/Maildir
service auth {{
  user = root
}}
service imap-login {{
  inet_listener imap {{
    port = 0
  }}
  inet_listener imaps {{
    port = {port}
    ssl = yes
  }}
}}
"""


@dataclass
class Dovecot:
    port: int
    config: Path
    ca_file: Path
    password_file: Path
    maildir: Path  # the user's Maildir on disk

    def client(self) -> imaplib.IMAP4_SSL:
        """A session of the test's own, to put messages in and look at what is left."""
        context = ssl.create_default_context(cafile=str(self.ca_file))
        imap = imaplib.IMAP4_SSL("127.0.0.1", self.port, ssl_context=context, timeout=10)
        secret = f"\0{USER}\0{PASSWORD}".encode()
        imap.authenticate("PLAIN", lambda _: secret)
        return imap

    def append(self, content: bytes, received: datetime, folder: str = "INBOX") -> None:
        from gallra.mailboxes.connectors import mutf7

        imap = self.client()
        try:
            imap.create(f'"{mutf7(folder)}"')  # NO when it exists: fine
            typ, data = imap.append(
                f'"{mutf7(folder)}"', None, imaplib.Time2Internaldate(received), content
            )
            assert typ == "OK", data
        finally:
            imap.logout()

    def messages(self, folder: str = "INBOX") -> dict[str, set[str]]:
        """Message-ID (without <>, "" when it has none) -> flags, of what is in the folder."""
        from gallra.mailboxes.connectors import mutf7

        imap = self.client()
        try:
            typ, exists = imap.select(f'"{mutf7(folder)}"', readonly=True)
            assert typ == "OK"
            if exists[0] == b"0":
                return {}
            typ, data = imap.fetch("1:*", "(FLAGS BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
            out = {}
            for item in data:
                if isinstance(item, tuple):
                    mid = _message_id(item[1])
                    flags = item[0].split(b"FLAGS (", 1)[1].split(b")", 1)[0].decode().split()
                    out[mid] = set(flags)
            return out
        finally:
            imap.logout()

    def kick(self) -> None:
        """Close every session of the user from the server's side, as a dropped link does.

        `doveadm kick` only signals the sessions' processes: wait until the server lists
        none, so that the next command of a kicked client finds the link gone even when the
        machine is busy (the suite runs in parallel)."""
        subprocess.run(  # noqa: S603
            ["doveadm", "-c", str(self.config), "kick", USER],  # noqa: S603,S607
            check=True,
            capture_output=True,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            who = subprocess.run(  # noqa: S603
                ["doveadm", "-c", str(self.config), "who", "-1", USER],  # noqa: S603,S607
                capture_output=True,
                text=True,
            )
            if who.returncode != 0 or USER not in who.stdout.split():
                return
            time.sleep(0.02)


@pytest.fixture
def dovecot(tmp_path) -> Dovecot:
    if os.geteuid() != 0:
        pytest.skip("runs a private Dovecot that drops privileges: run as root")
    if not shutil.which("dovecot") or not shutil.which("doveadm"):
        pytest.skip("needs dovecot-imapd (scripts/setup.sh --tests installs it)")
    home = tmp_path / "dovecot"
    ca_file, cert, key = make_tls(home / "tls")
    (home / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n")
    password_file = home / "password"
    password_file.write_text(PASSWORD + "\n")
    password_file.chmod(0o600)
    mail = home / "mail" / USER
    mail.mkdir(parents=True)
    nobody = pwd.getpwnam("nobody")
    for path in (home / "mail", mail):
        os.chown(path, nobody.pw_uid, nobody.pw_gid)
    # Unix sockets live in base_dir, and their paths may not exceed 107 bytes: a short one.
    run = Path(tempfile.mkdtemp(prefix="gallra-dovecot-", dir="/tmp"))
    port = free_port()
    config = home / "dovecot.conf"
    config.write_text(CONFIG.format(run=run, home=home, cert=cert, key=key, port=port))
    process = subprocess.Popen(  # noqa: S603
        ["dovecot", "-F", "-c", str(config)],  # noqa: S607
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        _wait_for(port, process, home / "dovecot.log")
        yield Dovecot(port, config, ca_file, password_file, mail / "Maildir")
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(run, ignore_errors=True)


def _wait_for(port: int, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"dovecot stopped: {process.stderr.read().decode()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(
        f"dovecot did not listen on {port}: {log.read_text() if log.exists() else ''}"
    )


# -- policies -----------------------------------------------------------------------------


def maildir_mailbox(store: MaildirStore, folders=("INBOX",), **keys) -> Mailbox:
    return Mailbox.model_validate(
        {
            "id": "salj-maildir",
            "kind": "maildir",
            "category": "correspondence",
            "country": "SE",
            "path": str(store.root),
            "folders": list(folders),
            **keys,
        }
    )


def imap_mailbox(server: Dovecot, folders=("INBOX",), **keys) -> Mailbox:
    return Mailbox.model_validate(
        {
            "id": "salj-imap",
            "kind": "imap",
            "category": "correspondence",
            "country": "SE",
            "host": "127.0.0.1",
            "port": server.port,
            "user": USER,
            "password_file": str(server.password_file),
            "ca_file": str(server.ca_file),
            "folders": list(folders),
            **keys,
        }
    )


def with_mailboxes(*mailboxes: Mailbox):
    """The shipped JufCorp policy with these mailboxes declared."""
    return current_policy().model_copy(update={"mailbox": list(mailboxes)})


@dataclass
class Box:
    """A mailbox of either kind, as the tests use it."""

    kind: str
    add: object  # (content, received, folder="INBOX") -> None
    ids: object  # (folder="INBOX") -> set of Message-IDs there
    declare: object  # (folders) -> the policy's Mailbox


@pytest.fixture(params=["maildir", "imap"])
def box(request) -> Box:
    if request.param == "maildir":
        store = request.getfixturevalue("maildir")
        return Box(
            "maildir",
            store.add,
            store.message_ids,
            lambda folders=("INBOX",): maildir_mailbox(store, folders),
        )
    server = request.getfixturevalue("dovecot")
    return Box(
        "imap",
        server.append,
        lambda folder="INBOX": set(server.messages(folder)),
        lambda folders=("INBOX",): imap_mailbox(server, folders),
    )
