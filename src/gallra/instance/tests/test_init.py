"""`gallra init`: everything a new installation needs, created once and never again."""

from __future__ import annotations

import base64
import json
import stat

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import check_password
from django.core.management import call_command
from django.core.management.base import CommandError

from gallra import config
from gallra.instance.tests.conftest import printed_password
from gallra.registry.models import Customer


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _snapshot(gallra) -> dict:
    return {
        "keys": (gallra.data / "keys.json").read_bytes(),
        "policy": (gallra.data / "policy.toml").read_bytes(),
        "users": gallra.query("SELECT id, username, password, is_superuser FROM auth_user"),
        "migrations": gallra.query("SELECT app, name FROM django_migrations ORDER BY id"),
    }


def test_init_creates_the_instance_once(gallra):
    first = gallra.run("init")
    password = printed_password(first.stdout)
    assert password and len(password) >= 20

    key_file = gallra.data / "keys.json"
    assert _mode(key_file) == 0o600
    assert _mode(gallra.data) == 0o700
    assert (gallra.data / "policy.toml").read_bytes() == config.DEFAULT_POLICY.read_bytes()
    assert "checked  policy" in first.stdout

    (user,) = gallra.query("SELECT username, password, is_superuser, is_staff FROM auth_user")
    assert user[0] == "admin" and user[2] == 1 and user[3] == 1
    assert user[1].startswith("argon2$")
    assert check_password(password, user[1])

    before = _snapshot(gallra)
    second = gallra.run("init")
    assert printed_password(second.stdout) is None
    assert password not in second.stdout + second.stderr
    assert "gallra staff password admin" in second.stdout
    assert "created" not in second.stdout
    assert _snapshot(gallra) == before


def test_keys_are_only_in_the_key_file(gallra):
    gallra.run("init")
    gallra.run("demo")  # encrypted documents and credentials under the master key
    keys = json.loads((gallra.data / "keys.json").read_text())
    secrets = [value.encode() for value in keys.values()]
    secrets += [base64.b64decode(keys[name]) for name in ("master_key", "pseudonym_key")]
    others = [p for p in gallra.data.rglob("*") if p.is_file() and p.name != "keys.json"]
    assert any(p.name.startswith("gallra.sqlite3") for p in others)
    for path in others:
        content = path.read_bytes()
        for secret in secrets:
            assert secret not in content, f"a key is in {path}"


def test_a_broken_policy_stops_init_with_its_problems(gallra):
    gallra.data.mkdir()
    policy = gallra.data / "policy.toml"
    policy.write_text(config.DEFAULT_POLICY.read_text().replace('country = "SE"', "country = 1", 1))
    result = gallra.run("init", check=False)
    assert result.returncode == 2
    assert f"{policy}:" in result.stderr and "organisation.country" in result.stderr
    assert printed_password(result.stdout) is None
    assert not (gallra.data / "gallra.sqlite3").exists()
    assert policy.read_text() != config.DEFAULT_POLICY.read_text()  # the provider's file stays


@pytest.mark.django_db
def test_init_in_process_makes_keys_usable_at_once(settings, instance, capsys):
    """The same command against the test database (PostgreSQL in that run of the suite)."""
    data = instance

    call_command("init")
    out = capsys.readouterr().out
    password = printed_password(out)
    assert password
    assert config.load_keys(data / "keys.json") == settings.GALLRA_KEYS
    admin = get_user_model().objects.get(username="admin")
    assert admin.is_superuser and admin.check_password(password)
    customer = Customer(ref="init-test", name="Test AB")
    customer.save()  # wraps a customer key under the new master key

    call_command("init")
    out = capsys.readouterr().out
    assert printed_password(out) is None and password not in out
    assert get_user_model().objects.filter(username="admin").count() == 1


@pytest.mark.django_db
def test_init_refuses_an_unreadable_key_file(settings, tmp_path, monkeypatch):
    data = tmp_path / "instance"
    data.mkdir()
    (data / "keys.json").write_text("{not json")
    monkeypatch.setenv("GALLRA_DATA", str(data))
    settings.GALLRA_KEY_FILE = data / "keys.json"
    with pytest.raises(CommandError) as raised:
        call_command("init")
    assert raised.value.returncode == 2
    assert (data / "keys.json").read_text() == "{not json"  # never overwritten
