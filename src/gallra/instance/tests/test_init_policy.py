"""`gallra init --policy PATH`: a new provider's instance runs with its own policy, copied
into the data directory; without it, JufCorp's example, said to be one."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import CommandError

from gallra import config
from gallra.policy.template import TEMPLATE, fill
from gallra.policy.tests.nordhav import NAME, VALUES, write_nordhav


def init(*args: str) -> str:
    out = io.StringIO()
    call_command("init", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.mark.django_db
def test_init_runs_with_the_providers_own_policy(instance, tmp_path):
    own = write_nordhav(tmp_path / "nordhav.toml")

    out = init("--policy", str(own))

    assert (instance / "policy.toml").read_bytes() == own.read_bytes()
    assert f"copied from {own}" in out and f"{NAME}, " in out
    assert "JufCorp" not in out
    assert set(Group.objects.values_list("name", flat=True)) >= {"vd", "drift", "salj"}
    assert not Group.objects.filter(name__in=["ceo", "technician"]).exists()
    admin = get_user_model().objects.get(username="admin")
    assert list(admin.groups.values_list("name", flat=True)) == ["vd"]

    again = init("--policy", str(own))  # as idempotent as init itself
    assert f"the same as {own}" in again and "created" not in again


@pytest.mark.django_db
def test_init_never_replaces_the_policy_it_runs_with(instance, tmp_path):
    own = write_nordhav(tmp_path / "nordhav.toml")
    init("--policy", str(own))
    edited = own.read_text(encoding="utf-8").replace("revision = 1", "revision = 2", 1)
    (instance / "policy.toml").write_text(edited, encoding="utf-8")  # edited after init: fine

    with pytest.raises(CommandError) as raised:
        init("--policy", str(config.DEFAULT_POLICY))

    assert raised.value.returncode == 2
    assert "already exists" in str(raised.value)
    assert (instance / "policy.toml").read_text(encoding="utf-8") == edited


@pytest.mark.django_db
def test_init_refuses_an_unfilled_policy_before_making_anything(instance, capsys):
    with pytest.raises(CommandError) as raised:
        call_command("init", "--policy", str(TEMPLATE), stdout=io.StringIO())
    assert raised.value.returncode == 2
    assert "unfilled placeholder" in capsys.readouterr().err
    assert not instance.exists()


@pytest.mark.django_db
def test_init_refuses_policy_while_gallra_policy_points_elsewhere(instance, tmp_path, monkeypatch):
    monkeypatch.setenv("GALLRA_POLICY", str(config.DEFAULT_POLICY))
    with pytest.raises(CommandError) as raised:
        init("--policy", str(write_nordhav(tmp_path / "nordhav.toml")))
    assert raised.value.returncode == 2 and "GALLRA_POLICY" in str(raised.value)
    assert not instance.exists()


@pytest.mark.django_db
def test_init_without_policy_says_it_copied_jufcorps_example(instance):
    out = init()
    assert (instance / "policy.toml").read_bytes() == config.DEFAULT_POLICY.read_bytes()
    assert "JufCorp's example" in out and "gallra policy new" in out


def test_a_new_provider_in_the_order_the_docs_give(gallra, tmp_path):
    """docs/install.md: policy new, edit, policy check, init --policy; the real command."""
    draft = tmp_path / "policy-draft.toml"
    gallra.run("policy", "new", str(draft))
    unfilled = gallra.run("policy", "check", str(draft), check=False)
    assert unfilled.returncode == 2 and "unfilled placeholder" in unfilled.stderr
    draft.write_text(fill(draft.read_text(encoding="utf-8"), VALUES), encoding="utf-8")
    gallra.run("policy", "check", str(draft))

    done = gallra.run("init", "--policy", str(draft))

    assert f"checked  policy {gallra.data / 'policy.toml'}: {NAME}" in done.stdout
    assert gallra.query("SELECT name FROM auth_group ORDER BY name") == [
        ("drift",),
        ("salj",),
        ("vd",),
    ]
    assert "Nordhav" in gallra.run("policy", "show").stdout
