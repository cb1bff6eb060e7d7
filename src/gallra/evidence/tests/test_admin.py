"""The evidence log in the admin: listed newest first, searchable, and changeable by no one."""

import pytest
from django.urls import reverse

from gallra.evidence.log import append
from gallra.evidence.tests.conftest import START


def url(name: str, *args) -> str:
    return reverse(f"admin:evidence_entry_{name}", args=args)


def test_list_newest_first(admin_client, five):
    html = admin_client.get(url("changelist")).content.decode()
    assert html.index(f'"{url("change", 5)}"') < html.index(f'"{url("change", 1)}"')


def test_filters_and_search(admin_client, five):
    append("policy_changed", actor="staff:anna", at=START, customers=["C-99"])
    response = admin_client.get(url("changelist"), {"action": "policy_changed"})
    assert [e.seq for e in response.context["cl"].result_list] == [6]
    response = admin_client.get(url("changelist"), {"q": "|C-99|"})
    assert [e.seq for e in response.context["cl"].result_list] == [6]
    response = admin_client.get(url("changelist"), {"q": "P-2b"})
    assert [e.seq for e in response.context["cl"].result_list] == [2]


def test_detail_is_read_only(admin_client, five):
    response = admin_client.get(url("change", 3))
    assert response.status_code == 200
    assert 'name="_save"' not in response.content.decode()
    response = admin_client.post(url("change", 3), {"action": "nothing", "count": "0"})
    assert response.status_code == 403


@pytest.mark.parametrize("name,args", [("add", ()), ("delete", (3,))])
def test_nobody_may_add_or_delete(admin_client, five, name, args):
    assert admin_client.get(url(name, *args)).status_code == 403
    assert admin_client.post(url(name, *args), {"post": "yes"}).status_code == 403


def test_no_bulk_delete_action(admin_client, five):
    response = admin_client.get(url("changelist"))
    assert "delete_selected" not in response.content.decode()
