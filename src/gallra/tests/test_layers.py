"""The layers (README, Layers): the policy and the evidence log at the bottom, with the small
modules they share (config, strictjson, the outbox), then the registry, then
retention, then every app built on them. A lower layer imports nothing from a higher one, at
module level or inside a function; it learns about higher ones only through what they register
in their AppConfig.ready() (policy/hooks.py, evidence/actions.py, the outbox's kinds).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

GALLRA = Path(__file__).resolve().parents[1]
BOTTOM = frozenset({"policy", "evidence", "config", "strictjson", "idnumbers", "outbox"})
# What each lower layer's code may import of gallra; every other app is above them all.
ALLOWED: dict[str, frozenset[str]] = {
    **dict.fromkeys(BOTTOM, BOTTOM),
    "registry": BOTTOM | {"registry"},
    "retention": BOTTOM | {"registry", "retention"},
    "datasets": BOTTOM | {"registry", "retention", "datasets"},
}


def imported(source: str, module: str) -> Iterator[tuple[int, str]]:
    """(line, dotted name) of every import in `source`, the module `module`, at any depth;
    a relative import is resolved, `from gallra import x` names `gallra.x`."""
    package = module.split(".")
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = ".".join(package[: -node.level] + [node.module or ""]) if node.level else ""
            name = (base.rstrip(".") if node.level else node.module) or ""
            if name == "gallra":
                for alias in node.names:
                    yield node.lineno, f"gallra.{alias.name}"
            else:
                yield node.lineno, name


def violations(source: str, module: str, shown: str) -> list[str]:
    """`shown:line: name` for each import of a gallra app the module's layer may not use."""
    allowed = ALLOWED[module.split(".")[1]]
    return [
        f"{shown}:{line}: {name}"
        for line, name in sorted(imported(source, module))
        if name.startswith("gallra.") and name.split(".")[1] not in allowed
    ]


def lower_layers() -> Iterator[tuple[Path, str]]:
    """(file, module name) of every module of the lower layers, their tests and migrations
    left out (a migration names the apps its tables depend on; a test drives everything)."""
    for layer in sorted(ALLOWED):
        root = GALLRA / layer
        files = [root.with_suffix(".py")] if not root.is_dir() else sorted(root.rglob("*.py"))
        for path in files:
            parts = path.relative_to(GALLRA).with_suffix("").parts
            if "tests" in parts or "migrations" in parts:
                continue
            yield path, ".".join(("gallra", *parts))  # `__init__` kept: `from . import` works


def test_a_lower_layer_imports_nothing_from_the_apps_built_on_it():
    found, layers = [], set()
    for path, module in lower_layers():
        layers.add(module.split(".")[1])
        shown = str(path.relative_to(GALLRA))
        found += violations(path.read_text(encoding="utf-8"), module, shown)
    assert layers == set(ALLOWED)  # every layer was read: no vacuous pass
    assert not found, "imports from a higher layer (README, Layers):\n" + "\n".join(found)


def test_the_check_finds_an_import_from_above_wherever_it_is():
    source = "\n".join(
        [
            "import os",
            "from gallra import config",
            "from gallra.policy.model import Policy",
            "from . import planner",
            "import gallra.staff.roles",
            "def later():",
            "    from gallra.homes.grants import remove_ended_grants",
            "    from ..subjects import datasets",
            "    from gallra import instance",
            "if False:",
            "    from .. import dashboard",
        ]
    )
    found = violations(source, "gallra.retention.words", "retention/words.py")
    assert found == [
        "retention/words.py:5: gallra.staff.roles",
        "retention/words.py:7: gallra.homes.grants",
        "retention/words.py:8: gallra.subjects",
        "retention/words.py:9: gallra.instance",
        "retention/words.py:11: gallra.dashboard",
    ]
    # The same imports are allowed one layer up, and the registry may not use retention.
    assert violations("from gallra.retention import planner", "gallra.registry.x", "r") == [
        "r:1: gallra.retention"
    ]
    assert violations("from gallra.registry import models", "gallra.retention.x", "r") == []
