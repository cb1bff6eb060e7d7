"""The one way a gallra command is built (docs/commands.md, "Writing a command").

A gallra command is a Django management command, so it has the settings, the apps and
`call_command` in tests, but it shows only gallra's own options: Django's (`--settings`,
`--traceback`, …) still parse, hidden from the help. Each command says what it does
(`help`), shows how (`examples`, printed at the end of its help and run by
`tests/test_command_help.py`), and either implements `run(options)` or declares actions,
`gallra evidence verify` style, with `self.action(...)`.

Exit statuses are the same for every command: 0 done, 1 found something or failed,
2 bad usage or input (argparse's own errors exit 2 too).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from django.core.management.base import BaseCommand, CommandError, handle_default_options
from django.utils import translation
from django.utils.translation import gettext as _

DJANGO_OPTIONS = {
    "--version",
    "--verbosity",
    "--settings",
    "--pythonpath",
    "--traceback",
    "--no-color",
    "--force-color",
}
FOUND = 1  # a check found something, or the work failed
USAGE = 2  # bad usage or input, or the instance is not set up


def language_from_environment() -> str:
    """Swedish when the terminal's locale is Swedish, as gettext-speaking Unix tools do."""
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name, "")
        if value:
            return "sv" if value.lower().startswith("sv") else "en"
    return "en"


class GallraCommand(BaseCommand):
    """A gallra command: gallra's options only, examples, one exit-status convention."""

    suppressed_base_arguments = DJANGO_OPTIONS
    requires_system_checks: list[str] = []
    examples: Sequence[str] = ()
    needs_database = True  # False: runs before `gallra init`, on a machine with no instance

    def create_parser(self, _prog_name: str, subcommand: str, **kwargs: Any):
        self.name = subcommand.replace("_", "-")
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        kwargs.setdefault("epilog", self._epilog(self.examples))
        parser = super().create_parser("gallra", self.name, **kwargs)
        parser.set_defaults(run=self.run)
        return parser

    def add_arguments(self, parser) -> None:
        """Override to add arguments or actions."""

    def action(
        self,
        parser,
        name: str,
        run: Callable[[dict], Any],
        help: str,
        examples: Sequence[str] = (),
    ):
        """Add `gallra COMMAND NAME`: its own arguments, help and examples, run by `run`."""
        if not hasattr(parser, "_gallra_actions"):
            parser._gallra_actions = parser.add_subparsers(
                dest="action", required=True, metavar="ACTION"
            )
        shown = [e for e in examples or self.examples if f" {self.name} {name}" in e]
        sub = parser._gallra_actions.add_parser(
            name,
            help=help,
            description=help,
            formatter_class=argparse.RawDescriptionHelpFormatter,
            epilog=self._epilog(shown),
        )
        sub.set_defaults(run=run)
        return sub

    def add_format(self, parser, choices: Sequence[str] = ("text", "json")) -> None:
        parser.add_argument(
            "--format",
            choices=list(choices),
            default=choices[0],
            help=_("how to write the report (default: %(default)s)") % {"default": choices[0]},
        )

    def add_lang(self, parser) -> None:
        parser.add_argument(
            "--lang",
            choices=["sv", "en"],
            help=_("the language to write in (default: the terminal's, LANG)"),
        )

    def execute(self, *args: Any, **options: Any):
        lang = options.get("lang") or language_from_environment()
        with translation.override(lang):
            return super().execute(*args, **options)

    def handle(self, *args: Any, **options: Any):
        run = options.pop("run", None) or self.run
        run(options)

    def run(self, options: dict) -> None:
        raise NotImplementedError(f"{type(self).__module__} defines no run() and no actions")

    # What commands write.

    def write_json(self, data: Any) -> None:
        self.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str))

    def fail(self, message: str, status: int = FOUND) -> None:
        raise CommandError(message, returncode=status)

    def wants_progress(self, options: dict) -> bool:
        """A bar on a terminal; nothing in a file, a pipe or a JSON report."""
        return options.get("format", "text") == "text" and _isatty(self.stderr)

    def progress(self, options: dict, label: str) -> Progress | None:
        return Progress(self.stderr, label) if self.wants_progress(options) else None

    def run_from_argv(self, argv: list[str]) -> None:
        """As Django's, but an error reads `gallra NAME: message` (no class name)."""
        self._called_from_command_line = True
        parser = self.create_parser(argv[0], argv[1])
        namespace = parser.parse_args(argv[2:])
        handle_default_options(namespace)
        options = vars(namespace)
        args = options.pop("args", ())
        try:
            self.execute(*args, **options)
        except CommandError as exc:
            if options.get("traceback"):
                raise
            self.stderr.write(f"gallra {self.name}: {exc}", lambda line: line)
            sys.exit(exc.returncode)
        finally:
            from django.db import connections

            connections.close_all()

    def _epilog(self, examples: Sequence[str]) -> str | None:
        if not examples:
            return None
        lines = "\n".join(f"  {e}" for e in examples)
        return _("Examples:") + "\n" + lines


class Progress:
    """`[#####-----] 120/400 label`, redrawn in place on stderr."""

    def __init__(self, stream, label: str) -> None:
        self.stream = getattr(stream, "_out", stream)  # the raw stream: not styled as an error
        self.label = label

    def __call__(self, done: int, total: int | None) -> None:
        if total:
            width = 30
            filled = min(width, width * done // total)
            bar = "[" + "#" * filled + "-" * (width - filled) + f"] {done}/{total}"
        else:
            bar = f"{done}"
        self.stream.write(f"\r{bar} {self.label}")
        self.stream.flush()

    def close(self) -> None:
        self.stream.write("\n")
        self.stream.flush()


def _isatty(stream) -> bool:
    target = getattr(stream, "_out", stream)
    return bool(getattr(target, "isatty", lambda: False)())
