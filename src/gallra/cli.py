"""The `gallra` console command.

Every sub-command is a Django management command, so `gallra policy check` is
`manage.py policy check` with the settings already chosen (a hyphen in the command's name is
an underscore in its module's). Django's own commands
(`migrate`, `createsuperuser`, `changepassword`) work the same way.
"""

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gallra.settings")
    from django.core.management import execute_from_command_line

    argv = list(sys.argv if argv is None else argv)
    argv[0] = "gallra"
    if len(argv) > 1 and not argv[1].startswith("-"):
        argv[1] = argv[1].replace("-", "_")  # `gallra verify-erasure` is verify_erasure
    execute_from_command_line(argv)
