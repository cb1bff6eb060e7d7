"""An escrow key whose shares the test holds, as the CEO and two board members would."""

from datetime import date

import pytest
from django.utils import timezone

from gallra.logins.models import Escrow
from gallra.policy.loading import current_policy
from gallra.registry.models import Account, Customer, Person


@pytest.fixture
def shares(db) -> list[str]:
    return Escrow.make(3, 2, timezone.now())


@pytest.fixture
def policy():
    return current_policy()


@pytest.fixture
def accounts(db) -> list[Account]:
    """Registry accounts anna and bo (and ten more users: u01 ... u10)."""
    customer = Customer.objects.create(ref="C-1", name="Kund AB")
    out = []
    for i, name in enumerate(["anna", "bo"] + [f"u{n:02d}" for n in range(1, 11)]):
        person = Person.objects.create(
            ref=f"P-{i}",
            customer=customer,
            first_name=name,
            last_name="Test",
            email=f"{name}@kund.example",
            is_user=True,
        )
        out.append(
            Account.objects.create(
                ref=f"A-{i}", person=person, username=name, opened=date(2020, 1, 1)
            )
        )
    return out
