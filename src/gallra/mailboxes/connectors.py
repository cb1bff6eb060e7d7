"""Reaching a policy mailbox: a Maildir folder on this machine, or an IMAP server over TLS.

Both do the same three things for a folder: say which messages are there (an id that never
names another message, the time it was received, the header fields gallra reads), and
delete given messages, confirming they are gone. Every failure is a MailboxError that names
the mailbox and the folder; nothing is deleted before the caller asks for it.
"""

from __future__ import annotations

import base64
import imaplib
import os
import re
import ssl
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from gallra.mailboxes.messages import FIELDS
from gallra.policy.model import Mailbox

TIMEOUT = 60  # seconds without an answer before the connection counts as lost
FETCH_CHUNK = 500
HEADER_LIMIT = 256 * 1024  # a Maildir file's header is read up to this many bytes


class MailboxError(Exception):
    """A mailbox could not be read or changed; the message names it and says why."""


@dataclass(frozen=True)
class Found:
    uid: str  # IMAP UID, or the Maildir file's unique name
    received: datetime
    header: bytes  # the header fields of FIELDS, as the server or the file has them


class Maildir:
    """A Maildir (and its Maildir++ sub-folders, as Dovecot and Courier lay them out)."""

    def __init__(self, mailbox: Mailbox) -> None:
        self.mailbox = mailbox
        self.root = Path(mailbox.path)
        self.folder = ""
        self.uidvalidity = ""  # a file's unique name never changes: there is no validity
        if not (self.root / "cur").is_dir():
            raise MailboxError(
                f"mailbox {mailbox.id!r}: {self.root} is not a Maildir (no cur/ folder in it)"
            )

    def close(self) -> None:
        pass

    def _path(self, folder: str) -> Path:
        if folder == "INBOX":
            return self.root
        return self.root / ("." + mutf7(folder))

    def select(self, folder: str) -> str:
        path = self._path(folder)
        if not all((path / sub).is_dir() for sub in ("cur", "new")):
            raise MailboxError(
                f"mailbox {self.mailbox.id!r}: folder {folder!r} is not there ({path})"
            )
        self.folder = folder
        return self.uidvalidity

    def _files(self) -> dict[str, Path]:
        path = self._path(self.folder)
        files = {}
        for sub in ("new", "cur"):
            try:
                names = os.listdir(path / sub)
            except OSError as exc:
                raise MailboxError(f"{self._where()}: cannot list {path / sub}: {exc}") from exc
            for name in names:
                if not name.startswith("."):
                    files[name.split(":", 1)[0]] = path / sub / name
        return files

    def messages(self) -> Iterator[Found]:
        for uid, file in sorted(self._files().items()):
            try:
                with open(file, "rb") as f:
                    received = datetime.fromtimestamp(os.fstat(f.fileno()).st_mtime, UTC)
                    head = _header_block(f.read(HEADER_LIMIT))
            except FileNotFoundError:  # deleted meanwhile, by its owner
                continue
            except OSError as exc:
                raise MailboxError(f"{self._where()}, file {uid}: cannot read it: {exc}") from exc
            yield Found(uid, received, head)

    def whole_messages(self) -> Iterator[tuple[str, bytes]]:
        """(uid, the whole message) of the folder, for searching; never stored."""
        for uid, file in sorted(self._files().items()):
            try:
                yield uid, file.read_bytes()
            except FileNotFoundError:
                continue

    def delete(self, uids: list[str]) -> None:
        files = self._files()
        for uid in uids:
            if uid in files:
                try:
                    files[uid].unlink()
                except FileNotFoundError:
                    pass
                except OSError as exc:
                    raise MailboxError(
                        f"{self._where()}, file {uid}: cannot delete: {exc}"
                    ) from exc
        left = set(uids) & set(self._files())
        if left:
            raise MailboxError(f"{self._where()}: still there after deleting: {sorted(left)}")

    def unmark(self, uids: list[str]) -> None:
        """Nothing to undo: a Maildir message is never half deleted."""

    def _where(self) -> str:
        return f"mailbox {self.mailbox.id!r}, folder {self.folder!r}"


