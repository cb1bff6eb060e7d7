"""`homes audit` and `homes fix`: every way another user can get into a home directory (P3).

A home directory is the gate: with no group or other permission and no ACL entry for
anyone else on it, nothing inside can be reached by another user, whatever the modes of
the files inside. So modes are checked on the home itself; ACL entries, which name one
user and come alive the moment that user gets through the gate, are checked on every file
inside. What is looked at, for each account whose home is under ROOT:

- `mode`: the owning group or others have any permission on the home;
- `acl`: an ACL entry names a user other than the owner (or a group), and no access grant
  for that user allows it;
- `default_acl`: the same in a directory's default ACL, which new files inherit; and the
  home's default ACL giving the group or others permissions on new files;
- `owner`: the home is owned by another uid than the account's;
- `parent`: a directory above the home that anyone may write to (without the sticky bit),
  so anyone could rename the home away and put another in its place;
- `symlink`: a symlink inside the home that leads out of it;
- `not_a_directory`: the home is a symlink or a file, for a person to look at.

`fix` repairs all but the last, each change with an evidence entry (refs and counts, never
a path), and audits again.
"""

from __future__ import annotations

import os
import pwd
import stat
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from gallra.evidence.log import append
from gallra.homes import acl
from gallra.homes.models import AccessGrant, ended_on
from gallra.registry.models import Account

HOME_MODE = 0o700
UNFIXABLE = {"not_a_directory"}


class HomesError(Exception):
    """Bad input or a host gallra cannot work on; nothing was changed."""


@dataclass
class Finding:
    kind: str
    accounts: list[str]  # account refs
    path: str
    detail: str
    repair: dict[str, Any] = field(default_factory=dict)  # what `fix` does

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "accounts": self.accounts,
            "path": self.path,
            "detail": self.detail,
            "fixable": self.kind not in UNFIXABLE,
        }


@dataclass
class Allowed:
    """ACL entries an access grant allows, counted per grant."""

    grant: str
    owner: str
    grantee: str
    home: str
    entries: int = 0

    def as_dict(self) -> dict[str, Any]:
        return vars(self).copy()


@dataclass
class Audit:
    root: str
    homes: int = 0  # audited
    findings: list[Finding] = field(default_factory=list)
    allowed: dict[str, Allowed] = field(default_factory=dict)  # by grant ref
    notes: list[str] = field(default_factory=list)
    outside: int = 0  # accounts whose home is elsewhere than under ROOT
    no_home: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "root": self.root,
            "homes": self.homes,
            "violations": [f.as_dict() for f in self.findings],
            "allowed": [a.as_dict() for a in self.allowed.values()],
            "notes": self.notes,
            "outside_root": self.outside,
            "without_home": self.no_home,
        }


def expected_uid(account: Account) -> int | None:
    """The registry's uid for the account; else the host's, by username; else unknown."""
    if account.uid is not None:
        return account.uid
    try:
        return pwd.getpwnam(account.username).pw_uid
    except KeyError:
        return None


def perms(bits: int) -> str:
    return "".join(c if bits & b else "-" for c, b in (("r", 4), ("w", 2), ("x", 1)))


def _under(path: str, root: str) -> bool:
    return root == "/" or path == root or path.startswith(root + "/")


def must_be_root() -> None:
    if os.geteuid() != 0:
        raise HomesError("this reads and changes every user's files: run it as root")


def audit(root: str, *, record: bool = True, now: datetime | None = None) -> Audit:
    """Check the home of every account in the registry whose home is under `root`."""
    must_be_root()
    now = now or timezone.now()
    root = os.path.normpath(os.path.abspath(root))
    if not os.path.isdir(root):
        raise HomesError(f"{root}: no such directory")
    report = Audit(root)
    allowed = _granted(timezone.localdate(now))
    parents: dict[str, set[str]] = defaultdict(set)
    for account in Account.objects.order_by("home", "ref"):
        if not account.home:
            report.no_home += 1
            continue
        home = os.path.normpath(account.home)
        if not os.path.isabs(home) or not _under(home, root):
            report.outside += 1
            continue
        report.homes += 1
        for parent in _parents(home):
            parents[parent].add(account.ref)
        _check_home(report, account, home, allowed.get(account.pk, {}))
    for parent in sorted(parents):
        _check_parent(report, parent, sorted(parents[parent]))
    if record:
        _record(report, now)
    return report


