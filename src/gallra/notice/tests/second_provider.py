"""A second provider's policy, for the tests of what its visitors read (issue 19): JufCorp's
file edited as another provider would edit it. Another name and no brand, no clause ids, a
backup window of 14 days, passwords of 14 characters, a reveal period of 3 months, opening
hours per language, free-text security measures that state no duration, a session cookie
among the necessary ones and Matomo's 30-minute `_pk_ses*` among the statistics."""

from __future__ import annotations

import re
from pathlib import Path

from gallra import config
from gallra.policy.loading import load_policy, registry_fields
from gallra.policy.model import Policy

NAME = "Exempeldrift AB"
MEASURES = (
    'measures = { sv = "Behörighet per ansvarsområde och övervakning av inloggningar.", '
    'en = "Access by area of responsibility and monitoring of logins." }'
)
SESSION_COOKIE = """[[cookies.category.cookie]]
name = "sessionid"
purpose = { sv = "Håller dig inloggad på kundportalen.", en = "Keeps you logged in." }
duration = "session"

"""
VISIT_COOKIE = """
[[cookies.category.cookie]]
name = "_pk_ses*"
purpose = { sv = "Håller ihop ett besök.", en = "Holds one visit together." }
duration = "PT30M"
"""


def _replace(text: str, pattern: str, new: str) -> str:
    edited, n = re.subn(pattern, new, text, flags=re.MULTILINE)
    assert n, f"{pattern!r} is not in jufcorp.toml any more"
    return edited


def second_provider_text(**durations: str) -> str:
    """The second provider's policy file; `durations` replaces a cookie's duration by the
    cookie's name (`_pk_ses="PT"`), to try what `policy check` refuses."""
    text = config.DEFAULT_POLICY.read_text(encoding="utf-8")
    text = _replace(text, r'^name = "JufCorp AB"$', f'name = "{NAME}"')
    text = _replace(text, r"^brand = .*\n", "")
    text = _replace(text, r"^clauses = \[.*\]\n", "")
    text = _replace(text, r'^window = "P7D"', 'window = "P14D"')
    text = _replace(text, r"^password_min_length = 12", "password_min_length = 14")
    text = _replace(text, r'^sealed_ip_key_lifetime = "P6M"', 'sealed_ip_key_lifetime = "P3M"')
    text = _replace(
        text,
        r"^opening_hours = .*$",
        'opening_hours = { sv = "Mån–fre 08–17", en = "Mon–Fri 08–17" }',
    )
    text = _replace(text, r"^measures = .*$", MEASURES)
    text = _replace(
        text,
        r'^\[\[cookies\.category\]\]\nid = "third_party_functions"',
        SESSION_COOKIE + '[[cookies.category]]\nid = "third_party_functions"',
    )
    last = text.rsplit("[[cookies.category]]", 1)[1]
    assert 'id = "statistics"' in last, "statistics is no longer the last cookie category"
    text += VISIT_COOKIE
    for name, duration in durations.items():
        cookie = {"_pk_ses": "_pk_ses*", "sessionid": "sessionid", "_pk_id": "_pk_id*"}[name]
        text = _replace(
            text,
            rf'(name = "{re.escape(cookie)}"\n.*\n)duration = ".*"',
            rf'\g<1>duration = "{duration}"',
        )
    return text


def write_second_provider(folder: Path, **durations: str) -> Path:
    path = folder / "second-provider.toml"
    path.write_text(second_provider_text(**durations), encoding="utf-8")
    return path


def second_provider(folder: Path) -> Policy:
    """The second provider's policy, loaded and checked as `gallra policy check` does."""
    return load_policy(write_second_provider(folder), registry_fields())
