"""The proof that erasure happened: look everywhere a person's or customer's data could be.

`gallra verify-erasure` searches gallra's database, the connected datasets, the policy's
mailboxes (each message read whole, nothing kept), its backed-up directories and every
backup snapshot (restored into a scratch folder, its database copy opened read-only) for
the identifiers it is given: names, e-mail addresses, phone
numbers, personnummer, organisation numbers and user names, each in the forms it is commonly
written in. Sealed documents and credentials are opened with the customer's key when it still
exists; once it is destroyed they are ciphertext and cannot hold a hit.

Each hit says where it is and which rule should have removed it, or, for what the law keeps
(accounting records, the request itself), why it stays.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from cryptography.exceptions import InvalidTag
from django.conf import settings
from django.db import connection
from django.utils.translation import gettext as _

from gallra.backups import dump
from gallra.backups.restic import restic
from gallra.backups.runs import SCRATCH, STAGING_FOLDER, lock, remove_leftovers, snapshots
from gallra.datasets import sources as datasets
from gallra.mailboxes.connectors import connect
from gallra.mailboxes.messages import readable_text
from gallra.policy.model import Policy
from gallra.registry import crypto
from gallra.registry.models import RECORD_MODELS, Customer
from gallra.retention.planner import rules_by_type
from gallra.subjects.identity import BadIdentity, normalise_personnummer

SEALED = {"registry_technicaldocument": "content", "registry_credential": "secret"}
MAX_FILE = 64 << 20  # larger files are read in their first 64 MiB
REQUEST_TABLES = ("subjects_",)  # the request itself: kept to show how it was answered


@dataclass
class Identifiers:
    names: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)
    personnummer: list[str] = field(default_factory=list)
    org_numbers: list[str] = field(default_factory=list)
    usernames: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return any(getattr(self, f) for f in self.__dataclass_fields__)

    def add(self, other: Identifiers) -> Identifiers:
        for name in self.__dataclass_fields__:
            getattr(self, name).extend(getattr(other, name))
        return self.clean()

    def clean(self) -> Identifiers:
        """Without blanks and repeats."""
        for name in self.__dataclass_fields__:
            values = [" ".join(v.split()) for v in getattr(self, name)]
            setattr(self, name, list(dict.fromkeys(v for v in values if v)))
        return self

    @classmethod
    def of_customer(cls, ref: str) -> Identifiers:
        """What the registry holds about a customer and its people, while it still has it."""
        customer = Customer.objects.get(ref=ref)
        found = cls(names=[customer.name])
        if customer.kind == Customer.Kind.PRIVATE:
            found.personnummer.append(customer.org_number)
        elif customer.org_number:
            found.org_numbers.append(customer.org_number)
        for person in customer.people.all():
            found.names.append(f"{person.first_name} {person.last_name}".strip())
            found.emails.append(person.email)
            found.phones.append(person.mobile)
            found.usernames += [a.username for a in person.accounts.all()]
        return found.clean()

    def patterns(self) -> list[tuple[str, re.Pattern]]:
        out = []
        for name in self.names:
            words = [re.escape(w) for w in name.split()]
            if words:
                out.append(("name", r"(?<!\w)" + r"[\s,]+".join(words) + r"(?!\w)"))
        out += [("e-mail", r"(?<![\w.+-])" + re.escape(e) + r"(?![\w-])") for e in self.emails]
        out += [("phone", _phone(p)) for p in self.phones if _phone(p)]
        out += [("personnummer", _personnummer(p)) for p in self.personnummer]
        for number in self.org_numbers:
            digits = re.sub(r"\D", "", number)
            out.append(("organisation number", rf"(?<!\d){digits[:6]}-?{digits[6:]}(?!\d)"))
        out += [
            ("username", r"(?<![\w.@-])" + re.escape(u) + r"(?![\w@-])") for u in self.usernames
        ]
        return [(kind, re.compile(p, re.IGNORECASE)) for kind, p in out]


def _phone(text: str) -> str:
    """+46 70-123 45 67, 070 123 45 67, 0046701234567: the same number."""
    digits = re.sub(r"\D", "", text)
    for prefix in ("0046", "46", "0"):
        if digits.startswith(prefix) and len(digits) - len(prefix) >= 7:
            digits = digits[len(prefix) :]
            break
    if len(digits) < 7:
        return ""
    return r"(?<!\d)(?:\+46|0046|0)[\s()-]*" + r"[\s-]*".join(digits) + r"(?!\d)"


def _personnummer(text: str) -> str:
    try:
        long = normalise_personnummer(text)  # YYYYMMDD-NNNN
    except BadIdentity:
        long = text
    digits = re.sub(r"\D", "", long)
    return rf"(?<!\d)(?:{digits[:2]})?{digits[2:8]}[-+]?{digits[8:]}(?!\d)"


@dataclass(frozen=True)
class Hit:
    place: str  # "database", "dataset crm", "directory", "snapshot 1a2b3c4d (2026-11-20)"
    where: str  # "registry_person id=12 ref=P-3", "/home/anna/notes.txt line 3"
    kind: str  # which identifier: "e-mail", "name", ...
    rule: str  # the rule that should have removed it, or why it is kept
    kept: bool = False  # kept by law, not a failure


class Search:
    def __init__(self, policy: Policy, identifiers: Identifiers) -> None:
        self.policy = policy
        self.patterns = identifiers.patterns()
        self.table_rules = _table_rules(policy)

    def kinds(self, text: str) -> list[str]:
        return [kind for kind, pattern in self.patterns if pattern.search(text)]

    def everywhere(
        self, backups: bool = True, progress: Callable[[int, int], None] | None = None
    ) -> list[Hit]:
        """Every place in turn; `progress(done, total)` is told after each (a bar on the
        terminal: each backup snapshot is restored whole, which takes a while)."""
        steps: list[Callable[[], list[Hit]]] = [self.database, self.datasets, self.mailboxes]
        for folder in self.policy.backups.directories:
            steps.append(lambda folder=folder: self.files(Path(folder), "directory"))
        use_backups = bool(backups and settings.GALLRA_BACKUP_REPOSITORY)
        total = len(steps) + use_backups
        tell = progress or (lambda done, total: None)
        hits = []
        for done, step in enumerate(steps, 1):
            hits += step()
            tell(done, total)
        if use_backups:
            hits += self.snapshots(lambda n, of: tell(len(steps) + n, len(steps) + of))
        return hits

    # --- gallra's database, or a copy of it -------------------------------------------------

    def database(self, db=None, place: str = "database", suffix: str = "") -> list[Hit]:
        cursor = (db or connection).cursor()
        hits = []
        uncovered = (_("no retention rule covers this table"), False)
        for table in _tables(cursor, db):
            rule, kept = self.table_rules.get(table, uncovered)
            if table.startswith(REQUEST_TABLES):
                rule, kept = _("the request itself, kept to show how it was answered"), True
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 (names from the catalogue)
            names = [d[0] for d in cursor.description]
            while rows := cursor.fetchmany(1000):
                for row in rows:
                    text = " ".join(str(v) for v in row if isinstance(v, str | int))
                    for kind in self.kinds(text):
                        hits.append(Hit(place, _row(table, names, row), kind, rule + suffix, kept))
        hits += self._sealed(cursor, place, suffix)
        return hits

    def _sealed(self, cursor, place: str, suffix: str) -> list[Hit]:
        """Documents and credentials, opened with the customer's key if it still exists."""
        hits = []
        ciphers: dict[str, crypto.CustomerCipher | None] = {}  # one key lookup per customer
        for table, column in SEALED.items():
            cursor.execute(
                f'SELECT t.id, c.ref, t."{column}" FROM "{table}" t '  # noqa: S608
                "JOIN registry_customer c ON c.id = t.customer_id"
            )
            rule, kept = self.table_rules.get(table, ("", False))
            for pk, ref, sealed in cursor.fetchall():
                if ref not in ciphers:
                    try:
                        ciphers[ref] = crypto.cipher_for(ref)
                    except crypto.KeyDestroyed:
                        ciphers[ref] = None  # shredded: ciphertext that nothing opens
                if ciphers[ref] is None:
                    continue
                try:
                    text = ciphers[ref].unseal(bytes(sealed)).decode("utf-8", "replace")
                except InvalidTag:  # moved from another customer: it opens under no key
                    continue
                for kind in self.kinds(text):
                    where = f"{table} id={pk} ({column}, sealed under {ref}'s key)"
                    hits.append(Hit(place, where, kind, rule + suffix, kept))
        return hits

    # --- connected datasets -----------------------------------------------------------------

    def datasets(self) -> list[Hit]:
        """Every row of the declared tables. A row of a `keep` table is kept by its law until
        the day its rule ends it (retention deletes it then); any other hit should have gone
        with its owner's or its own retention rule, or with the subject's erasure."""
        rules = {r.id: r for r in self.policy.rule}
        hits = []
        for dataset in self.policy.dataset:
            place = f"dataset {dataset.id}"
            with datasets.engine(dataset).connect() as conn:
                for table in dataset.table:
                    kept_by = rules.get(table.kept_by or "")
                    removers = " or ".join(r.id for r in self.policy.table_rules(table))
                    rule = (
                        _("kept by %(rule)s (%(law)s)")
                        % {"rule": kept_by.id, "law": kept_by.legal_source}
                        if kept_by
                        else _("should have been removed by %(rules)s or by the subject's erasure")
                        % {"rules": removers or _("no rule")}
                    )
                    rows = conn.execute(sa.select(sa.text("*")).select_from(sa.table(table.name)))
                    for row in rows:
                        text = " ".join(str(v) for v in row if isinstance(v, str | int))
                        why = rule
                        if kept_by is not None and table.dated_by:
                            until = datasets.kept_until(kept_by, row._mapping.get(table.dated_by))
                            why += (_(" until %(day)s") % {"day": until}) if until else ""
                        for kind in self.kinds(text):
                            where = f"{table.name} {table.key}={row._mapping.get(table.key)}"
                            hits.append(Hit(place, where, kind, why, kept_by is not None))
        return hits

    # --- mailboxes --------------------------------------------------------------------------

    def mailboxes(self) -> list[Hit]:
        """Every message of the policy's mailboxes, read whole and not kept (MailboxError
        when one cannot be read: then nothing can be proven)."""
        hits = []
        for mailbox in self.policy.mailbox:
            rules = [r.id for r in self.policy.rules_for(mailbox.category) if r.action == "delete"]
            rule = _("should have been removed by %(rules)s") % {
                "rules": " or ".join(rules) or _("no rule")
            }
            with connect(mailbox) as connector:
                for folder in mailbox.folders:
                    connector.select(folder)
                    for uid, raw in connector.whole_messages():
                        for kind in self.kinds(readable_text(raw)[1]):
                            where = f"{folder} message {uid}"
                            hits.append(Hit(f"mailbox {mailbox.id}", where, kind, rule))
        return hits

    # --- files ------------------------------------------------------------------------------

    def files(self, folder: Path, place: str, shown_as: Path | None = None) -> list[Hit]:
        rule = _("no retention rule covers files here: remove them with the account (P3)")
        hits = []
        for path in _walk(folder):
            if path.parent.parent.name == STAGING_FOLDER:
                continue  # the database copy is searched row by row, not as bytes
            with open(path, "rb") as f:
                text = f.read(MAX_FILE).decode("utf-8", "replace")
            for kind, pattern in self.patterns:
                match = pattern.search(text)
                if match:
                    line = text.count("\n", 0, match.start()) + 1
                    name = shown_as / path.relative_to(folder) if shown_as else path
                    hits.append(Hit(place, f"{name} line {line}", kind, rule))
        return hits

    # --- backup snapshots -------------------------------------------------------------------

    def snapshots(self, progress: Callable[[int, int], None] | None = None) -> list[Hit]:
        hits = []
        with lock():
            remove_leftovers()
            found = snapshots()
            for done, snap in enumerate(found, 1):
                hits += self._snapshot(snap)
                if progress:
                    progress(done, len(found))
        return hits

    def _snapshot(self, snap: dict) -> list[Hit]:
        """The whole snapshot restored: its database copy row by row, and its files."""
        window = self.policy.backups.window
        goes = snap["at"] + (window.after(snap["at"].date()) - snap["at"].date())
        place = f"snapshot {snap['short_id']} ({snap['at']:%Y-%m-%d})"
        suffix = _("; the snapshot leaves the repository %(day)s (%(window)s window)") % {
            "day": f"{goes:%Y-%m-%d}",
            "window": window,
        }
        scratch = Path(tempfile.mkdtemp(prefix=SCRATCH, dir=settings.GALLRA_DATA))
        try:
            restic("restore", snap["id"], "--target", str(scratch))
            hits = []
            copy = dump.find_copy(scratch)
            if copy is not None:
                with dump.opened_copy(copy) as db:
                    hits += self.database(db, place, suffix)
            hits += [  # the rest of the snapshot: the directories, under their own paths
                Hit(h.place, h.where, h.kind, h.rule + suffix)
                for h in self.files(scratch, place, shown_as=Path("/"))
            ]
            return hits
        finally:
            shutil.rmtree(scratch, ignore_errors=True)


