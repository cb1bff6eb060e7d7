"""The admin's buttons: export and erase a verified request, refuse an unverified one."""

from __future__ import annotations

import io
import zipfile
from datetime import timedelta

import pytest

from gallra.evidence.models import Entry
from gallra.policy.loading import current_policy
from gallra.registry.models import Person
from gallra.subjects import cases, export
from gallra.subjects.identity import Identity
from gallra.subjects.models import ExportFile, SubjectRequest
from gallra.subjects.tests.conftest import ANNA, NOW


def request(kind: str) -> SubjectRequest:
    return cases.open_request(
        kind, Identity.of(ANNA["email"]), received=NOW.date(), now=NOW, actor="t"
    )


def do(client, obj: SubjectRequest, what: str, follow: bool = True, **data):
    return client.post(f"/admin/subjects/subjectrequest/{obj.pk}/do/{what}/", data, follow=follow)


def start(client, obj: SubjectRequest, what: str):
    """Press a button that starts a job. The redirect is not followed here: on the suite's
    in-memory SQLite the job's thread and the next page would write at once, which that
    database refuses at once where a real one (a file, PostgreSQL) waits its turn."""
    response = do(client, obj, what, follow=False)
    assert response.status_code == 302
    return response


@pytest.mark.django_db(transaction=True)  # the job sees only what was committed
def test_staff_verify_then_export_a_zip_from_the_request_page(admin_client, registry, run_jobs):
    obj = request("access")
    page = admin_client.get(f"/admin/subjects/subjectrequest/{obj.pk}/change/").content.decode()
    assert "Export" not in page or "Exportera" not in page  # no export before verification
    refused = do(admin_client, obj, "export")
    assert "not verified" in refused.content.decode() or "inte verifierad" in (
        refused.content.decode()
    )
    do(admin_client, obj, "verify", how="Ringde upp på numret i registret")
    obj.refresh_from_db()
    assert obj.is_verified and obj.verified_by == "admin"
    start(admin_client, obj, "export")  # the answer does not wait for the ZIP
    run_jobs()
    obj.refresh_from_db()
    assert obj.status == "done"
    page = admin_client.get(f"/admin/subjects/subjectrequest/{obj.pk}/change/").content.decode()
    assert "/do/download/" in page
    response = do(admin_client, obj, "download")
    assert response["Content-Type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        assert "P-anna" in archive.read("data.json").decode()
    # Kept sealed: the subject's data is not in the table in clear.
    kept = bytes(ExportFile.objects.get(request=obj).sealed)
    assert b"P-anna" not in kept and ANNA["email"].encode() not in kept
    actions = set(Entry.objects.values_list("action", flat=True))
    assert {"subject.export", "subject.export_downloaded"} <= actions


@pytest.mark.django_db(transaction=True)
def test_pressing_export_twice_makes_one_export(admin_client, registry, run_jobs):
    obj = request("access")
    cases.verify_by_staff(obj, "signed letter", "lisa", now=NOW)
    start(admin_client, obj, "export")
    start(admin_client, obj, "export")
    run_jobs()
    assert ExportFile.objects.filter(request=obj).count() == 1
    assert Entry.objects.filter(action="subject.export").count() == 1


@pytest.mark.django_db(transaction=True)
def test_erase_from_the_request_page(admin_client, registry, run_jobs):
    obj = request("erasure")
    cases.verify_by_staff(obj, "signed letter", "lisa", now=NOW)
    start(admin_client, obj, "erase")
    run_jobs()
    obj.refresh_from_db()
    assert obj.status == "done"
    assert not Person.objects.filter(ref="P-anna").exists()
    certificate = do(admin_client, obj, "certificate").content.decode()
    assert obj.ref in certificate and ANNA["email"] not in certificate


def test_an_export_older_than_a_week_is_deleted_by_the_daily_run(registry):
    obj = request("access")
    cases.verify_by_staff(obj, "signed letter", "lisa", now=NOW)
    export.export_request(
        current_policy(), obj, now=NOW, at=NOW.date(), lang="sv", actor="t", keep=True
    )
    assert export.delete_old_exports(NOW + ExportFile.KEPT - timedelta(minutes=1)) == 0
    assert export.delete_old_exports(NOW + ExportFile.KEPT + timedelta(minutes=1)) == 1
    assert export.kept_zip(obj) is None


def test_a_request_is_registered_in_the_admin_with_its_deadline(admin_client, db):
    response = admin_client.post(
        "/admin/subjects/subjectrequest/add/",
        {
            "kind": "access",
            "email": "ny@example.se",
            "received": "2026-01-31",
        },
        follow=True,
    )
    assert response.status_code == 200
    obj = SubjectRequest.objects.get()
    assert obj.ref.startswith("DSR-2026-") and str(obj.due) == "2026-03-02"  # 28 Feb: a Saturday
    bad = admin_client.post(
        "/admin/subjects/subjectrequest/add/",
        {"kind": "access", "email": "inte en adress", "received": "2026-01-31"},
    )
    assert bad.status_code == 200 and SubjectRequest.objects.count() == 1
