"""A neutral start: the template a new provider fills in, `gallra policy new`, and the refusal
of a policy that still holds a placeholder.

The second provider here is Nordhav Drift AB (nordhav.py): a three-person hosting company with
its own rules and roles, which must get going from the template alone.
"""

from __future__ import annotations

import io
import re
import tomllib
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from gallra.policy import template
from gallra.policy.loading import PolicyError, load_policy, registry_fields
from gallra.policy.model import OWN_DATA_TRIGGERS
from gallra.policy.tests.nordhav import NAME, VALUES, nordhav_text, write_nordhav

TEMPLATE = template.TEMPLATE


def run(*args: str) -> tuple[int, str, str]:
    """`gallra policy ARGS` in-process: exit status, stdout, stderr."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("policy", *args, stdout=out, stderr=err)
    except CommandError as exc:
        return exc.returncode, out.getvalue(), err.getvalue() + str(exc)
    return 0, out.getvalue(), err.getvalue()


def value_placeholders(text: str) -> list[tuple[int, str]]:
    """(line, placeholder) for each «…» outside comments, read from the text itself."""
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        code = line.split(" #")[0] if not line.lstrip().startswith("#") else ""
        found += [(number, p) for p in re.findall(r"«[^»]*»", code)]
    return found


# -- the template ---------------------------------------------------------------------------


def test_the_template_names_no_other_provider():
    text = TEMPLATE.read_text(encoding="utf-8")
    assert "JufCorp" not in text and "Red Cloud" not in text
    assert not re.search(r"\bP[0-9]+\b", text), "a clause id"
    data = tomllib.loads(text)
    assert all("clauses" not in item for item in data["category"] + data["rule"])
    assert len(value_placeholders(text)) > 40  # not vacuous: the facts are placeholders


def test_the_filled_template_is_nordhavs_policy(tmp_path):
    policy = load_policy(write_nordhav(tmp_path / "policy.toml"), registry_fields())

    assert policy.organisation.name == NAME
    assert [r.id for r in policy.role] == ["vd", "drift", "salj"]
    assert policy.organisation.accountable == "vd"
    keep = {r.id: str(r.keep_for) for r in policy.rule}
    assert keep["customer-data-after-relationship"] == "P18M"
    assert keep["correspondence-and-sales"] == "P6M"
    assert str(policy.backups.window) == "P14D"
    # gallra's own data is there, each kind with its one rule
    for kind in OWN_DATA_TRIGGERS:
        assert len(policy.rules_for(getattr(policy.own_data, kind))) == 1
    assert policy.rules_for(policy.deletion_memory.category)
    assert policy.rules_for(policy.logins.category)
    # and nothing of JufCorp's: no clause ids, no promise Nordhav did not write
    assert all(not c.clauses for c in policy.category) and all(not r.clauses for r in policy.rule)
    assert policy.commitments.third_party_access and policy.commitments.share_with_third_parties
    assert not policy.commitments.home_directories_private
    assert "JufCorp" not in nordhav_text() and "Red Cloud" not in nordhav_text()


def test_every_placeholder_is_listed_with_its_line_and_key(tmp_path):
    text = TEMPLATE.read_text(encoding="utf-8")
    expected = value_placeholders(text)

    code, out, err = run("check", str(TEMPLATE))

    assert code == 2 and "ok" not in out
    lines = [line for line in err.splitlines() if "unfilled placeholder" in line]
    assert len(lines) == len(expected)
    for (number, placeholder), line in zip(expected, lines, strict=True):
        assert line.startswith(f"{TEMPLATE}:{number}: "), (line, number)
        assert f'"{placeholder}"' in line
    assert f"{TEMPLATE}:{expected[0][0]}: organisation.name: " in lines[0]
    assert any(": organisation.opening_hours.sv: " in line for line in lines)
    assert f"{len(expected)} problems in {TEMPLATE}" in err


def test_loading_refuses_the_template_too(tmp_path):
    """Not only the check: gallra never runs with a placeholder in its policy."""
    with pytest.raises(PolicyError) as raised:
        load_policy(TEMPLATE, registry_fields())
    assert all("unfilled placeholder" in p.message for p in raised.value.problems)


def test_a_partly_filled_template_lists_only_what_is_left(tmp_path):
    text = nordhav_text()
    text = text.replace('window = "P14D"', 'window = "«how long backups are kept»"')
    text = text.replace('name = "Nordhav Drift AB"', 'name = "«organisation name»"')
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")

    code, _out, err = run("check", str(path))

    assert code == 2
    problems = [line for line in err.splitlines() if line.startswith(str(path))]
    assert [p.split(": ")[1] for p in problems] == ["organisation.name", "backups.window"]


@pytest.mark.parametrize("value", ["Nordhav » Drift", "«Nordhav", "« »"])
def test_a_stray_placeholder_mark_is_refused(tmp_path, value):
    path = tmp_path / "policy.toml"
    path.write_text(nordhav_text().replace(f'"{NAME}"', f'"{value}"'), encoding="utf-8")
    with pytest.raises(PolicyError) as raised:
        load_policy(path, registry_fields())
    (problem,) = raised.value.problems
    assert problem.key == "organisation.name" and "placeholder" in problem.message


def test_fill_refuses_a_typo_rather_than_fill_half():
    values = {k: v for k, v in VALUES.items() if k != "phone number"}
    with pytest.raises(ValueError, match="phone number"):
        template.fill(template.template_text(), values)
    with pytest.raises(ValueError, match="phone nummer"):
        template.fill(template.template_text(), {**VALUES, "phone nummer": "1"})


# -- gallra policy new ----------------------------------------------------------------------


def test_policy_new_writes_the_template_and_says_what_to_do_next(tmp_path):
    path = tmp_path / "my-policy.toml"

    code, out, _err = run("new", str(path))

    assert code == 0
    assert path.read_text(encoding="utf-8") == TEMPLATE.read_text(encoding="utf-8")
    placeholders = len(value_placeholders(path.read_text(encoding="utf-8")))
    assert f"{placeholders} placeholders" in out
    assert f"gallra policy check {path}" in out
    assert f"gallra init --policy {path}" in out


def test_policy_new_never_overwrites_a_file(tmp_path):
    path = tmp_path / "policy.toml"
    path.write_text("# our policy, half written\n", encoding="utf-8")

    code, _out, err = run("new", str(path))

    assert code == 2
    assert "already exists" in err
    assert path.read_text(encoding="utf-8") == "# our policy, half written\n"


def test_policy_new_without_a_path_writes_where_gallra_reads(tmp_path, monkeypatch):
    data = tmp_path / "data"  # not made yet: policy new comes before gallra init
    monkeypatch.setenv("GALLRA_DATA", str(data))
    monkeypatch.delenv("GALLRA_POLICY", raising=False)

    code, out, _err = run("new")

    assert code == 0
    assert (data / "policy.toml").read_text(encoding="utf-8") == template.template_text()
    assert (data.stat().st_mode & 0o777) == 0o700
    assert "gallra init\n" in out and "--policy" not in out
    assert run("new")[0] == 2  # the second time it is the provider's file


def test_policy_new_dash_prints_the_template():
    code, out, _err = run("new", "-")
    assert code == 0 and out == template.template_text()


def test_policy_new_into_a_missing_directory_is_a_usage_error(tmp_path):
    code, _out, err = run("new", str(tmp_path / "nowhere" / "policy.toml"))
    assert code == 2 and "cannot write" in err


def test_nordhav_starts_from_policy_new(tmp_path):
    """The order docs/install.md gives: new, edit, check (init: instance/tests)."""
    path = tmp_path / "policy.toml"
    assert run("new", str(path))[0] == 0
    assert run("check", str(path))[0] == 2
    path.write_text(template.fill(path.read_text(encoding="utf-8"), VALUES), encoding="utf-8")
    code, out, err = run("check", str(path))
    assert code == 0, err
    assert f"{path}: ok" in out
    assert Path(path).read_text(encoding="utf-8") == nordhav_text()
