"""Staff users with chosen permissions, their tokens, and a little of everything to read."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from gallra.api.models import ApiToken
from gallra.consent.models import ConsentDecision
from gallra.evidence.log import append
from gallra.logins.models import Escrow
from gallra.registry.importing import import_document
from gallra.registry.models import Customer
from gallra.subjects import cases
from gallra.subjects.identity import Identity

EVERYTHING = [
    "consent.view_consentdecision",
    "logins.add_loginevent",
    "subjects.view_subjectrequest",
    "registry.view_personal_data",
    "retention.view_duerecord",
    "evidence.view_entry",
]


def permission(name: str) -> Permission:
    app, codename = name.split(".")
    if name == "registry.view_personal_data":  # a custom permission: made if not migrated yet
        return Permission.objects.get_or_create(
            codename=codename,
            content_type=ContentType.objects.get_for_model(Customer),
            defaults={"name": "Can see personal fields"},
        )[0]
    return Permission.objects.get(content_type__app_label=app, codename=codename)


@pytest.fixture
def token_for(db):
    """token_for(*permissions, username=...) -> a bearer token of a staff user holding them."""

    def make(*permissions: str, username: str = "") -> str:
        username = username or f"staff-{uuid.uuid4().hex[:8]}"
        user = get_user_model().objects.create_user(username, is_staff=True)
        user.user_permissions.set([permission(p) for p in permissions])
        return ApiToken.issue(username, user, now=timezone.now(), actor="test")

    return make


@pytest.fixture
def auth(token_for) -> dict:
    """Headers of a token whose user may do everything the API offers."""
    return {"HTTP_AUTHORIZATION": f"Bearer {token_for(*EVERYTHING)}"}


ANNA = {"email": "anna.berg@kund.example", "name": "Anna Berg", "username": "anna"}


@pytest.fixture
def requests(db) -> dict[str, str]:
    """Three requests: one overdue, one due later, one done long ago; {label: ref}."""
    today, now = timezone.localdate(), timezone.now()
    refs = {}
    for label, received in [
        ("done", today - timedelta(days=200)),
        ("later", today - timedelta(days=3)),
        ("overdue", today - timedelta(days=60)),
    ]:
        made = cases.open_request(
            "access",
            Identity.of(**ANNA),
            received=received,
            now=now,
            actor="test",
            note_text="called from 070-123 45 67",
        )
        refs[label] = made.ref
    cases.close(
        cases.SubjectRequest.objects.get(ref=refs["done"]), {"sent": True}, now=now, actor="test"
    )
    return refs


@pytest.fixture
def decisions(db) -> list[ConsentDecision]:
    """Three cookie decisions, a minute apart, the last one a withdrawal."""
    start = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    out = []
    for i, action in enumerate(["accept_all", "custom", "withdraw"]):
        out.append(
            ConsentDecision.objects.create(
                consent_id=str(uuid.UUID(int=i + 1, version=4)),
                action=action,
                categories={"statistics": action == "accept_all"},
                services={"youtube": False},
                banner_revision=1,
                policy_revision=1,
                text_hash="ab" * 32,
                locale="sv",
                at=start + timedelta(minutes=i),
            )
        )
    return out


@pytest.fixture
def ended_customer(db) -> date:
    """Customer C-1, whose only agreement ended on 2024-03-15: due on 2025-03-15."""
    import_document(
        {
            "customers": [
                {
                    "ref": "C-1",
                    "name": "Kund C-1 AB",
                    "agreements": [{"ref": "C-1-A0", "start": "2020-01-01", "end": "2024-03-15"}],
                    "people": [
                        {"ref": "P-1", "first_name": "Test", "last_name": "Person", "roles": []}
                    ],
                }
            ]
        }
    )
    return date(2025, 3, 15)


@pytest.fixture
def escrow(db) -> list[str]:
    return Escrow.make(3, 2, timezone.now())


@pytest.fixture
def entries(db) -> list:
    at = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    return [
        append(
            "delete",
            actor="enforce",
            at=at + timedelta(hours=i),
            record_type="person",
            refs=[f"P-{i}"],
            customers=[f"C-{i}"],
        )
        for i in range(1, 6)
    ]
