"""A real ext4 filesystem with ACLs, loop-mounted as root, and accounts with numeric uids.

No system users are created: every owner is a bare uid (20001, 20002, ...), and a user's
view is `setpriv --reuid=UID --regid=UID --clear-groups COMMAND`. The mount point is made
under /tmp (mode 0755) rather than in tmp_path, which other uids cannot pass through.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from gallra.registry.importing import import_document

ANNA, BO, CARL = 20001, 20002, 20003


def sh(*argv: str, uid: int | None = None, check: bool = True) -> subprocess.CompletedProcess:
    """Run a command, as root or, given `uid`, as that bare uid with no groups."""
    if uid is not None:
        argv = ("setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", *argv)
    return subprocess.run(argv, capture_output=True, text=True, check=check)  # noqa: S603


def can(uid: int, *argv: str) -> bool:
    """Whether the command succeeds when that uid runs it."""
    return sh(*argv, uid=uid, check=False).returncode == 0


def acl_of(path: Path) -> str:
    return sh("getfacl", "--numeric", "--absolute-names", "--no-effective", str(path)).stdout


@pytest.fixture
def ext4(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("mounts a filesystem and changes owners: run as root")
    if not shutil.which("mkfs.ext4") or not shutil.which("setfacl"):
        pytest.skip("needs e2fsprogs and acl (scripts/setup.sh --tests installs them)")
    image = tmp_path / "homes.img"
    sh("truncate", "-s", "64M", str(image))
    sh("mkfs.ext4", "-q", "-F", str(image))
    mnt = Path(tempfile.mkdtemp(prefix="gallra-homes-", dir="/tmp"))
    mnt.chmod(0o755)
    sh("mount", "-o", "loop,acl", str(image), str(mnt))
    try:
        yield mnt
    finally:
        if sh("umount", str(mnt), check=False).returncode != 0:
            sh("umount", "--lazy", str(mnt), check=False)
        mnt.rmdir()


def make_home(path: Path, uid: int, mode: int = 0o700) -> Path:
    """A home directory with a private note and a readable file, like a user's."""
    path.mkdir(parents=True)
    (path / "notes.txt").write_text(f"private notes of {uid}\n")
    (path / "notes.txt").chmod(0o600)
    (path / "readme.txt").write_text("hello\n")
    (path / "readme.txt").chmod(0o644)
    for p in (path, path / "notes.txt", path / "readme.txt"):
        os.chown(p, uid, uid)
    path.chmod(mode)
    return path


def today() -> date:
    return timezone.localdate()


@pytest.fixture
def homes(ext4, db):
    """/home on the ext4 filesystem with anna's, bo's and carl's homes, all 0700, and the
    registry: anna and bo work for customer C-1 (agreement AG-1), carl for C-2 (AG-2)."""
    root = ext4 / "home"
    root.mkdir()
    for name, uid in (("anna", ANNA), ("bo", BO), ("carl", CARL)):
        make_home(root / name, uid)

    def account(ref, person, name, uid):
        return {
            "ref": ref,
            "person": person,
            "username": name,
            "uid": uid,
            "home": str(root / name),
            "opened": "2024-01-01",
        }

    def person(ref, first):
        return {
            "ref": ref,
            "first_name": first,
            "last_name": "Test",
            "roles": ["user"],
            "email": f"{first.lower()}@kund.example",
        }

    start = (today() - timedelta(days=400)).isoformat()
    import_document(
        {
            "customers": [
                {
                    "ref": "C-1",
                    "name": "Kund Ett AB",
                    "agreements": [{"ref": "AG-1", "start": start, "end": None}],
                    "people": [person("P-1", "Anna"), person("P-2", "Bo")],
                    "accounts": [
                        account("A-1", "P-1", "anna", ANNA),
                        account("A-2", "P-2", "bo", BO),
                    ],
                },
                {
                    "ref": "C-2",
                    "name": "Kund Två AB",
                    "agreements": [{"ref": "AG-2", "start": start, "end": None}],
                    "people": [person("P-3", "Carl")],
                    "accounts": [account("A-3", "P-3", "carl", CARL)],
                },
            ]
        }
    )
    return root
