"""A wrong id is reported once, where it is defined, saying which characters an id may have;
the keys that name it are listed in that one message, not reported again each."""

from __future__ import annotations

import pytest

from gallra.policy.loading import PolicyError, load_policy, registry_fields
from gallra.policy.tests.nordhav import nordhav_text


def problems_of(tmp_path, text: str) -> list[str]:
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PolicyError) as raised:
        load_policy(path, registry_fields())
    return [str(p) for p in raised.value.problems]


def test_a_swedish_role_id_is_one_problem_at_its_definition(tmp_path):
    text = nordhav_text(**{"sales role id": "sälj"})
    uses = sum('"sälj"' in s for s in text.splitlines() if not s.startswith("#"))
    assert uses >= 4  # the definition, responsibilities, the categories it answers for
    definition = next(n for n, s in enumerate(text.splitlines(), 1) if s.startswith('id = "sälj"'))

    (problem,) = problems_of(tmp_path, text)

    assert problem.startswith(f"{tmp_path / 'policy.toml'}:{definition}: role[2].id: ")
    assert "'sälj' is not an id: use only a–z, 0–9, _ and -" in problem
    assert "e.g. 'salj'" in problem
    assert problem.count("(line ") == uses - 1  # every other use, named in the one message
    assert "responsibilities.correspondence" in problem
    assert "does not define" not in problem


def test_a_wrong_id_used_but_not_defined_is_reported_where_first_named(tmp_path):
    text = nordhav_text().replace('correspondence = "salj"', 'correspondence = "Salj"')
    (problem,) = problems_of(tmp_path, text)
    assert ": responsibilities.correspondence: 'Salj' is not an id: " in problem
    assert "e.g. 'salj'" in problem and "also named" not in problem


def test_two_wrong_ids_are_two_problems(tmp_path):
    text = nordhav_text(**{"sales role id": "sälj", "technical role id": "Drift Team"})
    found = problems_of(tmp_path, text)
    assert len(found) == 2
    assert "'Drift Team' is not an id" in found[0] and "e.g. 'drift_team'" in found[0]
    assert "'sälj' is not an id" in found[1]


def test_an_id_with_nothing_to_suggest_still_says_what_is_allowed(tmp_path):
    text = nordhav_text(**{"technical role id": "123"})
    (problem,) = problems_of(tmp_path, text)
    assert "'123' is not an id: use only a–z, 0–9, _ and -, starting with a letter" in problem
    assert "e.g." not in problem
