"""A registry with something in every panel, built at any size, and a staff user to look.

`fill(n)` adds n customers whose last agreement ended a year before one of the coming days
(the customer-data rule deletes them then), with people, accounts and requests; mail that the
three-month rule deletes on each of the coming days; an old invoice (already overdue); holds
ending soon; open data-subject requests (some overdue); manual tasks for staff; unacknowledged
login alerts. Names and e-mail addresses are distinctive, so a test can look for them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from gallra.instance.demo import years_before
from gallra.logins.models import BRUTE_FORCE, LoginAlert
from gallra.registry.importing import import_document
from gallra.retention.models import ManualTask
from gallra.subjects.models import SubjectRequest

NAME = "Pettersson-Zyxw"  # every person's last name: never on the dashboard
EMAIL_DOMAIN = "kund-zyxw.example"


def months_before(day: date, months: int) -> date:
    from gallra.policy.durations import Duration

    # The earliest day whose `months` later (the retention rules' calendar) is on or after `day`.
    start = day - timedelta(days=31 * months + 3)
    while Duration(months=months).after(start) < day:
        start += timedelta(days=1)
    return start


def fill(n: int, today: date, first: int = 0) -> None:
    customers, mail, holds = [], [], []
    for i in range(first, first + n):
        ref = f"C-{i}"
        due = today + timedelta(days=1 + i % 30)
        person = {
            "ref": f"{ref}-P",
            "first_name": "Greta",
            "last_name": NAME,
            "email": f"greta{i}@{EMAIL_DOMAIN}",
            "roles": ["user", "contact"],
        }
        customers.append(
            {
                "ref": ref,
                "name": f"{NAME} {i} AB",
                "agreements": [
                    {
                        "ref": f"{ref}-A",
                        "start": "2015-01-01",
                        "end": years_before(due, 1).isoformat(),
                    }
                ],
                "people": [person],
                "accounts": [
                    {
                        "ref": f"{ref}-U",
                        "person": person["ref"],
                        "username": f"greta{i}",
                        "opened": "2015-01-01",
                        "closed": None,
                    }
                ],
                "requests": [{"ref": f"{ref}-R", "kind": "order", "created": "2016-01-01"}],
                "invoices": [
                    {
                        "ref": f"{ref}-F",
                        "number": str(i),
                        "issued": "2015-01-15",
                        "fiscal_year_end": "2015-12-31",
                        "amount": "100",
                    }
                ],
            }
        )
        received = months_before(today + timedelta(days=i % 31), 3)
        mail.append(
            {
                "ref": f"M-{i}",
                "received": received.isoformat(),
                "customer": ref,
                "sender": f"greta{i}@{EMAIL_DOMAIN}",
                "subject": f"Fråga från {NAME}",
            }
        )
        holds.append(
            {
                "ref": f"H-{i}",
                "target": f"correspondence:M-{i}",
                "reason": "legal",
                "until": (today + timedelta(days=5 + i % 20)).isoformat(),
            }
        )
    import_document({"customers": customers, "correspondence": mail, "holds": holds})

    staff = list(User.objects.filter(is_staff=True).order_by("pk"))
    now = timezone.now()
    SubjectRequest.objects.bulk_create(
        [
            SubjectRequest(
                ref=f"SR-{i}",
                kind="access",
                email=f"greta{i}@{EMAIL_DOMAIN}",
                name=f"Greta {NAME}",
                received=today - timedelta(days=40 - i % 30),
                due=today + timedelta(days=i % 30 - 10),
            )
            for i in range(first, first + n)
        ]
    )
    ManualTask.objects.bulk_create(
        [
            ManualTask(
                rule="phone-contacts",
                customer_ref=f"C-{i}",
                assignee=staff[i % len(staff)],
                what="Radera kundens kontakter",
                created=now,
                due=today + timedelta(days=i % 10 - 5),
            )
            for i in range(first, first + n)
        ]
    )
    LoginAlert.objects.bulk_create(
        [
            LoginAlert(
                kind=BRUTE_FORCE,
                key=f"198.51.100.{i % 250}/24",
                first_at=datetime(2026, 1, 1, tzinfo=UTC) + timedelta(hours=i),
                last_at=datetime(2026, 1, 1, 1, tzinfo=UTC) + timedelta(hours=i),
                events=6,
            )
            for i in range(first, first + n)
        ]
    )


@pytest.fixture
def today() -> date:
    return timezone.localdate()


@pytest.fixture
def staff(db) -> list[User]:
    """The CEO (a superuser) and two technicians."""
    ceo = User.objects.create_superuser("vd", "vd@redcloud.example", "x" * 16)
    techs = [User.objects.create_user(f"tekniker{i}", is_staff=True) for i in (1, 2)]
    return [ceo, *techs]


@pytest.fixture
def ceo(client, staff):
    client.force_login(staff[0])
    return client
