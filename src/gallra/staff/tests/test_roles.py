"""Roles per area (P22): the policy decides who sees personal data, who lifts a legal hold,
and every look at personal data in the admin is recorded."""

from __future__ import annotations

from datetime import date

import pytest
from django.contrib.auth.models import Group

from gallra.evidence.models import Entry
from gallra.policy.loading import current_policy
from gallra.registry.models import Customer, Hold, Person
from gallra.staff import roles

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer(db):
    customer = Customer.objects.create(ref="C-100", kind="company", name="Bergström Bygg AB")
    Person.objects.create(
        ref="P-100",
        customer=customer,
        first_name="Karin",
        last_name="Bergström",
        email="karin@bergstrombygg.se",
    )
    return customer


def test_groups_follow_the_policy():
    policy = current_policy()
    roles.sync(policy)
    assert set(Group.objects.values_list("name", flat=True)) == {r.id for r in policy.role}
    ceo = set(Group.objects.get(name="ceo").permissions.values_list("codename", flat=True))
    tech = set(Group.objects.get(name="technician").permissions.values_list("codename", flat=True))
    sales = set(Group.objects.get(name="sales").permissions.values_list("codename", flat=True))
    # the accountable role may do everything; only it lifts legal holds and reveals addresses
    assert {"lift_legal_hold", "reveal_address", "view_personal_data"} <= ceo
    assert not {"lift_legal_hold", "reveal_address", "view_personal_data"} & tech
    assert "view_personal_data" in sales and "lift_legal_hold" not in sales
    # areas: the technician answers for logins and backups, sales for correspondence
    assert {"change_loginalert", "view_backuprun", "view_accessgrant"} <= tech
    assert "change_correspondence" in sales and "change_correspondence" not in tech


def test_a_technician_cannot_open_a_customers_personal_fields(client, staff_member, customer):
    client.force_login(staff_member("tekniker", "technician"))
    for path in (
        f"/admin/registry/customer/{customer.pk}/change/",
        "/admin/registry/customer/",
        "/admin/registry/person/",
        f"/admin/registry/customer/{customer.pk}/history/",
        f"/admin/registry/customer/{customer.pk}/delete/",
    ):
        response = client.get(path)
        assert response.status_code == 403, path
        page = response.content.decode()
        assert "Bergström" not in page and "karin@" not in page
    refused = Entry.objects.filter(action="personal_data_refused", actor="tekniker")
    assert refused.count() == 5
    named = [e for e in refused if e.refs == ["C-100"] and e.customer_refs == ["C-100"]]
    assert len(named) == 3  # change, history, delete: the customer whose data it was
    # the register is not even offered to them, but login alerts and home audits are
    index = client.get("/admin/").content.decode()
    assert "/admin/registry/customer/" not in index
    assert client.get("/admin/logins/loginalert/").status_code == 200
    assert client.get("/admin/homes/accessgrant/").status_code == 200


def test_the_ceo_sees_them_and_the_look_is_recorded(client, staff_member, customer):
    client.force_login(staff_member("vd", "ceo"))
    page = client.get(f"/admin/registry/customer/{customer.pk}/change/").content.decode()
    assert "Bergström Bygg AB" in page and "karin@bergstrombygg.se" in page
    viewed = Entry.objects.get(action="personal_data_viewed", actor="vd")
    assert viewed.refs == ["C-100"] and viewed.customer_refs == ["C-100"]
    # the list records whose rows were on the screen
    assert "Bergström" in client.get("/admin/registry/person/").content.decode()
    listed = Entry.objects.filter(action="personal_data_viewed", record_type="person").get()
    assert listed.refs == ["P-100"] and listed.customer_refs == ["C-100"]
    # nothing personal in the evidence itself
    assert "Bergström" not in str(listed.data) + str(viewed.data)


def test_only_the_accountable_role_lifts_a_legal_hold(client, staff_member, customer):
    legal = Hold.objects.create(
        ref="H-1",
        target_type="customer",
        target_ref="C-100",
        reason="legal",
        until=date(2027, 6, 30),
    )
    agreed = Hold.objects.create(
        ref="H-2",
        target_type="customer",
        target_ref="C-100",
        reason="negotiation",
        until=date(2027, 1, 31),
    )
    client.force_login(staff_member("tekniker", "technician"))
    assert (
        client.post(f"/admin/registry/hold/{legal.pk}/delete/", {"post": "yes"}).status_code == 403
    )
    response = client.post(
        f"/admin/registry/hold/{legal.pk}/change/",
        {
            "ref": "H-1",
            "target_type": "customer",
            "target_ref": "C-100",
            "reason": "legal",
            "until": "2026-12-01",
            "note": "",
        },
    )
    assert response.status_code in (200, 403)
    legal.refresh_from_db()
    assert legal.until == date(2027, 6, 30)
    # an ordinary hold is the technician's to end
    response = client.post(f"/admin/registry/hold/{agreed.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302 and not Hold.objects.filter(pk=agreed.pk).exists()
    client.force_login(staff_member("vd", "ceo"))
    response = client.post(f"/admin/registry/hold/{legal.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302 and not Hold.objects.filter(pk=legal.pk).exists()


def test_alerts_and_tasks_go_to_the_person_responsible_for_the_area(staff_member):
    from gallra.instance.staff import addresses_for

    tech = staff_member("tekniker", "technician")
    tech.email = "tekniker@redcloud.se"
    tech.save()
    sales = staff_member("saljare", "sales")
    sales.email = "salj@redcloud.se"
    sales.save()
    policy = current_policy()
    assert addresses_for(policy, "logins") == ["tekniker@redcloud.se"]
    assert addresses_for(policy, "correspondence") == ["salj@redcloud.se"]
