"""Run command examples (from the commands' help and from docs/) against a scratch instance.

Run as `python -m gallra.tests.examples` in a fresh `GALLRA_DATA`, with a JSON list of
shell lines on stdin; prints one JSON object per line: the line, its exit status and the
end of what it wrote to stderr. It first runs `gallra init` and `gallra demo`, as a newcomer
would, then each line in order in this one process (so the lot takes seconds, not minutes).
A command that never returns (`gallra serve`) is only parsed.
"""

from __future__ import annotations

import contextlib
import io
import json
import shlex
import subprocess
import sys
from pathlib import Path

import gallra

ROOT = Path(gallra.__file__).resolve().parents[2]
# Parsed, not run, each for its reason; their own tests run them for real:
PARSE_ONLY = {
    ("serve",),  # runs until stopped
    ("worker",),  # runs until stopped, and needs PostgreSQL
    ("logins", "follow"),  # runs until stopped
    ("staff", "password"),  # asks on a terminal
    ("replay",),  # needs a dataset or mailbox of the provider's own
    ("homes", "fix"),  # changes the machine's real home directories (homes/tests: an image)
    ("homes", "grant"),  # needs the machine's real users
    ("homes", "revoke"),
}


def examples_in_docs(root: Path = ROOT) -> list[tuple[str, str]]:
    """(where, line) for each `gallra …` line in a shell block of docs/*.md."""
    found = []
    for path in sorted((root / "docs").glob("*.md")):
        fenced, shell = False, False
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.startswith("```"):
                fenced, shell = not fenced, line[3:].strip() in ("sh", "bash", "shell")
                continue
            text = line.strip().removeprefix("$ ").removeprefix(".venv/bin/")
            if fenced and shell and text.startswith("gallra "):
                found.append((f"docs/{path.name}:{number}", text))
    return found


def run_line(line: str) -> tuple[int, str, str]:
    from gallra import cli

    words = [w for w in shlex.split(line, comments=True)]
    out, err = io.StringIO(), io.StringIO()
    status = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            if any(tuple(words[1 : 1 + len(p)]) == p for p in PARSE_ONLY):
                _parse_only(words)
            else:
                cli.main(words)
        except SystemExit as exc:
            status = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except Exception:  # a traceback is what the examples must never show
            import traceback

            traceback.print_exc(file=err)
            status = 99
    return status, out.getvalue(), err.getvalue()


def _parse_only(words: list[str]) -> None:
    from gallra import cli

    command = words[1].replace("-", "_")
    cli.load(command, cli.gallra_commands()[command]).create_parser("gallra", command).parse_args(
        words[2:]
    )


def main() -> None:
    import os

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gallra.settings")
    lines = json.load(sys.stdin)
    # Set up in their own processes, as a newcomer would: this process then starts on the
    # instance they made (settings read the data directory's env file, which demo writes).
    for setup in (["init"], ["demo"]):
        done = subprocess.run(
            [sys.executable, "-m", "gallra", *setup], capture_output=True, text=True, check=False
        )
        if done.returncode:
            line = "gallra " + " ".join(setup)
            print(json.dumps({"line": line, "status": done.returncode, "stderr": done.stderr}))
            return
    for line in lines:
        status, _, err = run_line(line)
        print(json.dumps({"line": line, "status": status, "stderr": err[-2000:]}), flush=True)


if __name__ == "__main__":
    main()