def _granted(at: date) -> dict[int, dict[int, tuple[AccessGrant, set[str]]]]:
    """owner account id -> grantee uid -> (grant, the permission letters it allows), for the
    grants in force on `at` (one that has ended allows nothing, even before `enforce`)."""
    out: dict[int, dict[int, tuple[AccessGrant, set[str]]]] = defaultdict(dict)
    gone = Q()
    for q in ended_on(at).values():
        gone |= q
    for grant in AccessGrant.objects.exclude(gone).select_related("grantee"):
        letters = {"r", "x"} if grant.read_only else {"r", "w", "x"}
        out[grant.owner_id][grant.grantee_uid] = (grant, letters)
    return out


def _check_home(report: Audit, account: Account, home: str, granted: dict) -> None:
    refs = [account.ref]
    try:
        st = os.lstat(home)
    except FileNotFoundError:
        report.notes.append(f"{account.ref} {home}: no such directory (nothing to check)")
        return
    if not stat.S_ISDIR(st.st_mode):
        what = (
            f"a symlink to {os.readlink(home)}" if stat.S_ISLNK(st.st_mode) else "not a directory"
        )
        report.findings.append(Finding("not_a_directory", refs, home, what))
        return
    uid = expected_uid(account)
    if uid is None:
        report.notes.append(
            f"{account.ref} {home}: no uid in the registry and no user {account.username!r} on "
            "this host: its owner is not checked"
        )
    elif st.st_uid != uid:
        report.findings.append(
            Finding("owner", refs, home, f"owned by uid {st.st_uid}, not {uid}", {"uid": uid})
        )
    acls = acl.read_tree(home)
    own = acls.get(home)
    group = own.base("group") if own else perms(st.st_mode >> 3 & 7)
    other = perms(st.st_mode & 7)
    if group != "---" or other != "---":
        report.findings.append(
            Finding(
                "mode",
                refs,
                home,
                f"mode {stat.S_IMODE(st.st_mode):04o}: group {group}, others {other}",
                {"acl": own is not None},
            )
        )
    for path, file_acl in sorted(acls.items()):
        for entry in file_acl.entries:
            kind = "default_acl" if entry.default else "acl"
            if entry.named:
                grant = granted.get(entry.qualifier) if entry.tag == "user" else None
                if entry.tag == "user" and entry.qualifier == uid:
                    continue  # the owner's own entry lets in no one else
                if grant and set(entry.perms) - {"-"} <= grant[1]:
                    ref = grant[0].ref
                    if ref not in report.allowed:
                        report.allowed[ref] = Allowed(ref, account.ref, grant[0].grantee.ref, home)
                    report.allowed[ref].entries += 1
                    continue
                if grant:  # more than it allows: set back to what it allows
                    spec = f"u:{entry.qualifier}:{grant[0].perms}"
                    repair = {"reapply": f"{spec},d:{spec}"}
                    why = f"more than {grant[0].ref} allows"
                else:
                    repair, why = {"remove": entry.removal()}, "not granted"
                report.findings.append(Finding(kind, refs, path, f"{entry} ({why})", repair))
            elif (
                path == home and entry.default and entry.tag in ("group", "other")
            ) and entry.perms != "---":
                report.findings.append(
                    Finding(
                        kind, refs, path, f"{entry} (new files)", {"set": f"d:{entry.tag[0]}::---"}
                    )
                )
    _check_symlinks(report, refs, home)


