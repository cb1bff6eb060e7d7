"""Running restic: the repository and its password come from the environment, never argv.

`GALLRA_BACKUP_REPOSITORY` names the repository (a folder, or any restic URL such as
`sftp:backup@host:/srv/restic`), `GALLRA_BACKUP_PASSWORD_FILE` the file holding its password.
restic gets them as RESTIC_REPOSITORY and RESTIC_PASSWORD_FILE, so the password is never on
a command line (visible in `ps`) nor in a log.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
from typing import Any

from django.conf import settings

# True while this process holds gallra's backup lock (runs.lock): the repository is gallra's.
HELD = [False]
# A run starts restic processes side by side (threads); one at a time removes a dead run's lock.
_UNLOCKING = threading.Lock()
CACHE = "restic-cache"  # restic's local cache, under the data directory


class BackupError(Exception):
    """restic failed, or cannot run; the message says what to do."""


def _env() -> dict[str, str]:
    repository = settings.GALLRA_BACKUP_REPOSITORY
    password_file = settings.GALLRA_BACKUP_PASSWORD_FILE
    if not repository:
        raise BackupError(
            "no backup repository: set GALLRA_BACKUP_REPOSITORY (see docs/backups.md)"
        )
    if not password_file or not os.path.isfile(password_file):
        raise BackupError(
            f"no repository password file at {password_file!r}: set GALLRA_BACKUP_PASSWORD_FILE "
            "to a file readable only by gallra"
        )
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "TMPDIR", "LANG")}
    return keep | {
        "TZ": "UTC",  # snapshot times given with --time are in UTC
        "RESTIC_REPOSITORY": repository,
        "RESTIC_PASSWORD_FILE": password_file,
        "RESTIC_CACHE_DIR": str(settings.GALLRA_DATA / CACHE),
    }


def require_restic() -> str:
    """restic's path, or BackupError before anything else is done."""
    program = shutil.which("restic")
    if program is None:
        raise BackupError("restic is not installed (Debian: apt-get install restic)")
    return program


def restic(*args: str, json_output: bool = False, check: bool = True, binary: bool = False) -> Any:
    """Run `restic ARGS`; its JSON output parsed when asked. BackupError when it fails.

    stdout is text unless `binary` (`restic cat blob` gives bytes); stderr is always text.
    """
    command = [require_restic(), *args] + (["--json"] if json_output else [])
    done = subprocess.run(command, env=_env(), capture_output=True, check=False)  # noqa: S603
    if done.returncode != 0 and b"repository is already locked" in done.stderr and HELD[0]:
        # gallra holds its own lock (runs.lock), so no other gallra run is using the
        # repository: the lock is a killed run's, which restic still thinks alive when the
        # dead process has not been reaped yet. Remove it and try once more (one such retry
        # at a time, so that it does not remove the lock of this run's other restic).
        with _UNLOCKING:
            subprocess.run(  # noqa: S603
                [command[0], "unlock", "--remove-all"],
                env=_env(),
                capture_output=True,
                check=False,
            )
            done = subprocess.run(command, env=_env(), capture_output=True, check=False)  # noqa: S603
    done.stderr = done.stderr.decode("utf-8", "replace")
    if not binary:
        done.stdout = done.stdout.decode("utf-8", "replace")
    if check and done.returncode != 0:
        raise BackupError(_explain(args[0], done.stderr))
    if json_output:
        lines = [line for line in done.stdout.splitlines() if line.strip()]
        return json.loads(lines[-1]) if lines else None
    return done


def full_id(short: str) -> str:
    """The whole id of a snapshot this process just made, from restic's cache ('' when the
    cache cannot say): restic 0.14's backup gives only the short id, and a `restic
    snapshots` to look it up costs a process, the key derivation and a lock."""
    cache = settings.GALLRA_DATA / CACHE
    found = {p.name for p in cache.glob(f"*/snapshots/{short[:2]}/{short}*")} if short else ()
    return found.pop() if len(found) == 1 else ""


def _explain(command: str, stderr: str) -> str:
    text = stderr.strip()
    if "wrong password" in text or "no key found" in text:
        return "the repository password is wrong (GALLRA_BACKUP_PASSWORD_FILE)"
    if "Is there a repository at the following location?" in text or "does not exist" in text:
        return (
            f"no restic repository at {settings.GALLRA_BACKUP_REPOSITORY}: "
            "`gallra backup init` makes one"
        )
    last = text.splitlines()[-1] if text else "no message"
    return f"restic {command} failed: {last}"
