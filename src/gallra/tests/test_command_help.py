"""`gallra` is gallra's command (docs/commands.md): only gallra's commands and options in
its help, gallra's version, hyphenated names, an example in every help page that runs,
Django's commands under `gallra django`, one line instead of a traceback before `gallra init`,
shell completion that completes.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

from django.utils import translation

from gallra import cli
from gallra.policy.command import DJANGO_OPTIONS, GallraCommand
from gallra.tests.examples import ROOT, examples_in_docs

DJANGO_WORDS = sorted(DJANGO_OPTIONS | {"--skip-checks"})


def commands() -> dict[str, object]:
    return {name: cli.load(name, app) for name, app in sorted(cli.gallra_commands().items())}


def pages(name: str, command) -> list[tuple[str, str]]:
    """(title, help text) of the command and of each of its actions, in English."""
    with translation.override("en"):
        return _pages(name, command)


def _pages(name: str, command) -> list[tuple[str, str]]:
    parser = command.create_parser("gallra", name)
    found = [(name, parser.format_help())]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub, subparser in action.choices.items():
                found.append((f"{name} {sub}", subparser.format_help()))
    return found


def gallra(*args: str, env: dict | None = None, cwd: Path | None = None):
    return subprocess.run(
        [sys.executable, "-m", "gallra", *args],
        capture_output=True,
        text=True,
        env=env or {**os.environ, "LANG": "C.UTF-8"},
        cwd=cwd,
        timeout=120,
        check=False,
    )


def test_every_command_is_built_the_one_way():
    found = commands()
    assert len(found) > 20  # not vacuous: the commands were found
    for name, command in found.items():
        assert isinstance(command, GallraCommand), name
        assert type(command).handle is GallraCommand.handle, f"{name} overrides handle()"


def test_each_help_page_has_only_gallras_options_and_an_example():
    problems = []
    for name, command in commands().items():
        for title, text in pages(name, command):
            shown = f"gallra {title.replace('_', '-')}"
            problems += [f"{shown}: shows {w}" for w in DJANGO_WORDS if w in text]
            if f"usage: {shown}" not in text:
                problems.append(f"{shown}: usage line is not `{shown}`")
            examples = text.partition("Examples:\n")[2].splitlines()
            if not any(e.strip().startswith(shown) for e in examples):
                problems.append(f"{shown}: no example starting `{shown}`")
    assert not problems, "\n".join(problems)


def test_a_help_page_tells_the_planted_fault():
    """The walk above would catch a command that still shows Django's options."""

    class Plain(GallraCommand):
        help = "x"
        suppressed_base_arguments = set()

    text = Plain().create_parser("gallra", "plain").format_help()
    assert "--settings" in text and "Examples:" not in text


def test_gallra_help_lists_gallras_commands_only_and_its_own_version():
    shown = gallra("--help")
    assert shown.returncode == 0
    assert "verify-erasure" in shown.stdout and "gallra django" in shown.stdout
    for django_only in ("startproject", "squashmigrations", "testserver", "flush"):
        assert django_only not in shown.stdout
    assert gallra().stdout == shown.stdout
    assert gallra("--version").stdout.strip() == f"gallra {version('gallra')}"


def test_hyphen_names_and_old_underscore_names():
    helped = gallra("help", "verify-erasure")
    assert helped.returncode == 0, helped.stderr
    assert helped.stdout.startswith("usage: gallra verify-erasure")
    old = gallra("verify_erasure", "--help")
    assert old.returncode == 0 and old.stdout == helped.stdout
    action = gallra("help", "evidence", "verify")
    assert action.stdout.startswith("usage: gallra evidence verify")


def test_django_commands_live_under_gallra_django():
    listed = gallra("django", "help")
    assert listed.returncode == 0 and "migrate" in listed.stdout
    direct = gallra("migrate")
    assert direct.returncode == 2
    assert "gallra django migrate" in direct.stderr and "Traceback" not in direct.stderr