def _check_symlinks(report: Audit, refs: list[str], home: str) -> None:
    real_home = os.path.realpath(home)
    for dirpath, dirnames, filenames, dirfd in os.fwalk(home, follow_symlinks=False):
        for name in sorted(dirnames + filenames):
            try:
                if not stat.S_ISLNK(os.lstat(name, dir_fd=dirfd).st_mode):
                    continue
                target = os.readlink(name, dir_fd=dirfd)
            except FileNotFoundError:
                continue  # gone meanwhile
            path = os.path.join(dirpath, name)
            if not _under(os.path.realpath(path), real_home):
                report.findings.append(
                    Finding("symlink", refs, path, f"leads out to {target}", {"target": target})
                )


def _parents(home: str) -> list[str]:
    """The directories above a home: by the path as written and by the real path."""
    out = []
    for path in (home, os.path.realpath(home)):
        path = os.path.dirname(path)
        while True:
            out.append(path)
            if path == "/":
                break
            path = os.path.dirname(path)
    return list(dict.fromkeys(out))


def _check_parent(report: Audit, path: str, refs: list[str]) -> None:
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISDIR(st.st_mode) and st.st_mode & stat.S_IWOTH and not st.st_mode & stat.S_ISVTX:
        mode = stat.S_IMODE(st.st_mode)
        report.findings.append(
            Finding(
                "parent",
                refs,
                path,
                f"mode {mode:04o}: anyone may rename the home directories below it",
                {"mode": mode},
            )
        )


def _record(report: Audit, now: datetime) -> None:
    counts: dict[str, int] = defaultdict(int)
    for f in report.findings:
        counts[f.kind] += 1
    refs = sorted({r for f in report.findings for r in f.accounts})
    with transaction.atomic():
        append(
            "homes.audit",
            actor="homes",
            at=now,
            record_type="account",
            refs=refs,
            count=report.homes,
            data={
                "homes": report.homes,
                "violations": dict(sorted(counts.items())),
                "allowed_by_grants": len(report.allowed),
            },
        )


# -- fix --------------------------------------------------------------------------------------


@dataclass
class Fixed:
    kind: str
    accounts: list[str]
    path: str
    change: str

    def as_dict(self) -> dict[str, Any]:
        return vars(self).copy()


def fix(root: str, *, now: datetime, actor: str = "homes") -> tuple[list[Fixed], Audit]:
    """Repair what `audit` finds; returns the changes made and a fresh audit."""
    found = audit(root, record=False)
    done: list[Fixed] = []
    by_home: dict[str, list[Finding]] = defaultdict(list)
    for finding in found.findings:
        if finding.kind == "parent":
            done.append(_fix_parent(finding, now, actor))
        elif finding.kind not in UNFIXABLE:
            home = _home_of(finding)
            by_home[home].append(finding)
    for home, findings in by_home.items():
        done += _fix_home(home, findings, now, actor)
    return done, audit(root, now=now)


def _home_of(finding: Finding) -> str:
    account = Account.objects.get(ref=finding.accounts[0])
    return os.path.normpath(account.home)


def _open_dir(path: str) -> int:
    """The directory itself, never what a symlink in its place points at."""
    return os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)


def _fix_parent(finding: Finding, now: datetime, actor: str) -> Fixed:
    before = finding.repair["mode"]
    after = before & ~0o002
    fd = _open_dir(finding.path)
    try:
        os.fchmod(fd, after)
    finally:
        os.close(fd)
    change = f"mode {before:04o} -> {after:04o}"
    _evidence(
        finding.accounts,
        now,
        actor,
        {"kind": "parent", "from": f"{before:04o}", "to": f"{after:04o}"},
    )
    return Fixed("parent", finding.accounts, finding.path, change)


