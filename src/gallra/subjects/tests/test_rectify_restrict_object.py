"""Rectification changes a field everywhere it is held; restriction keeps data stored and
nothing more; an objection to processing based on legitimate interests stops it."""

from __future__ import annotations

from datetime import date

import pytest

from gallra.policy.loading import current_policy
from gallra.registry.models import Correspondence, Hold, Person
from gallra.retention.enforcement import enforce
from gallra.subjects import cases, changes, export
from gallra.subjects.identity import Identity
from gallra.subjects.models import Objection, SubjectRequest
from gallra.subjects.tests.conftest import ANNA, BO, NOW

ANNA_ID = Identity.of(ANNA["email"])


def verified(kind: str, identity=ANNA_ID, **kwargs) -> SubjectRequest:
    request = cases.open_request(kind, identity, received=NOW.date(), now=NOW, actor="t", **kwargs)
    cases.verify_by_staff(request, "called back", "lisa", now=NOW)
    return request


def test_a_new_email_address_is_changed_everywhere_it_is_held(connected, registry):
    new = "anna@nyttjobb.example"
    request = verified("rectification", change_field="email", change_value=new)
    result = changes.rectify(current_policy(), request, now=NOW, actor="t")
    assert result["failed"] == {}
    assert Person.objects.get(ref="P-anna").email == new
    assert Person.objects.get(ref="P-bo").email == BO["email"]
    assert Correspondence.objects.get(ref="M-anna").sender == new
    assert connected.rows("shop", "customers")[1]["email"] == new
    assert connected.rows("shop", "invoices")[1000]["buyer_email"] == new
    messages = connected.rows("support", "messages")
    assert messages[10]["author_email"] == new and messages[21]["author_email"] == new
    assert messages[11]["author_email"] == BO["email"]
    assert connected.rows("crm", "contacts")[1]["email"] == new
    request.refresh_from_db()
    assert request.status == SubjectRequest.Status.DONE


def test_a_rectification_that_cannot_reach_a_dataset_stays_open_naming_it(
    connected, registry, monkeypatch
):
    monkeypatch.setenv("GALLRA_TEST_CRM_URL", "sqlite:////nonexistent/dir/crm.sqlite3")
    request = verified("rectification", change_field="name", change_value="Anna Berg-Lund")
    result = changes.rectify(current_policy(), request, now=NOW, actor="t")
    assert list(result["failed"]) == ["crm"]
    request.refresh_from_db()
    assert request.status == SubjectRequest.Status.IN_PROGRESS and "crm" in request.note
    person = Person.objects.get(ref="P-anna")
    assert (person.first_name, person.last_name) == ("Anna", "Berg-Lund")
    assert connected.rows("support", "tickets")[1]["requester_name"] == "Anna Berg-Lund"


def test_restriction_keeps_data_from_deletion_and_refuses_processing(registry, db):
    request = verified("restriction")
    changes.restrict(request, now=NOW, actor="t", at=NOW.date())
    assert Hold.objects.filter(target_ref="M-anna").exists()
    # Months later the mail would be due under the 3-month rule; the restriction keeps it.
    enforce(current_policy(), date(2026, 9, 1), actor="t", now=lambda: NOW)
    assert Correspondence.objects.filter(ref="M-anna").exists()
    assert not Correspondence.objects.filter(ref="M-bo").exists()

    rectification = verified("rectification", change_field="name", change_value="A B")
    with pytest.raises(cases.CaseError, match="restricted"):
        changes.rectify(current_policy(), rectification, now=NOW, actor="t")
    portability = verified("portability")
    with pytest.raises(cases.CaseError, match="restricted .*only stored"):
        export.export_request(
            current_policy(), portability, now=NOW, at=NOW.date(), lang="sv", actor="t"
        )
    # The subject's own copy (Art. 15) is still given.
    export.export_request(
        current_policy(), verified("access"), now=NOW, at=NOW.date(), lang="sv", actor="t"
    )

    changes.lift_restriction(ANNA["email"], now=NOW, actor="t")
    assert not Hold.objects.filter(target_ref="M-anna").exists()
    enforce(current_policy(), date(2026, 9, 1), actor="t", now=lambda: NOW)
    assert not Correspondence.objects.filter(ref="M-anna").exists()


def test_an_objection_to_legitimate_interests_erases_that_category(registry, db):
    request = verified("objection", category="correspondence")
    objection = changes.object_to(current_policy(), request, now=NOW, actor="t", at=NOW.date())
    assert objection.outcome == Objection.Outcome.UPHELD
    assert not Correspondence.objects.filter(ref="M-anna").exists()
    assert Person.objects.filter(ref="P-anna").exists()  # other categories are untouched


def test_an_objection_to_contract_processing_is_recorded_as_not_applicable(registry, db):
    request = verified("objection", category="customer_contact")
    objection = changes.object_to(current_policy(), request, now=NOW, actor="t", at=NOW.date())
    assert objection.outcome == Objection.Outcome.NOT_APPLICABLE
    assert Person.objects.filter(ref="P-anna").exists()
    request.refresh_from_db()
    assert request.status == SubjectRequest.Status.DONE