def test_a_wrong_command_or_option_is_usage_exit_2():
    typo = gallra("verify-erasur")
    assert typo.returncode == 2 and "gallra verify-erasure" in typo.stderr
    wrong = gallra("policy", "check", "--no-such-option")
    assert wrong.returncode == 2 and "--no-such-option" in wrong.stderr


def test_before_init_every_command_says_so_in_one_line(tmp_path):
    """No traceback, one line naming `gallra init`, exit 2, and nothing created."""
    data = tmp_path / "data"
    script = (
        "import contextlib, io, json, sys\n"
        "from gallra import cli\n"
        "out = {}\n"
        "for name in sys.argv[1:]:\n"
        "    err = io.StringIO()\n"
        "    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):\n"
        "        try:\n"
        "            cli.main(['gallra', name])\n"
        "            code = 0\n"
        "        except SystemExit as exc:\n"
        "            code = exc.code\n"
        "    out[name] = [code, err.getvalue()]\n"
        "print(json.dumps(out))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("GALLRA_")}
    env.update(GALLRA_DATA=str(data), LANG="C.UTF-8")
    needing = sorted(n for n, c in commands().items() if c.needs_database)
    assert {"plan", "enforce", "subject", "backup"} <= set(needing)
    done = subprocess.run(
        [sys.executable, "-c", script, *needing],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
        check=True,
    )
    results = json.loads(done.stdout)
    for name in needing:
        code, err = results[name]
        assert code == 2, (name, code, err)
        assert err.count("\n") == 1 and "gallra init" in err and "Traceback" not in err, err
    assert not data.exists()


def test_bash_completion_completes_commands_and_actions():
    script = gallra("completion", "bash")
    assert script.returncode == 0

    def complete(*words: str) -> list[str]:
        line = " ".join(f"'{w}'" for w in words)
        done = subprocess.run(
            [
                "bash",
                "-c",
                script.stdout + f"\nCOMP_WORDS=({line}); COMP_CWORD={len(words) - 1}; _gallra; "
                'printf "%s\\n" "${COMPREPLY[@]}"',
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout.split()

    assert complete("gallra", "verify") == ["verify-erasure"]
    assert complete("gallra", "evidence", "ve") == ["verify"]
    assert "--offline" in complete("gallra", "policy", "--off")


def test_zsh_completion_loads():
    script = gallra("completion", "zsh").stdout
    done = subprocess.run(
        ["zsh", "-c", script + "\nwhence -w _gallra; complete -p gallra"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "_gallra: function" in done.stdout


def help_examples() -> list[tuple[str, str]]:
    found = []
    for name, command in commands().items():
        for title, text in pages(name, command):
            for line in text.partition("Examples:\n")[2].splitlines():
                if line.strip().startswith("gallra "):
                    found.append((f"help of gallra {title}", line.strip()))
    return list(dict.fromkeys(found))


def run_examples(examples: list[tuple[str, str]], tmp_path: Path) -> list[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GALLRA_")}
    env.update(GALLRA_DATA=str(tmp_path / "data"), LANG="C.UTF-8")
    done = subprocess.run(
        [sys.executable, "-m", "gallra.tests.examples"],
        input=json.dumps([line for _, line in examples]),
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    results = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(results) == len(examples), results[-1:]
    where = dict((line, w) for w, line in examples)
    return [
        f"{where[r['line']]}: `{r['line']}` exited {r['status']}: {r['stderr'][-600:]}"
        for r in results
        if r["status"] not in (0, 1)
    ]


def test_every_example_in_the_help_runs(tmp_path):
    examples = help_examples()
    assert len(examples) >= len(commands())
    failed = run_examples(examples, tmp_path)
    assert not failed, "\n".join(failed)


def test_every_example_in_the_docs_runs(tmp_path):
    """Each `gallra …` line in a shell block of docs/*.md, in order, file by file."""
    examples = examples_in_docs()
    assert len(examples) > 50
    failed = run_examples(examples, tmp_path)
    assert not failed, "\n".join(failed)
