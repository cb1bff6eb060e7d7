"""`gallra scan FILE` needs no instance (issue 18): in an empty folder, with no GALLRA_DATA and
no database, it scans the file, and makes no database and no data directory."""

from __future__ import annotations

import json
import os
import subprocess
import sys

# Settings that would point the command at an instance.
INSTANCE = ("GALLRA_DATA", "GALLRA_DATABASE_URL", "GALLRA_POLICY", "GALLRA_KEY_FILE")


def test_scan_works_in_an_empty_folder_without_an_instance(tmp_path):
    folder = tmp_path / "empty"
    folder.mkdir()
    path = folder / "export.csv"
    path.write_text("namn;e-post\nAnna Berg;anna.berg@kund.example\n", encoding="utf-8")
    env = {
        k: v for k, v in os.environ.items() if k not in INSTANCE and k != "DJANGO_SETTINGS_MODULE"
    }

    done = subprocess.run(  # noqa: S603 - gallra itself
        [sys.executable, "-m", "gallra", "scan", "--format", "json", str(path.name)],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == 1, done.stderr  # found something, like a linter
    assert "Traceback" not in done.stderr
    found = json.loads(done.stdout)
    assert [(f["path"], f["line"], f["kind"]) for f in found] == [("export.csv", 2, "email")]
    assert sorted(p.name for p in folder.iterdir()) == ["export.csv"]  # no gallra-data, no db