class Imap:
    """An IMAP server over TLS (IMAP4_SSL), its certificate verified against `ca_file`."""

    def __init__(self, mailbox: Mailbox) -> None:
        self.mailbox = mailbox
        self.folder = ""
        self.uidvalidity = ""
        where = f"mailbox {mailbox.id!r} ({mailbox.host}:{mailbox.port})"
        try:
            password = Path(mailbox.password_file).read_text(encoding="utf-8").rstrip("\r\n")
        except (OSError, UnicodeDecodeError) as exc:
            raise MailboxError(f"{where}: cannot read password_file: {exc}") from exc
        try:
            context = ssl.create_default_context(cafile=mailbox.ca_file or None)
        except (OSError, ssl.SSLError) as exc:
            raise MailboxError(f"{where}: cannot read ca_file {mailbox.ca_file}: {exc}") from exc
        try:
            self.imap = imaplib.IMAP4_SSL(
                mailbox.host, mailbox.port, ssl_context=context, timeout=TIMEOUT
            )
        except ssl.SSLCertVerificationError as exc:
            raise MailboxError(
                f"{where}: the server's certificate is not trusted "
                f"({exc.verify_message}; ca_file {mailbox.ca_file or 'the system CAs'})"
            ) from exc
        except (OSError, imaplib.IMAP4.error) as exc:
            raise MailboxError(f"{where}: cannot connect: {exc}") from exc
        try:
            if "AUTH=PLAIN" in self.imap.capabilities:  # the password may be UTF-8
                secret = f"\0{mailbox.user}\0{password}".encode()
                self.imap.authenticate("PLAIN", lambda _: secret)
            else:
                self.imap.login(mailbox.user, password)
            capabilities = self._ok(self.imap.capability(), "CAPABILITY")[0].upper().split()
        except imaplib.IMAP4.error as exc:
            self.close()
            raise MailboxError(
                f"{where}: the server refused the login of user {mailbox.user!r} "
                f"(password_file {mailbox.password_file}): {_text(exc)}"
            ) from exc
        except OSError as exc:
            raise MailboxError(f"{where}: the connection was lost while logging in: {exc}") from exc
        # Plain EXPUNGE would also remove what a person marked \Deleted; UID EXPUNGE does not.
        if b"UIDPLUS" not in capabilities:
            self.close()
            raise MailboxError(
                f"{where}: the server lacks UIDPLUS (UID EXPUNGE): gallra could delete only "
                "with plain EXPUNGE, which removes more"
            )

    def close(self) -> None:
        with suppress(OSError, imaplib.IMAP4.error, AttributeError):
            self.imap.logout()

    def select(self, folder: str) -> str:
        self.folder = folder
        typ, data = self._call(self.imap.select, _quoted(folder), readonly=False)
        if typ != "OK":
            raise MailboxError(f"{self._where()}: cannot open the folder: {_text(data)}")
        validity = self.imap.response("UIDVALIDITY")[1]  # select() flushed the older ones
        if not validity or not validity[-1]:
            raise MailboxError(f"{self._where()}: the server gave no UIDVALIDITY")
        self.uidvalidity = validity[-1].decode()
        return self.uidvalidity

    def messages(self) -> Iterator[Found]:
        data = self._ok(self._call(self.imap.uid, "SEARCH", "ALL"), "UID SEARCH")
        uids = [int(u) for u in b" ".join(d for d in data if d).split()]
        query = f"(UID INTERNALDATE BODY.PEEK[HEADER.FIELDS ({' '.join(FIELDS).upper()})])"
        for start in range(0, len(uids), FETCH_CHUNK):
            chunk = uids[start : start + FETCH_CHUNK]
            data = self._ok(self._call(self.imap.uid, "FETCH", uid_set(chunk), query), "FETCH")
            yield from self._parse_fetch(data)

    def _parse_fetch(self, data: list) -> Iterator[Found]:
        for item in data:
            if not isinstance(item, tuple):
                continue  # the closing ")" or an unrelated untagged answer
            meta = item[0].decode("ascii", "replace")
            uid = re.search(r"\bUID (\d+)", meta)
            internal = re.search(r'INTERNALDATE "([^"]+)"', meta)
            if not (uid and internal):
                raise MailboxError(f"{self._where()}: cannot read the server's answer: {meta!r}")
            try:
                received = internaldate(internal.group(1))
            except ValueError as exc:
                raise MailboxError(
                    f"{self._where()}, UID {uid.group(1)}: INTERNALDATE "
                    f"{internal.group(1)!r} cannot be read"
                ) from exc
            yield Found(uid.group(1), received, item[1])

    def whole_messages(self) -> Iterator[tuple[str, bytes]]:
        """(uid, the whole message) of the folder, for searching; read with PEEK (unseen
        stays unseen) and never stored."""
        data = self._ok(self._call(self.imap.uid, "SEARCH", "ALL"), "UID SEARCH")
        uids = [int(u) for u in b" ".join(d for d in data if d).split()]
        for start in range(0, len(uids), 50):
            chunk = uid_set(uids[start : start + 50])
            data = self._ok(self._call(self.imap.uid, "FETCH", chunk, "(UID BODY.PEEK[])"), "FETCH")
            for item in data:
                if isinstance(item, tuple):
                    uid = re.search(rb"\bUID (\d+)", item[0])
                    yield (uid.group(1).decode() if uid else "?"), item[1]

    def delete(self, uids: list[str]) -> None:
        """Flag the messages \\Deleted and expunge exactly those (UID EXPUNGE), then make sure."""
        self._check_validity()
        numbers = uid_set([int(u) for u in uids])
        self._ok(
            self._call(self.imap.uid, "STORE", numbers, "+FLAGS.SILENT", r"(\Deleted)"), "UID STORE"
        )
        self._expunge(numbers)
        left = self._ok(self._call(self.imap.uid, "SEARCH", "UID", numbers), "UID SEARCH")
        if b" ".join(d for d in left if d).split():
            raise MailboxError(f"{self._where()}: messages still there after UID EXPUNGE")

    def _expunge(self, numbers: str) -> None:
        self._ok(self._call(self.imap.uid, "EXPUNGE", numbers), "UID EXPUNGE")

    def unmark(self, uids: list[str]) -> None:
        """Take back the \\Deleted flag of messages that an interrupted run flagged."""
        self._check_validity()
        self._ok(
            self._call(
                self.imap.uid,
                "STORE",
                uid_set([int(u) for u in uids]),
                "-FLAGS.SILENT",
                r"(\Deleted)",
            ),
            "UID STORE",
        )

    def _check_validity(self) -> None:
        validity = self.imap.response("UIDVALIDITY")[1]
        if validity and validity[-1] and validity[-1].decode() != self.uidvalidity:
            raise MailboxError(f"{self._where()}: UIDVALIDITY changed; nothing deleted")

    def _call(self, method, *args, **kwargs):
        try:
            return method(*args, **kwargs)
        except imaplib.IMAP4.abort as exc:
            raise MailboxError(
                f"{self._where()}: the connection was lost ({_text(exc)}); run again to finish"
            ) from exc
        except OSError as exc:
            raise MailboxError(
                f"{self._where()}: the connection was lost ({exc}); run again to finish"
            ) from exc
        except imaplib.IMAP4.error as exc:
            raise MailboxError(f"{self._where()}: {_text(exc)}") from exc

    def _ok(self, answer, command: str) -> list:
        typ, data = answer
        if typ != "OK":
            raise MailboxError(f"{self._where()}: {command} failed: {_text(data)}")
        return data

    def _where(self) -> str:
        where = f"mailbox {self.mailbox.id!r} ({self.mailbox.host}:{self.mailbox.port})"
        return f"{where}, folder {self.folder!r}" if self.folder else where


