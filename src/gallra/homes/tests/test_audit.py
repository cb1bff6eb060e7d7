"""`homes audit` finds every way another user can get into a home, and `homes fix` closes each
one, with evidence that names no path; a user's view is checked by running as their uid."""

from __future__ import annotations

import io
import json
import os
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from gallra.evidence.log import verify
from gallra.evidence.models import Entry
from gallra.homes.audit import audit
from gallra.homes.grants import grant
from gallra.homes.tests.conftest import ANNA, BO, CARL, acl_of, can, make_home, sh, today
from gallra.registry.importing import ImportFailed, import_document


def homes_cmd(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    try:
        call_command("homes", *args, stdout=out)
    except CommandError as exc:
        return exc.returncode, out.getvalue()
    return 0, out.getvalue()


def audit_json(root) -> tuple[int, dict]:
    code, out = homes_cmd("audit", str(root), "--format", "json")
    return code, json.loads(out)


def kinds(report: dict) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for v in report["violations"]:
        found.setdefault(v["kind"], []).append(v["path"])
    return found


def test_private_homes_pass(homes):
    code, report = audit_json(homes)
    assert code == 0 and report["violations"] == [] and report["homes"] == 3
    assert not can(BO, "cat", str(homes / "anna" / "readme.txt"))


def test_each_way_in_is_found_then_fixed(homes):
    dora, eva, fia, gus = 20004, 20005, 20006, 20007
    # anna: group and others may enter, and her readme is world-readable
    (homes / "anna").chmod(0o755)
    # bo: his home belongs to another uid
    os.chown(homes / "bo", 20009, BO)
    # carl: ACL entries for dora, on the home and on a file, and one for a group
    sh("setfacl", "-m", f"u:{dora}:rx,g:{eva}:rx", str(homes / "carl"))
    sh("setfacl", "-m", f"u:{dora}:r", str(homes / "carl" / "notes.txt"))
    # dora: a default ACL that gives anna and everyone each new file
    make_home(homes / "dora", dora)
    sh("setfacl", "-d", "-m", f"u:{ANNA}:rwx,o::rx", str(homes / "dora"))
    # eva: a symlink out to anna's readme, and one that stays inside
    make_home(homes / "eva", eva)
    (homes / "eva" / "anna-readme").symlink_to(homes / "anna" / "readme.txt")
    (homes / "eva" / "mine").symlink_to("notes.txt")
    # fia: her home sits in a directory anyone may write to
    (homes / "open").mkdir(mode=0o777)
    (homes / "open").chmod(0o777)
    make_home(homes / "open" / "fia", fia)
    # gus: his home is a symlink to someone else's
    (homes / "gus").symlink_to(homes / "carl")

    def acct(ref, name, uid, home):
        return {
            "ref": ref,
            "person": "P-9",
            "username": name,
            "uid": uid,
            "home": str(home),
            "opened": "2024-01-01",
        }

    import_document(
        {
            "customers": [
                {
                    "ref": "C-9",
                    "name": "Kund Nio AB",
                    "people": [{"ref": "P-9", "first_name": "Nio", "last_name": "Test"}],
                    "accounts": [
                        acct("A-4", "dora", dora, homes / "dora"),
                        acct("A-5", "eva", eva, homes / "eva"),
                        acct("A-6", "fia", fia, homes / "open" / "fia"),
                        acct("A-7", "gus", gus, homes / "gus"),
                        acct("A-8", "elsewhere", 20008, "/srv/elsewhere/x"),
                        {**acct("A-10", "nohome", 20010, ""), "home": None},
                    ],
                }
            ]
        }
    )
    assert can(BO, "cat", str(homes / "anna" / "readme.txt"))  # the ways in are open
    assert can(dora, "cat", str(homes / "carl" / "notes.txt"))
    assert can(20009, "chmod", "0777", str(homes / "bo"))
    (homes / "bo").chmod(0o700)

    code, report = audit_json(homes)
    assert code == 1
    found = kinds(report)
    assert found["mode"] == [str(homes / "anna")]
    assert found["owner"] == [str(homes / "bo")]
    assert sorted(found["acl"]) == [str(homes / "carl")] * 2 + [str(homes / "carl" / "notes.txt")]
    assert found["default_acl"] == [str(homes / "dora")] * 2
    assert found["symlink"] == [str(homes / "eva" / "anna-readme")]
    assert found["parent"] == [str(homes / "open")]
    assert found["not_a_directory"] == [str(homes / "gus")]
    assert report["homes"] == 7 and report["outside_root"] == 1 and report["without_home"] == 1

    code, out = homes_cmd("fix", str(homes))
    assert code == 1  # gus's symlinked home needs a person
    assert "VIOLATION  not_a_directory" in out
    code, report = audit_json(homes)
    assert code == 1 and list(kinds(report)) == ["not_a_directory"]

    # Each way in is closed, and the owners still get in.
    assert not can(BO, "cat", str(homes / "anna" / "readme.txt"))
    assert can(ANNA, "cat", str(homes / "anna" / "notes.txt"))
    assert os.stat(homes / "bo").st_uid == BO and can(BO, "cat", str(homes / "bo" / "notes.txt"))
    assert not can(20009, "chmod", "0777", str(homes / "bo"))
    assert not can(dora, "cat", str(homes / "carl" / "notes.txt"))
    assert f"user:{dora}" not in acl_of(homes / "carl" / "notes.txt")
    assert f"group:{eva}" not in acl_of(homes / "carl")
    sh("touch", str(homes / "dora" / "new.txt"))
    new = acl_of(homes / "dora" / "new.txt")
    assert f"user:{ANNA}" not in new and "other::---" in new
    assert not (homes / "eva" / "anna-readme").is_symlink()
    assert (homes / "eva" / "mine").is_symlink() and (homes / "anna" / "readme.txt").exists()
    assert oct((homes / "open").stat().st_mode & 0o777) == "0o775"
    assert (homes / "gus").is_symlink()
    assert can(fia, "cat", str(homes / "open" / "fia" / "notes.txt"))

    # The evidence says what changed and for which accounts, never where on the disk.
    fixes = Entry.objects.filter(action="homes.fix")
    assert {e.data["kind"] for e in fixes} == {
        "mode",
        "owner",
        "acl",
        "default_acl",
        "symlink",
        "parent",
    }
    text = json.dumps([[e.refs, e.data] for e in Entry.objects.all()])
    assert str(homes) not in text and "anna-readme" not in text
    assert Entry.objects.filter(action="homes.audit").count() == 3  # audit, fix's recheck, audit
    assert verify().ok


def test_a_fixed_home_keeps_its_grants_working(homes):
    """chmod on a home with an ACL sets the mask; fix recomputes it so a grant stays usable."""
    grant(
        "A-1", "A-2", "AG-1", today(), read_only=True, at=today(), now=timezone.now(), actor="test"
    )
    sh("setfacl", "-m", "g::rx,o::x", str(homes / "anna"))
    sh("setfacl", "-m", f"u:{BO}:rw", str(homes / "anna" / "notes.txt"))  # more than granted
    assert can(BO, "sh", "-c", f"echo bo >> {homes}/anna/notes.txt")
    code, report = audit_json(homes)
    assert code == 1 and sorted(kinds(report)) == ["acl", "mode"]
    assert "more than G-" in report["violations"][1]["detail"]
    assert homes_cmd("fix", str(homes))[0] == 0
    assert can(BO, "cat", str(homes / "anna" / "readme.txt"))
    assert can(BO, "cat", str(homes / "anna" / "notes.txt"))
    assert not can(BO, "sh", "-c", f"echo bo >> {homes}/anna/notes.txt")
    assert not can(CARL, "ls", str(homes / "anna"))


def test_an_ended_grant_allows_nothing_even_before_enforce(homes):
    grant(
        "A-1", "A-2", "AG-1", today(), read_only=True, at=today(), now=timezone.now(), actor="test"
    )
    tomorrow = timezone.now() + timedelta(days=1)
    report = audit(str(homes), now=tomorrow)
    assert {f.kind for f in report.findings} == {"acl", "default_acl"} and not report.allowed


def test_bad_root_is_refused(homes, tmp_path):
    with pytest.raises(CommandError, match="no such directory") as refused:
        call_command("homes", "audit", str(tmp_path / "nowhere"), stdout=io.StringIO())
    assert refused.value.returncode == 2
    assert not Entry.objects.exists()


@pytest.mark.parametrize("bad", [-1, "20001", 2**32 - 1, True])
def test_the_import_refuses_a_uid_that_is_not_one(db, bad):
    account = {
        "ref": "A-1",
        "person": "P-1",
        "username": "anna",
        "uid": bad,
        "opened": "2024-01-01",
    }
    with pytest.raises(ImportFailed, match=r"customers\[0\].accounts\[0\].uid: .* is not a user"):
        import_document(
            {
                "customers": [
                    {
                        "ref": "C-1",
                        "name": "Kund AB",
                        "accounts": [account],
                        "people": [{"ref": "P-1", "first_name": "Anna", "last_name": "Berg"}],
                    }
                ]
            }
        )
