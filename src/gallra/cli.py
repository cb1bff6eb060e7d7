"""The `gallra` console command (docs/commands.md).

`gallra COMMAND` runs one of gallra's own commands (built on gallra.policy.command.GallraCommand);
names take hyphens (`gallra verify-erasure`), the old underscore names still work. Django's
own commands (migrate, shell, dbshell, changepassword, …) are under `gallra django`, so that
`gallra --help` shows only what a provider needs. A command that needs the instance says so
in one line when `gallra init` has not run.
"""

from __future__ import annotations

import difflib
import os
import sys
from pathlib import Path

BUILTINS = ("help", "django", "completion")


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gallra.settings")
    argv = list(sys.argv if argv is None else argv)
    args = argv[1:]
    if args[:1] == ["--version"]:
        print(f"gallra {version()}")
        return
    import django

    from gallra.config import ConfigError

    try:
        django.setup()
    except ConfigError as exc:  # a bad environment or env file: one line, not a traceback
        sys.stderr.write(f"gallra: {exc}\n")
        sys.exit(2)
    from django.utils import translation

    from gallra.policy.command import language_from_environment

    translation.activate(language_from_environment())
    if not args or args[0] in ("-h", "--help") or args == ["help"]:
        print(overview())
        return
    name, rest = args[0], args[1:]
    if name == "help":
        name, rest = rest[0], [*rest[1:], "--help"]
    if name == "django":
        from django.core.management import ManagementUtility

        ManagementUtility(["gallra django", *rest]).execute()
        return
    if name == "completion":
        sys.exit(completion(rest))
    command = name.replace("-", "_")
    found = gallra_commands()
    if command not in found:
        sys.exit(unknown(name))
    run(command, found[command], rest)


def version() -> str:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("gallra")
    except PackageNotFoundError:  # a source tree on the path, not installed
        from gallra import __version__

        return __version__


def gallra_commands() -> dict[str, str]:
    """gallra's own commands, underscore name -> app."""
    from django.core.management import get_commands

    return {name: app for name, app in get_commands().items() if app.split(".")[0] == "gallra"}


def load(command: str, app: str):
    from django.core.management import load_command_class

    return load_command_class(app, command)


def run(command: str, app: str, rest: list[str]) -> None:
    from django.core.management.base import CommandError
    from django.db.utils import OperationalError, ProgrammingError

    instance = load(command, app)
    wants_help = any(a in ("-h", "--help") for a in rest)
    try:
        if getattr(instance, "needs_database", True) and not wants_help:
            not_ready = why_not_ready()
            if not_ready:
                raise CommandError(not_ready, returncode=2)
        instance.run_from_argv(["gallra", command, *rest])
    except CommandError as exc:  # raised before the command's own handling
        sys.stderr.write(f"gallra {command.replace('_', '-')}: {exc}\n")
        sys.exit(exc.returncode)
    except (OperationalError, ProgrammingError) as exc:
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if "no such table" in text or "does not exist" in text:
            sys.stderr.write(
                f"gallra {command.replace('_', '-')}: "
                + _("the database is not set up (%(why)s): run `gallra init` first") % {"why": text}
                + "\n"
            )
            sys.exit(2)
        raise


def why_not_ready() -> str | None:
    """One line when this instance has not been set up by `gallra init`, else None."""
    from django.conf import settings
    from django.db import connection

    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3") and not Path(db["NAME"]).exists():
        return _("no instance in %(data)s (no database %(db)s): run `gallra init` first") % {
            "data": settings.GALLRA_DATA,
            "db": db["NAME"],
        }
    try:
        tables = connection.introspection.table_names()
    except Exception as exc:  # any failure to reach the database means the same here
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return _("cannot reach the database: %(why)s") % {"why": first}
    if "django_migrations" not in tables:
        return _("the database is empty: run `gallra init` first")
    return None


def _(text: str) -> str:
    from django.utils.translation import gettext

    return gettext(text)


def overview() -> str:
    lines = [
        _("Usage: gallra COMMAND [ARGS]..."),
        "",
        _("Keeps a provider's GDPR policy, and proves it (docs/commands.md)."),
        "",
        _("Commands:"),
    ]
    found = gallra_commands()
    width = max(len(n) for n in found) + 2
    for command in sorted(found):
        instance = load(command, found[command])
        first = str(instance.help).split("\n")[0]
        lines.append(f"  {command.replace('_', '-'):<{width}}{first}")
    builtins = {
        "help": _("Show a command's help: gallra help COMMAND [ACTION]"),
        "completion": _("Print shell completion: gallra completion bash|zsh"),
        "django": _("Django's own commands: gallra django migrate, shell, dbshell, …"),
    }
    lines += ["", _("Also:")]
    lines += [f"  {n:<{width}}{h}" for n, h in builtins.items()]
    lines += [
        "",
        _("Options:"),
        f"  {'--version':<{width}}" + _("Print gallra's version"),
        f"  {'--help':<{width}}" + _("Show this overview"),
        "",
        _("Exit status: 0 done, 1 found something or failed, 2 bad usage or input."),
    ]
    return "\n".join(lines)


def unknown(name: str) -> int:
    from django.core.management import get_commands

    if name.replace("-", "_") in get_commands():
        sys.stderr.write(
            _("gallra: `%(name)s` is Django's command: run `gallra django %(name)s`")
            % {"name": name}
            + "\n"
        )
        return 2
    names = [n.replace("_", "-") for n in gallra_commands()] + list(BUILTINS)
    close = difflib.get_close_matches(name, names, n=1)
    hint = (_(" Did you mean `gallra %(name)s`?") % {"name": close[0]}) if close else ""
    sys.stderr.write(
        _("gallra: no command `%(name)s`.%(hint)s `gallra --help` lists them.")
        % {"name": name, "hint": hint}
        + "\n"
    )
    return 2


def completion(args: list[str]) -> int:
    """A completion script for bash or zsh, generated from the commands' own parsers."""
    if args not in (["bash"], ["zsh"]):
        sys.stderr.write(_("usage: gallra completion bash|zsh") + "\n")
        return 2
    cases = []
    found = gallra_commands()
    for command in sorted(found):
        parser = load(command, found[command]).create_parser("gallra", command)
        words = list(dict.fromkeys(_options(parser)))
        cases.append(f'        {command.replace("_", "-")}) words="{" ".join(words)}" ;;')
    names = " ".join([n.replace("_", "-") for n in sorted(found)] + list(BUILTINS))
    script = BASH.replace("@NAMES@", names).replace("@CASES@", "\n".join(cases))
    if args == ["zsh"]:
        script = ZSH + script
    print(script)
    return 0


def _options(parser) -> list[str]:
    import argparse

    words: list[str] = []
    for action in parser._actions:
        if action.help == argparse.SUPPRESS:
            continue
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                words += [name, *_options(sub)]
        words += [o for o in action.option_strings if o.startswith("--")]
    return words


ZSH = """(( $+functions[compdef] )) || { autoload -U +X compinit && compinit -u }
autoload -U +X bashcompinit && bashcompinit
"""
BASH = """# gallra completion; load with: eval "$(gallra completion bash)"
_gallra() {
    local cur="${COMP_WORDS[COMP_CWORD]}" words=""
    if [ "$COMP_CWORD" -eq 1 ]; then
        words="@NAMES@ --help --version"
    else
        case "${COMP_WORDS[1]}" in
@CASES@
        esac
    fi
    COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -o default -F _gallra gallra"""
