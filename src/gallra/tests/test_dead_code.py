"""No dead code: vulture, with the configuration in pyproject.toml ([tool.vulture]), finds
nothing in src/gallra. Code nothing calls is code nobody tests or reads the same way twice.

A name vulture cannot see used (Django, pytest and templates read names, not calls) goes in
[tool.vulture] ignore_names, with the reason, never to silence a real finding.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def vulture(*paths: str) -> subprocess.CompletedProcess[str]:
    """vulture run as `vulture` is run at the repository's root: [tool.vulture] applies."""
    return subprocess.run(  # noqa: S603 (our own interpreter, fixed arguments)
        [sys.executable, "-m", "vulture", "--config", str(ROOT / "pyproject.toml"), *paths],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_vulture_finds_no_dead_code():
    result = vulture()
    assert result.stderr == ""
    assert result.stdout == "", "dead code (remove it, or see [tool.vulture]):\n" + result.stdout
    assert result.returncode == 0


def test_the_check_finds_a_function_nobody_calls(tmp_path):
    planted = tmp_path / "planted.py"
    planted.write_text(
        "def planted_and_never_called(x: int) -> int:\n    return x\n\nUNUSED_PLANTED = 1\n",
        encoding="utf-8",
    )
    result = vulture("src/gallra", str(planted))
    assert result.returncode == 3, result.stdout + result.stderr  # vulture: dead code found
    found = [line for line in result.stdout.splitlines() if line.startswith(str(planted))]
    assert len(found) == 2, result.stdout
    assert "unused function 'planted_and_never_called'" in found[0]
    assert "unused variable 'UNUSED_PLANTED'" in found[1]
