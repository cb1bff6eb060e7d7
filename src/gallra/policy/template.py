"""The neutral policy a new provider starts from (`gallra policy new`), and its placeholders.

A placeholder is a value written «like this»: a fact of the provider's that the template
cannot know (its name, its roles, how long it keeps customer data). Loading refuses a policy
while any value still holds one (loading.py), each named with its key and line, so that a
half-filled template never runs. Comments may mention placeholders; only values count.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path

from gallra.policy.locations import Path as KeyPath

TEMPLATE = Path(__file__).resolve().parent.parent / "policies" / "template.toml"
# « and » are reserved for placeholders: no text of a policy may hold them.
PLACEHOLDER = re.compile(r"«[^«»\n]*»?|»")


def template_text() -> str:
    return TEMPLATE.read_text(encoding="utf-8")


def placeholders(data: object, where: KeyPath = ()) -> Iterator[tuple[KeyPath, str]]:
    """(key path, placeholder) for each placeholder in a parsed TOML value, in file order."""
    if isinstance(data, dict):
        for key, value in data.items():
            for found in PLACEHOLDER.findall(key):
                yield (*where, key), found
            yield from placeholders(value, (*where, key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from placeholders(value, (*where, i))
    elif isinstance(data, str):
        for found in PLACEHOLDER.findall(data):
            yield where, found


def write_template(path: Path) -> int:
    """Write the template to `path`, which must not exist (FileExistsError: a provider's
    policy is never overwritten). Returns how many placeholders it holds."""
    text = template_text()
    with path.open("x", encoding="utf-8") as out:
        out.write(text)
    return count(text)


def count(text: str) -> int:
    """How many placeholders the values of a policy text hold."""
    return sum(1 for _ in placeholders(tomllib.loads(text)))


def default_path(data_dir: Path) -> Path:
    """Where `gallra policy new` writes without a PATH: the file gallra would run with."""
    return Path(os.environ.get("GALLRA_POLICY") or data_dir / "policy.toml")


def fill(text: str, values: Mapping[str, str | None]) -> str:
    """The template `text` with each placeholder «NAME» replaced by `values[NAME]`, for
    scripts that set up an instance and for tests. None deletes each line whose value is only
    that placeholder (an optional key, such as `brand`). Every placeholder in a value must
    get a value and every value must fill one: a typo raises ValueError, never a half fill."""
    unused = set(values)
    lines = []
    for line in text.splitlines(keepends=True):
        found = [p[1:-1] for p in PLACEHOLDER.findall(line) if p.startswith("«")]
        if line.lstrip().startswith("#"):
            lines.append(line)
            continue
        if any(values.get(name, "") is None for name in found):
            unused -= set(found)
            continue
        for name in found:
            if name in values:
                unused.discard(name)
                escaped = str(values[name]).replace("\\", "\\\\").replace('"', '\\"')
                line = line.replace(f"«{name}»", escaped)
        lines.append(line)
    filled = "".join(lines)
    left = sorted({p for _, p in placeholders(tomllib.loads(filled))})
    if left or unused:
        raise ValueError(f"no value for {left}; no placeholder for {sorted(unused)}")
    return filled