def _table_rules(policy: Policy) -> dict[str, tuple[str, bool]]:
    """Each registry table: the rules that remove its rows, or the law that keeps them."""
    out = {}
    by_type = rules_by_type(policy)
    for model in RECORD_MODELS:
        rules = by_type.get(model.record_type, [])
        law = [r for r in rules if r.legal_source]
        if law:
            kept = _("kept by %(rule)s (%(law)s)") % {
                "rule": law[0].id,
                "law": law[0].legal_source,
            }
            out[model._meta.db_table] = (kept, True)
        elif rules:
            names = " or ".join(r.id for r in rules)
            removed = _("should have been removed by %(rules)s") % {"rules": names}
            out[model._meta.db_table] = (removed, False)
    removed = _("should have been removed by %(rules)s") % {"rules": policy.login_rule().id}
    out["logins_loginevent"] = (removed, False)
    return out


def _tables(cursor, db) -> list[str]:
    sqlite = connection.vendor == "sqlite" if db is None else "sqlite" in type(db).__module__
    if sqlite:
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE "
            "'sqlite_%' ORDER BY name"
        )
    else:  # a partitioned table is read through its parent
        cursor.execute(
            "SELECT relname FROM pg_class c JOIN pg_namespace n ON n.oid = relnamespace"
            " WHERE nspname = 'public' AND relkind IN ('r', 'p') AND NOT relispartition"
            " ORDER BY relname"
        )
    return [r[0] for r in cursor.fetchall()]


def _row(table: str, names: list[str], row: tuple) -> str:
    values = dict(zip(names, row, strict=False))
    ref = f" ref={values['ref']}" if values.get("ref") else ""
    return f"{table} id={values.get('id')}{ref}"


def _walk(folder: Path) -> Iterator[Path]:
    if folder.is_file():
        yield folder
        return
    for root, _dirs, files in os.walk(folder):
        for name in sorted(files):
            path = Path(root) / name
            if path.is_file() and not path.is_symlink():
                yield path


def summary(hits: Iterable[Hit]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for hit in hits:
        key = "kept" if hit.kept else "found"
        counts[key] = counts.get(key, 0) + 1
    return counts