@contextmanager
def connect(mailbox: Mailbox) -> Iterator[Maildir | Imap]:
    connector = Maildir(mailbox) if mailbox.kind == "maildir" else Imap(mailbox)
    try:
        yield connector
    finally:
        connector.close()


def uid_set(uids: list[int]) -> str:
    """[1, 2, 3, 7] -> "1:3,7": short command lines however many messages."""
    uids = sorted(set(uids))
    parts, start = [], None
    for i, uid in enumerate(uids):
        if start is None:
            start = uid
        if i + 1 == len(uids) or uids[i + 1] != uid + 1:
            parts.append(str(start) if start == uid else f"{start}:{uid}")
            start = None
    return ",".join(parts)


_MONTHS = {
    m: i
    for i, m in enumerate(
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"], 1
    )
}


def internaldate(text: str) -> datetime:
    """IMAP's INTERNALDATE, "15-Jan-2026 10:00:00 +0100", whatever this machine's locale."""
    match = re.fullmatch(
        r"\s*(\d{1,2})-(\w{3})-(\d{4}) (\d\d):(\d\d):(\d\d) ([+-])(\d\d)(\d\d)", text
    )
    if not match or match.group(2) not in _MONTHS:
        raise ValueError(text)
    day, month, year, hour, minute, second = (
        int(match.group(1)),
        _MONTHS[match.group(2)],
        int(match.group(3)),
        int(match.group(4)),
        int(match.group(5)),
        int(match.group(6)),
    )
    offset = timedelta(hours=int(match.group(8)), minutes=int(match.group(9)))
    zone = timezone(offset if match.group(7) == "+" else -offset)
    return datetime(year, month, day, hour, minute, second, tzinfo=zone).astimezone(UTC)


def mutf7(name: str) -> str:
    """A folder name in IMAP's modified UTF-7 (RFC 3501 5.1.3), as servers and Maildir++ use it:
    "Offertförfrågningar" -> "Offertf&APY-rfr&AOU-gningar"."""
    out, pending = [], []

    def flush():
        if pending:
            encoded = "".join(pending).encode("utf-16-be")
            b64 = base64.b64encode(encoded).decode().rstrip("=")
            out.append("&" + b64.replace("/", ",") + "-")
            pending.clear()

    for char in name:
        if 0x20 <= ord(char) <= 0x7E:
            flush()
            out.append("&-" if char == "&" else char)
        else:
            pending.append(char)
    flush()
    return "".join(out)


def _quoted(folder: str) -> str:
    return '"' + mutf7(folder) + '"'


def _header_block(data: bytes) -> bytes:
    """The header of a message file: up to the first empty line."""
    match = re.search(rb"\r?\n\r?\n", data)
    return data[: match.end()] if match else data


def _text(value) -> str:
    if isinstance(value, list):
        value = b" ".join(v for v in value if isinstance(v, bytes))
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return str(value)
