"""POSIX ACLs through Debian's `acl` tools, getfacl and setfacl (pylibacl has no wheel).

Every recursive walk is physical (`-P`): a symlink inside a home is never followed, so a
user cannot point gallra at another user's files. A single directory that gallra has
checked is named by an open file descriptor (`/proc/self/fd/N`), so that it cannot be
swapped for something else between the check and the change.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass

_ENV = {"LC_ALL": "C", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
_OCTAL = re.compile(rb"\\(\\|[0-7]{3})")


class AclError(Exception):
    """getfacl or setfacl failed; the message is theirs."""


@dataclass(frozen=True)
class Entry:
    default: bool
    tag: str  # user, group, mask, other
    qualifier: int | None  # the uid or gid of a named entry
    perms: str  # as getfacl prints them: "r-x"

    @property
    def named(self) -> bool:
        return self.qualifier is not None

    def __str__(self) -> str:
        who = "" if self.qualifier is None else str(self.qualifier)
        return f"{'default:' if self.default else ''}{self.tag}:{who}:{self.perms}"

    def removal(self) -> str:
        """This entry for `setfacl -x`."""
        return f"{'d:' if self.default else ''}{self.tag[0]}:{self.qualifier}"


@dataclass
class FileAcl:
    path: str
    entries: list[Entry]

    def base(self, tag: str, default: bool = False) -> str | None:
        """The permissions of the unnamed `user::`, `group::` or `other::` entry."""
        for e in self.entries:
            if e.tag == tag and e.default == default and e.qualifier is None:
                return e.perms
        return None


def read_tree(top: str) -> dict[str, FileAcl]:
    """Every file at or under `top` that has more than the three base entries, by path."""
    argv = ["getfacl", "--recursive", "--physical", "--absolute-names", "--numeric"]
    out = _run([*argv, "--skip-base", "--no-effective", "--", top], vanished_ok=True)
    return {acl.path: acl for acl in parse(out)}


def parse(text: bytes) -> list[FileAcl]:
    """getfacl's output, file by file."""
    files = []
    current: FileAcl | None = None
    for line in text.splitlines():
        if line.startswith(b"# file: "):
            current = FileAcl(_unquote(line[8:]), [])
            files.append(current)
        elif line.startswith(b"#") or not line.strip() or current is None:
            continue
        else:
            current.entries.append(_entry(line.decode("ascii")))
    return files


def _entry(line: str) -> Entry:
    parts = line.split("#", 1)[0].strip().split(":")
    default = parts[0] == "default"
    if default:
        parts = parts[1:]
    tag, qualifier, perms = parts
    return Entry(default, tag, int(qualifier) if qualifier else None, perms)


def _unquote(name: bytes) -> str:
    """getfacl writes a backslash as `\\\\` and unprintable bytes as `\\ooo`."""
    raw = _OCTAL.sub(lambda m: b"\\" if m[1] == b"\\" else bytes([int(m[1], 8)]), name)
    return os.fsdecode(raw)


def modify_tree(top: str, spec: str) -> None:
    """`setfacl -R -P -m SPEC TOP`: the entries on `top` and everything under it."""
    _run(["setfacl", "--recursive", "--physical", "--modify", spec, "--", top])


def remove_tree(top: str, entries: list[str]) -> None:
    """`setfacl -R -P -x ENTRIES TOP`; an entry a file does not have is no error."""
    _run(["setfacl", "--recursive", "--physical", "--remove", ",".join(entries), "--", top])


def modify_fd(fd: int, spec: str) -> None:
    """`setfacl -m SPEC` on the directory open as `fd` (and nothing else)."""
    _run(["setfacl", "--modify", spec, "--", f"/proc/self/fd/{fd}"], pass_fds=(fd,))


def _run(argv: list[str], pass_fds: tuple[int, ...] = (), vanished_ok: bool = False) -> bytes:
    """Run an acl tool; with `vanished_ok`, a file deleted during the walk is no error."""
    try:
        done = subprocess.run(argv, capture_output=True, env=_ENV, pass_fds=pass_fds, check=False)  # noqa: S603
    except FileNotFoundError:
        raise AclError(f"{argv[0]} is not installed (Debian package `acl`)") from None
    errors = [e for e in done.stderr.decode(errors="replace").splitlines() if e.strip()]
    if vanished_ok and errors and all("No such file or directory" in e for e in errors):
        return done.stdout
    if done.returncode != 0:
        message = done.stderr.decode(errors="replace").strip() or f"exit status {done.returncode}"
        raise AclError(f"{argv[0]}: {message}")
    return done.stdout