def _fix_home(home: str, findings: list[Finding], now: datetime, actor: str) -> list[Fixed]:
    refs = findings[0].accounts
    done = []
    fd = _open_dir(home)
    try:
        for f in findings:
            if f.kind == "owner":
                os.fchown(fd, f.repair["uid"], -1)
                done.append(Fixed("owner", refs, home, f"owner -> uid {f.repair['uid']}"))
                _evidence(refs, now, actor, {"kind": "owner"})
        mode = [f for f in findings if f.kind == "mode"]
        if mode:
            before = stat.S_IMODE(os.fstat(fd).st_mode)
            os.fchmod(fd, HOME_MODE)
            done.append(Fixed("mode", refs, home, f"mode {before:04o} -> {HOME_MODE:04o}"))
            _evidence(
                refs,
                now,
                actor,
                {"kind": "mode", "from": f"{before:04o}", "to": f"{HOME_MODE:04o}"},
            )
        # With an ACL, chmod sets the mask, not the owning group's entry: set that too. Any
        # setfacl change recomputes the mask from the entries left, so granted users keep in.
        base = ["g::---,o::---"] if any(f.repair.get("acl") for f in mode) else []
        defaults = sorted({f.repair["set"] for f in findings if "set" in f.repair})
        if base or defaults:
            acl.modify_fd(fd, ",".join(base + defaults))
        for spec in defaults:
            done.append(Fixed("default_acl", refs, home, f"set {spec}"))
        if defaults:
            _evidence(refs, now, actor, {"kind": "default_acl", "entries": len(defaults)})
    finally:
        os.close(fd)
    files: dict[tuple[str, str], int] = defaultdict(int)
    for f in findings:
        if "remove" in f.repair:
            files[(f.kind, f.repair["remove"])] += 1
    if files:
        acl.remove_tree(home, sorted({spec for _, spec in files}))
        for (kind, spec), n in sorted(files.items()):
            done.append(Fixed(kind, refs, home, f"removed {spec} from {n} file(s)"))
            named = "user" if spec.split(":")[-2] == "u" else "group"
            _evidence(refs, now, actor, {"kind": kind, "entry": named, "files": n}, count=n)
    reapply: dict[str, int] = defaultdict(int)
    for f in findings:
        if "reapply" in f.repair:
            reapply[f.repair["reapply"]] += 1
    for spec, n in sorted(reapply.items()):
        acl.modify_tree(home, spec)
        done.append(Fixed("acl", refs, home, f"set {spec} again, as granted ({n} too broad)"))
        _evidence(refs, now, actor, {"kind": "acl", "entry": "granted", "files": n}, count=n)
    links = [f for f in findings if f.kind == "symlink"]
    removed = [f for f in links if _unlink_inside(home, f.path, f.repair["target"])]
    for f in removed:
        done.append(Fixed("symlink", refs, f.path, f"removed (it led to {f.repair['target']})"))
    if removed:
        _evidence(
            refs, now, actor, {"kind": "symlink", "removed": len(removed)}, count=len(removed)
        )
    return done


def _unlink_inside(home: str, path: str, target: str) -> bool:
    """Remove the symlink at `path`, walking from the home without following any symlink."""
    parts = os.path.relpath(path, home).split(os.sep)
    fd = _open_dir(home)
    try:
        for part in parts[:-1]:
            next_fd = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
            os.close(fd)
            fd = next_fd
        name = parts[-1]
        if not stat.S_ISLNK(os.lstat(name, dir_fd=fd).st_mode):
            return False
        if os.readlink(name, dir_fd=fd) != target:
            return False  # changed since the audit: the next audit looks again
        os.unlink(name, dir_fd=fd)
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


def _evidence(refs: list[str], now: datetime, actor: str, data: dict, count: int = 1) -> None:
    customers = Account.objects.filter(ref__in=refs).values_list("person__customer__ref", flat=True)
    with transaction.atomic():
        append(
            "homes.fix",
            actor=actor,
            at=now,
            record_type="account",
            refs=refs,
            customers=list(customers),
            count=count,
            data=data,
        )
