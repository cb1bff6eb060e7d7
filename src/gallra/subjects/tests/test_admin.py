"""The admin's buttons: export and erase a verified request, refuse an unverified one."""

from __future__ import annotations

import io
import zipfile

from gallra.registry.models import Person
from gallra.subjects import cases
from gallra.subjects.identity import Identity
from gallra.subjects.models import SubjectRequest
from gallra.subjects.tests.conftest import ANNA, NOW


def request(kind: str) -> SubjectRequest:
    return cases.open_request(
        kind, Identity.of(ANNA["email"]), received=NOW.date(), now=NOW, actor="t"
    )


def do(client, obj: SubjectRequest, what: str, **data):
    return client.post(f"/admin/subjects/subjectrequest/{obj.pk}/do/{what}/", data, follow=True)


def test_staff_verify_then_export_a_zip_from_the_request_page(admin_client, registry):
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
    response = do(admin_client, obj, "export")
    assert response["Content-Type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        assert "P-anna" in archive.read("data.json").decode()


def test_erase_from_the_request_page(admin_client, registry):
    obj = request("erasure")
    cases.verify_by_staff(obj, "signed letter", "lisa", now=NOW)
    do(admin_client, obj, "erase")
    obj.refresh_from_db()
    assert obj.status == "done"
    assert not Person.objects.filter(ref="P-anna").exists()
    certificate = do(admin_client, obj, "certificate").content.decode()
    assert obj.ref in certificate and ANNA["email"] not in certificate


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
