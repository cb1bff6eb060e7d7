"""Line numbers for keys of a TOML file, which `tomllib` does not report.

`key_lines(text)` maps each key path, such as ("category", 2, "fields"), to the line where
that key (or the header of that table) stands, so that every policy problem can be shown
as `PATH:LINE: message`.
"""

from __future__ import annotations

import re

Path = tuple[str | int, ...]

_BARE_KEY = r"[A-Za-z0-9_-]+"
_QUOTED_KEY = r"\"(?:[^\"\\]|\\.)*\"|'[^']*'"
_KEY = rf"(?:{_BARE_KEY}|{_QUOTED_KEY})"
_DOTTED = rf"{_KEY}(?:\s*\.\s*{_KEY})*"
_HEADER = re.compile(rf"^\s*(\[\[?)\s*({_DOTTED})\s*\]\]?")
_KEY_LINE = re.compile(rf"^\s*({_DOTTED})\s*=")


def _split_dotted(dotted: str) -> list[str]:
    parts = re.findall(_KEY, dotted)
    return [p[1:-1] if p[:1] in "\"'" else p for p in parts]


def _value_state(line: str, depth: int, string: str | None) -> tuple[int, str | None]:
    """Track bracket depth and open multi-line strings across lines of one value."""
    i = 0
    while i < len(line):
        if string:
            if line.startswith(string, i):
                i += len(string)
                string = None
                continue
            if string == '"""' and line[i] == "\\":
                i += 2
                continue
            i += 1
            continue
        ch = line[i]
        if ch == "#":
            break
        if line.startswith('"""', i) or line.startswith("'''", i):
            string = line[i : i + 3]
            i += 3
            continue
        if ch in "\"'":
            end = i + 1
            while end < len(line) and line[end] != ch:
                end += 2 if ch == '"' and line[end] == "\\" else 1
            i = end + 1
            continue
        if ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        i += 1
    return depth, string


def key_lines(text: str) -> dict[Path, int]:
    lines: dict[Path, int] = {}
    counters: dict[tuple, int] = {}  # array-of-tables path -> index of its current element
    table: list[str | int] = []
    depth, string = 0, None
    for number, line in enumerate(text.splitlines(), start=1):
        if depth > 0 or string:
            depth, string = _value_state(line, depth, string)
            continue
        header = _HEADER.match(line)
        if header:
            parts = _split_dotted(header.group(2))
            resolved: list[str | int] = []
            for i, part in enumerate(parts):
                resolved.append(part)
                if i < len(parts) - 1 and tuple(resolved) in counters:
                    # A header inside an array of tables refers to its last element.
                    resolved.append(counters[tuple(resolved)])
            if header.group(1) == "[[":
                key = tuple(resolved)
                counters[key] = counters.get(key, -1) + 1
                resolved.append(counters[key])
            table = resolved
            lines.setdefault(tuple(table), number)
            continue
        key_line = _KEY_LINE.match(line)
        if key_line:
            path = (*table, *_split_dotted(key_line.group(1)))
            lines.setdefault(path, number)
            depth, string = _value_state(line[key_line.end() :], 0, None)
    return lines


def line_for(lines: dict[Path, int], path: Path) -> int:
    """The line of `path`, or of its nearest enclosing key; 1 when nothing encloses it."""
    for end in range(len(path), 0, -1):
        if path[:end] in lines:
            return lines[path[:end]]
        inside = [line for key, line in lines.items() if key[:end] == path[:end]]
        if inside:
            return min(inside)
    return 1
