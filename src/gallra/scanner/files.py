"""Scanning files and folders: each finding with its file, line and column."""

from __future__ import annotations

import bisect
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from gallra.scanner.scan import Scanner

MAX_BYTES = 64 << 20  # a larger file is scanned in its first 64 MiB


@dataclass(frozen=True)
class FileHit:
    path: str
    line: int
    column: int
    kind: str
    text: str

    def masked(self) -> str:
        """Enough to recognise it, not to use it: the first two and last character."""
        if len(self.text) <= 4:
            return "*" * len(self.text)
        return self.text[:2] + "*" * (len(self.text) - 3) + self.text[-1]

    def as_dict(self, show: bool = False) -> dict:
        return {
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "kind": self.kind,
            "text": self.text if show else self.masked(),
        }


def subject_names() -> list[str]:
    """The names of the registry's people and customers: the known subjects; none when there
    is no registry yet (a file is scanned before `gallra init`, or on a laptop)."""
    from gallra.registry.models import Person, Prospect

    if not has_registry():
        return []
    people = Person.objects.values_list("first_name", "last_name")
    names = [f"{first} {last}" for first, last in people]
    return names + list(Prospect.objects.values_list("name", flat=True))


def has_registry() -> bool:
    """The instance's database is there, with the registry's tables. An SQLite file that is
    not there is not opened: opening it would create it (and scanning makes nothing)."""
    from django.db import DatabaseError, connection

    from gallra.registry.models import Person

    name = str(connection.settings_dict["NAME"])
    on_disk = connection.vendor == "sqlite" and not connection.creation.is_in_memory_db(name)
    if on_disk and not Path(name).is_file():
        return False
    try:
        with connection.cursor() as cursor:
            return Person._meta.db_table in connection.introspection.table_names(cursor)
    except DatabaseError:  # no server, no database: nothing to look for
        return False


def _files(paths: Iterable[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_file():
            yield path
            continue
        for root, dirs, files in os.walk(path):
            dirs.sort()
            for name in sorted(files):
                found = Path(root) / name
                if found.is_file() and not found.is_symlink():
                    yield found


def scan_paths(
    paths: Iterable[Path],
    scanner: Scanner,
    progress: Callable[[int, int | None], None] | None = None,
) -> list[FileHit]:
    hits = []
    files = list(_files(paths)) if progress else _files(paths)
    total = len(files) if progress else None
    for done, path in enumerate(files, 1):
        if progress:
            progress(done, total)
        with open(path, "rb") as f:
            raw = f.read(MAX_BYTES)
        if b"\0" in raw[:8192]:
            continue  # binary
        text = raw.decode("utf-8", "replace")
        line_starts = [0]
        newline = text.find("\n")
        while newline != -1:
            line_starts.append(newline + 1)
            newline = text.find("\n", newline + 1)
        for finding in scanner.scan(text):
            line = _line_of(line_starts, finding.start)
            column = finding.start - line_starts[line - 1] + 1
            hits.append(FileHit(str(path), line, column, finding.kind, finding.text))
    return hits


def _line_of(starts: list[int], position: int) -> int:
    return bisect.bisect_right(starts, position)
