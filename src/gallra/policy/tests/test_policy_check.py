"""`gallra policy check` and `gallra policy show`: the shipped policy, broken policies, the locator.

Every broken file is the shipped policy with one edit. The line a problem must be reported on
is found in the edited text by these tests themselves (the line that was edited, or the table
header above it), never taken from what the code prints.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

import gallra
from gallra.policy.locations import key_lines, line_for
from gallra.registry import checks as registry_checks

SHIPPED = Path(gallra.__file__).parent / "policies" / "jufcorp.toml"
GALLRA = Path(sys.executable).parent / "gallra"


@pytest.fixture(scope="module")
def shipped_text() -> str:
    return SHIPPED.read_text(encoding="utf-8")


# -- helpers ----------------------------------------------------------------------------------


def edit(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, f"the edit must hit exactly one place: {old!r}"
    return text.replace(old, new)


def line_of(text: str, needle: str) -> int:
    """The 1-based number of the one line that contains `needle`."""
    hits = [n for n, line in enumerate(text.splitlines(), start=1) if needle in line]
    assert len(hits) == 1, f"{needle!r} is on lines {hits}, expected exactly one"
    return hits[0]


def header_above(text: str, needle: str) -> int:
    """The line of the table header (`[x]` or `[[x]]`) that the line holding `needle` is in."""
    lines = text.splitlines()
    number = line_of(text, needle)
    while not lines[number - 1].lstrip().startswith("["):
        number -= 1
    return number


def index_in_array(text: str, header: str, needle: str) -> int:
    """Which element (0-based) of the array of tables `header` the line with `needle` is in."""
    lines = text.splitlines()[: line_of(text, needle)]
    return sum(1 for line in lines if line.strip().startswith(header)) - 1


def check(path: Path) -> tuple[int, list[str], str]:
    """Run `policy check PATH` in-process: exit code, stderr lines, stdout."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("policy", "check", str(path), stdout=out, stderr=err)
    except CommandError as exc:
        return exc.returncode, err.getvalue().splitlines(), out.getvalue()
    return 0, err.getvalue().splitlines(), out.getvalue()


def write(tmp_path: Path, text: str, name: str = "policy.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def subprocess_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GALLRA_", "DJANGO_"))}
    env["GALLRA_DATA"] = str(tmp_path / "data")
    return env


# -- the shipped policy -----------------------------------------------------------------------


def test_shipped_policy_passes_check_as_console_script(tmp_path):
    """The real `gallra` command, with an empty data directory, checks the shipped policy."""
    result = subprocess.run(  # noqa: S603
        [str(GALLRA), "policy", "check"],
        env=subprocess_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    data = tomllib.loads(SHIPPED.read_text(encoding="utf-8"))
    first_line = result.stdout.splitlines()[0]
    assert first_line.startswith(f"{SHIPPED.resolve()}: ok"), first_line
    assert f"{len(data['category'])} categories" in first_line
    assert f"{len(data['rule'])} rules" in first_line


def test_broken_policy_exits_2_from_console_script(tmp_path, shipped_text):
    text = edit(shipped_text, "escrow_threshold = 2", "escrow_threshold = 4")
    path = write(tmp_path, text)
    result = subprocess.run(  # noqa: S603
        [str(GALLRA), "policy", "check", str(path)],
        env=subprocess_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2
    expected = f"{path}:{line_of(text, 'escrow_threshold = 4')}: logins.escrow_threshold: "
    assert result.stderr.splitlines()[0].startswith(expected), result.stderr
    assert "Traceback" not in result.stderr


def test_shipped_policy_passes_check_in_process(tmp_path):
    code, errors, out = check(SHIPPED)
    assert (code, errors) == (0, [])
    assert "ok" in out


def test_check_without_path_uses_policy_in_data_directory(tmp_path, monkeypatch, shipped_text):
    """A provider's own copy in the data directory is the policy that gets checked."""
    data = tmp_path / "data"
    data.mkdir()
    text = edit(shipped_text, 'name = "JufCorp AB"', 'name = "JufCorp AB')
    (data / "policy.toml").write_text(text, encoding="utf-8")
    monkeypatch.delenv("GALLRA_POLICY", raising=False)
    monkeypatch.setenv("GALLRA_DATA", str(data))
    code, errors, _ = check_default()
    assert code == 2
    line = line_of(text, 'name = "JufCorp AB')
    assert errors[0].startswith(f"{(data / 'policy.toml').resolve()}:{line}: TOML syntax error")


def check_default() -> tuple[int, list[str], str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("policy", "check", stdout=out, stderr=err)
    except CommandError as exc:
        return exc.returncode, err.getvalue().splitlines(), out.getvalue()
    return 0, err.getvalue().splitlines(), out.getvalue()


def test_missing_file_is_reported_not_crashed(tmp_path):
    path = tmp_path / "nowhere.toml"
    code, errors, _ = check(path)
    assert code == 2
    assert len(errors) == 1
    assert errors[0].startswith(f"{path}:1: ")
    assert "cannot read" in errors[0]


def test_file_that_is_not_utf8_is_reported(tmp_path, shipped_text):
    path = tmp_path / "latin1.toml"
    path.write_bytes(shipped_text.encode("utf-8").replace("Försäljning".encode(), b"F\xf6rs"))
    code, errors, _ = check(path)
    assert code == 2
    assert errors[0].startswith(f"{path}:1: ")


# -- one kind of mistake per test -------------------------------------------------------------


@dataclass(frozen=True)
class Broken:
    """One edit of the shipped policy and what `policy check` must say about it.

    `at` is a text on the line the problem must be reported on, in the edited file; with
    `header=True` the problem belongs to the table header above that line. `key` is the key
    path the message must start with; `array`/`needle` compute its index in an array of
    tables (`{i}` in `key`). `says` are words the message must contain.
    """

    old: str
    new: str
    at: str
    key: str | None
    says: tuple[str, ...]
    header: bool = False
    array: str = ""
    needle: str = ""


# fmt: off
BROKEN = {
    "toml-syntax-error": Broken(
        'name = "JufCorp AB"', 'name = "JufCorp AB', 'name = "JufCorp AB', None,
        ("TOML syntax error",),
    ),
    "toml-unquoted-duration": Broken(
        'keep_for = "P12M"', "keep_for = P12M", "keep_for = P12M", None, ("TOML syntax error",),
    ),
    "toml-key-defined-twice": Broken(
        'brand = "Red Cloud IT"', 'brand = "Red Cloud IT"\nbrand = "Red"', 'brand = "Red"', None,
        ("TOML syntax error",),
    ),
    "unknown-key": Broken(
        'phone = "+46 709 666 997"', 'fax = "+46 709 666 997"', "fax = ", "organisation.fax",
        ("unknown key",),
    ),
    "unknown-key-in-array-of-tables": Broken(
        'trigger = "created"\nkeep_for = "P12M"',
        'trigger = "created"\nkeep_four = "P6M"\nkeep_for = "P12M"', "keep_four",
        "rule[{i}].keep_four", ("unknown key",), array="[[rule]]", needle="keep_four",
    ),
    "string-for-integer": Broken(
        "ipv4_prefix = 24", 'ipv4_prefix = "24"', "ipv4_prefix", "logins.ipv4_prefix",
        ("must be an integer", "not a string"),
    ),
    "string-for-boolean": Broken(
        "two_factor = true", 'two_factor = "yes"', "two_factor", "security.two_factor",
        ("must be true or false", "not a string"),
    ),
    "string-for-array": Broken(
        'fields = ["request.text"]', 'fields = "request.text"', 'fields = "request.text"',
        "category[{i}].fields", ("must be an array", "not a string"),
        array="[[category]]", needle='fields = "request.text"',
    ),
    "integer-for-text": Broken(
        "held_outside = { sv = \"Medarbetarnas mobiltelefoner.\", en = \"Staff members' mobile "
        'phones." }',
        "held_outside = 3", "held_outside = 3", "category[{i}].held_outside",
        ("must be a string or a table", "not an integer"),
        array="[[category]]", needle="held_outside = 3",
    ),
    "integer-inside-text": Broken(
        'name = { sv = "VD", en = "CEO" }', 'name = { sv = 1, en = "CEO" }', "sv = 1, en",
        "role[0].name.sv", ("must be a string", "not an integer"),
    ),
    "number-out-of-range": Broken(
        "ipv4_prefix = 24", "ipv4_prefix = 4", "ipv4_prefix", "logins.ipv4_prefix",
        ("greater than or equal to 8",),
    ),
    "missing-required-key": Broken(
        'window = "P7D"\n', "", "encrypted = true", "backups.window",
        ("required key is missing",), header=True,
    ),
    "missing-required-key-in-rule": Broken(
        'trigger = "created"\nkeep_for = "P12M"', 'keep_for = "P12M"', 'id = "login-logs"',
        "rule[{i}].trigger",
        ("required key is missing",), header=True, array="[[rule]]", needle='"login-logs"',
    ),
    "bad-iso-duration": Broken(
        'keep_for = "P3M"', 'keep_for = "3 months"', "3 months", "rule[{i}].keep_for",
        ("'3 months'", "not an ISO 8601 duration"), array="[[rule]]", needle="3 months",
    ),
    "duration-with-time-part": Broken(
        'window = "P7D"', 'window = "PT168H"', "PT168H", "backups.window",
        ("'PT168H'", "not an ISO 8601 duration"),
    ),
    "bad-cookie-duration": Broken(
        'cookie choice." }\nduration = "P6M"', 'cookie choice." }\nduration = "6 months"',
        "6 months",
        "cookies.category[0].cookie[0].duration", ("not an ISO 8601 duration",),
    ),
    "applies-to-unknown-category": Broken(
        'applies_to = ["login_events"]', 'applies_to = ["login_events", "logins"]',
        '"login_events", "logins"', "rule[{i}].applies_to",
        ("category 'logins'", "does not define"), array="[[rule]]", needle='"logins"]',
    ),
    "category-without-rule": Broken(
        'applies_to = ["login_events"]', 'applies_to = ["correspondence"]',
        'id = "login_events"', "category[{i}]", ("'login_events'", "no retention rule"),
        header=True, array="[[category]]", needle='id = "login_events"',
    ),
    "unknown-registry-field": Broken(
        'fields = ["request.text"]', 'fields = ["request.text", "request.nonsense"]',
        "request.nonsense", "category[{i}].fields",
        ("'request.nonsense'", "not a personal-data field"),
        array="[[category]]", needle="request.nonsense",
    ),
    "registry-field-in-no-category": Broken(
        '"person.postal_address", "person.mobile"]', '"person.postal_address"]',
        'id = "customer_identity"', "category", ("'person.mobile'", "belongs to no category"),
        header=True,
    ),
    "field-in-two-categories": Broken(
        'fields = ["request.text"]', 'fields = ["request.text", "person.email"]',
        '"request.text", "person.email"', "category[{i}].fields",
        ("'person.email'", "already belongs to category[1]"),
        array="[[category]]", needle='"request.text", "person.email"',
    ),
    "duplicate-id": Broken(
        'id = "board"', 'id = "ceo"  # was the board', "# was the board", "role[1].id",
        ("duplicate id 'ceo'",),
    ),
    "unknown-role-in-responsible": Broken(
        'responsible = "finance"\nsubjects = ["users"]',
        'responsible = "accounting"\nsubjects = ["users"]',
        'responsible = "accounting"', "category[{i}].responsible",
        ("role 'accounting'", "does not define"),
        array="[[category]]", needle='responsible = "accounting"',
    ),
    "unknown-role-in-responsibilities": Broken(
        'website = "sales"', 'website = "marketing"', 'website = "marketing"',
        "responsibilities.website",
        ("role 'marketing'", "does not define"),
    ),
    "unknown-accountable-role": Broken(
        'accountable = "ceo"', 'accountable = "vd"', 'accountable = "vd"',
        "organisation.accountable", ("role 'vd'", "does not define"),
    ),
    "invalid-legal-basis": Broken(
        'legal_basis = "legitimate_interests"\nresponsible = "sales"\nsubjects = ["prospects"]',
        'legal_basis = "business_need"\nresponsible = "sales"\nsubjects = ["prospects"]',
        "business_need", "category[{i}].legal_basis",
        ("must be", "'contract'", "'legitimate_interests'"),
        array="[[category]]", needle="business_need",
    ),
    "legal-obligation-without-source": Broken(
        'legal_source = "Bokföringslagen (1999:1078) 7 kap. 2 §"\nresponsible = "finance"',
        'responsible = "finance"', 'id = "accounting_records"', "category[{i}]",
        ("legal_source",), header=True, array="[[category]]", needle='id = "accounting_records"',
    ),
    "store-outside-allowed-countries": Broken(
        'kind = "database"\ncountry = "SE"', 'kind = "database"\ncountry = "US"',
        'country = "US"', "store[0].country", ("US", "outside the allowed countries (SE)"),
    ),
    "backup-outside-allowed-countries": Broken(
        'encrypted = true\ncountries = ["SE"]', 'encrypted = true\ncountries = ["SE", "DE"]',
        '"SE", "DE"', "backups.countries",
        ("DE", "outside the allowed countries"),
    ),
    "country-not-a-code": Broken(
        'country = "SE"\naccountable', 'country = "Sweden"\naccountable', '"Sweden"',
        "organisation.country", ("'Sweden'", "two-letter country code"),
    ),
    "escrow-threshold-above-shares": Broken(
        "escrow_threshold = 2", "escrow_threshold = 4", "escrow_threshold",
        "logins.escrow_threshold", ("larger than escrow_shares",),
    ),
    "backup-directory-not-absolute": Broken(
        'encrypted = true\ncountries = ["SE"]',
        'encrypted = true\ncountries = ["SE"]\ndirectories = ["home/kunder"]',
        'directories = ["home/kunder"]', "backups.directories[0]",
        ("'home/kunder'", "not an absolute path"),
    ),
    "escrow-threshold-of-one": Broken(
        "escrow_threshold = 2", "escrow_threshold = 1", "escrow_threshold",
        "logins.escrow_threshold", ("greater than or equal to 2",),
    ),
    "login-events-category-unknown": Broken(
        "[logins]                              # P6, P7",
        '[logins]                              # P6, P7\ncategory = "logins"',
        'category = "logins"', "logins.category", ("'logins'", "does not define"),
    ),
    "login-rule-with-another-trigger": Broken(
        'applies_to = ["login_events"]\ntrigger = "created"',
        'applies_to = ["login_events"]\ntrigger = "last_activity"',
        "[logins]", "logins.category", ('exactly one rule, with trigger = "created"',),
    ),
    "text-missing-a-language": Broken(
        'name = { sv = "Sociala medier", en = "Social sharing" }',
        'name = { sv = "Sociala medier" }', "Sociala medier", "cookies.category[{i}].name",
        ("lacks", "en"), array="[[cookies.category]]", needle="Sociala medier",
    ),
    "role-name-missing-first-language": Broken(
        'name = { sv = "VD", en = "CEO" }', 'name = { en = "CEO" }', '{ en = "CEO" }',
        "role[0].name", ("lacks", "sv"),
    ),
    "text-with-unknown-language": Broken(
        'purpose = { sv = "Sparar ditt val om kakor.", en = "Stores your cookie choice." }',
        'purpose = { sv = "Sparar ditt val om kakor.", en = "Stores your cookie choice.", '
        'de = "Speichert Ihre Wahl." }',
        "Speichert", "cookies.category[0].cookie[0].purpose", ("de", "not in `languages`"),
    ),
    "service-cookie-text-missing-a-language": Broken(
        'provider = "Google Ireland Ltd"',
        'provider = "Google Ireland Ltd"\n\n[[cookies.category.service.cookie]]\n'
        'name = "VISITOR_INFO1_LIVE"\npurpose = { en = "Remembers video settings." }\n'
        'duration = "P6M"\nthird_party = true',
        "Remembers video settings", "cookies.category[1].service[0].cookie[0].purpose",
        ("lacks", "sv"),
    ),
    "service-cookie-bad-duration": Broken(
        'provider = "Google Ireland Ltd"',
        'provider = "Google Ireland Ltd"\n\n[[cookies.category.service.cookie]]\n'
        'name = "VISITOR_INFO1_LIVE"\npurpose = "Video settings"\nduration = "half a year"',
        "half a year", "cookies.category[1].service[0].cookie[0].duration",
        ("'half a year'", "not an ISO 8601 duration"),
    ),
    "manual-rule-without-assign-to": Broken(
        'assign_to = "all_staff"\n', "", 'id = "phone-contacts"', "rule[{i}]",
        ("manual", "assign_to"), header=True, array="[[rule]]", needle='"phone-contacts"',
    ),
    "assign-to-unknown-role": Broken(
        'assign_to = "all_staff"', 'assign_to = "everyone"', "everyone", "rule[{i}].assign_to",
        ("role 'everyone'", "does not define"), array="[[rule]]", needle="everyone",
    ),
    "recipient-despite-no-sharing": Broken(
        "recipient = []",
        'recipient = [{ id = "mailer", name = "Mailer AB", kind = "processor", country = "SE", '
        'categories = ["customer_contact"], purpose = "Newsletters" }]',
        "Mailer AB", "recipient[0]", ("share_with_third_parties = false",),
    ),
    "clause-not-an-id": Broken(
        'clauses = ["P16"]\napplies_to = ["phone_contacts"]',
        'clauses = ["16"]\napplies_to = ["phone_contacts"]',
        'clauses = ["16"]', "rule[{i}].clauses[0]", ("'16'", "clause id"),
        array="[[rule]]", needle='clauses = ["16"]',
    ),
    "two-required-cookie-categories": Broken(
        'id = "statistics"', 'id = "statistics"\nrequired = true', "[cookies]",
        "cookies", ("exactly one cookie category", "required"),
    ),
    "trigger-not-allowed": Broken(
        'trigger = "created"\nkeep_for = "P12M"', 'trigger = "birthday"\nkeep_for = "P12M"',
        "birthday", "rule[{i}].trigger",
        ("must be", "'agreement_ended'"), array="[[rule]]", needle="birthday",
    ),
}
# fmt: on


@pytest.mark.parametrize("case", BROKEN.values(), ids=BROKEN.keys())
def test_broken_policy_is_reported_at_its_line(tmp_path, shipped_text, case):
    text = edit(shipped_text, case.old, case.new)
    path = write(tmp_path, text)
    line = header_above(text, case.at) if case.header else line_of(text, case.at)
    key = case.key
    if key and "{i}" in key:
        key = key.format(i=index_in_array(text, case.array, case.needle))

    code, errors, out = check(path)

    assert code == 2
    assert out == ""
    assert len(errors) == 1, errors
    prefix = f"{path}:{line}: " + (f"{key}: " if key else "")
    assert errors[0].startswith(prefix), f"expected {prefix!r} in {errors[0]!r}"
    message = errors[0][len(prefix) :]
    for word in case.says:
        assert word in message, f"{word!r} not in {message!r}"


@pytest.mark.parametrize(
    ("number", "right"),
    [
        ("556016-0680", True),  # Ericsson's, check digit right
        ("5560160680", True),
        ("16556016-0680", True),  # the twelve-digit form
        ("811218-9876", True),  # a sole trader's: the personnummer
        ("556016-0681", False),  # the check digit wrong
        ("556016-068", False),
    ],
)
def test_organisation_number_is_checked_as_import_checks_it(tmp_path, shipped_text, number, right):
    """`policy check` refuses the organisation number that `gallra import` would refuse."""
    text = edit(
        shipped_text,
        'country = "SE"\naccountable',
        f'country = "SE"\norg_number = "{number}"\naccountable',
    )
    path = write(tmp_path, text)

    code, errors, _ = check(path)

    try:
        registry_checks.org_number(number)
        imported = True
    except ValueError as exc:
        imported, import_says = False, str(exc)
    assert imported == right
    if right:
        assert (code, errors) == (0, [])
    else:
        assert code == 2  # in the import's words (idnumbers.org_number_problem)
        line = line_of(text, "org_number =")
        assert errors == [f"{path}:{line}: organisation.org_number: {import_says}"]


def test_a_foreign_organisation_number_is_not_read_as_a_swedish_one(tmp_path, shipped_text):
    """A Norwegian provider's number is not refused for failing Sweden's rules."""
    refused = {}
    for country in ("SE", "NO"):
        text = edit(
            shipped_text,
            'country = "SE"\naccountable',
            f'country = "{country}"\norg_number = "923 609 016"\naccountable',
        )
        _, errors, _ = check(write(tmp_path, text))
        refused[country] = any("organisation.org_number" in error for error in errors)
    assert refused == {"SE": True, "NO": False}


def test_toml_error_at_end_of_file(tmp_path, shipped_text):
    text = shipped_text.rstrip("\n") + "\nextra = [\n"
    path = write(tmp_path, text)
    code, errors, _ = check(path)
    assert code == 2
    # An unterminated array: the file ends inside it, on the line after the last newline.
    assert errors[0].startswith(f"{path}:{len(text.splitlines()) + 1}: TOML syntax error")


def test_recipient_table_is_accepted_when_sharing_is_allowed(tmp_path, shipped_text):
    """The same recipient is fine once the policy stops promising to share nothing."""
    text = edit(
        shipped_text,
        "recipient = []",
        'recipient = [{ id = "mailer", name = "Mailer AB", kind = "processor", country = "SE", '
        'categories = ["customer_contact"], purpose = "Newsletters" }]',
    )
    text = edit(text, "share_with_third_parties = false", "share_with_third_parties = true")
    code, errors, _ = check(write(tmp_path, text))
    assert (code, errors) == (0, [])


def test_several_problems_are_all_reported_sorted_by_line(tmp_path, shipped_text):
    text = shipped_text
    # Made in an order that differs from the file's, and each of a different kind.
    text = edit(text, "escrow_threshold = 2", "escrow_threshold = 5")
    text = edit(text, 'kind = "database"\ncountry = "SE"', 'kind = "database"\ncountry = "NO"')
    text = edit(text, 'id = "board"', 'id = "ceo"')
    text = edit(
        text,
        'responsible = "finance"\nsubjects = ["users"]',
        'responsible = "bookkeeping"\nsubjects = ["users"]',
    )
    text = edit(text, 'website = "sales"', 'website = "web"')
    path = write(tmp_path, text)
    lines_board = [n for n, t in enumerate(text.splitlines(), 1) if t == 'id = "ceo"']
    expected = sorted(
        [
            line_of(text, "escrow_threshold = 5"),
            line_of(text, 'country = "NO"'),
            lines_board[1],  # the second role with id "ceo" is the duplicate
            line_of(text, '"bookkeeping"'),
            line_of(text, 'website = "web"'),
        ]
    )

    code, errors, _ = check(path)

    assert code == 2
    reported = [int(e[len(f"{path}:") :].split(":", 1)[0]) for e in errors]
    assert reported == expected
    assert all(e.startswith(f"{path}:") for e in errors)
    joined = "\n".join(errors)
    for word in ("escrow_shares", "NO is outside", "duplicate id 'ceo'", "'bookkeeping'", "'web'"):
        assert word in joined


def test_several_shape_problems_are_all_reported_sorted_by_line(tmp_path, shipped_text):
    text = shipped_text
    text = edit(text, 'window = "P7D"', 'window = "a week"')
    text = edit(text, 'phone = "+46 709 666 997"', 'telephone = "+46 709 666 997"')
    text = edit(text, "password_min_length = 12", 'password_min_length = "twelve"')
    text = edit(text, 'keep_for = "P3M"', 'keep_for = "P3X"')
    path = write(tmp_path, text)
    expected = [
        line_of(text, "telephone"),
        line_of(text, '"P3X"'),
        line_of(text, '"a week"'),
        line_of(text, '"twelve"'),
    ]
    assert expected == sorted(expected)

    code, errors, _ = check(path)

    assert code == 2
    assert [e.split(": ", 1)[0] for e in errors] == [f"{path}:{n}" for n in expected]
    assert "organisation.telephone: unknown key" in errors[0]
    assert "keep_for" in errors[1] and "P3X" in errors[1]
    assert "backups.window" in errors[2]
    assert "security.password_min_length: must be an integer" in errors[3]


# -- policy show --format json ----------------------------------------------------------------


def test_show_json_round_trips_the_shipped_policy():
    data = tomllib.loads(SHIPPED.read_text(encoding="utf-8"))
    out = io.StringIO()
    call_command("policy", "show", str(SHIPPED), "--format", "json", stdout=out)
    shown = json.loads(out.getvalue())

    toml_rule = next(
        r for r in data["rule"] if "P17" in r["clauses"] and r.get("overrides_erasure")
    )
    json_rule = next(r for r in shown["rule"] if r["id"] == toml_rule["id"])
    assert toml_rule["keep_for"] == "P7Y" and json_rule["keep_for"] == "P7Y"
    assert toml_rule["counted_from"] == json_rule["counted_from"] == "end_of_calendar_year"
    assert json_rule["overrides_erasure"] is True
    assert json_rule["legal_source"] == toml_rule["legal_source"]

    assert shown["residency"]["allowed_countries"] == data["residency"]["allowed_countries"]
    assert shown["residency"]["allowed_countries"] == ["SE"]
    assert shown["backups"]["window"] == data["backups"]["window"] == "P7D"
    assert shown["recipient"] == data["recipient"] == []
    assert shown["languages"] == data["languages"]
    assert shown["organisation"]["name"] == data["organisation"]["name"]
    assert shown["commitments"] == data["commitments"]

    # Every category and rule, in the file's order, with its fields and durations as written.
    assert [(c["id"], c.get("fields", [])) for c in data["category"]] == [
        (c["id"], c["fields"]) for c in shown["category"]
    ]
    assert [(r["id"], r["keep_for"], r["applies_to"]) for r in data["rule"]] == [
        (r["id"], r["keep_for"], r["applies_to"]) for r in shown["rule"]
    ]
    # A key the file leaves out appears with its documented default.
    plain = next(r for r in data["rule"] if "counted_from" not in r)
    assert next(r for r in shown["rule"] if r["id"] == plain["id"])["counted_from"] == "trigger"


def test_show_refuses_a_broken_policy(tmp_path, shipped_text):
    text = edit(shipped_text, 'window = "P7D"', 'window = "P7"')
    path = write(tmp_path, text)
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("policy", "show", str(path), "--format", "json", stdout=out, stderr=err)
    assert raised.value.returncode == 2
    assert out.getvalue() == ""
    line = line_of(text, 'window = "P7"')
    assert err.getvalue().startswith(f"{path}:{line}: backups.window: ")


def test_show_text_names_the_policy_facts():
    data = tomllib.loads(SHIPPED.read_text(encoding="utf-8"))
    out = io.StringIO()
    call_command("policy", "show", str(SHIPPED), stdout=out)
    text = out.getvalue()
    assert data["organisation"]["name"] in text
    for rule in data["rule"]:
        assert rule["id"] in text
    assert "Backup window: P7D" in text


# -- the key-line locator ---------------------------------------------------------------------

TRICKY = '''\
# A comment with [brackets] and key = "value" that is not a key.
title = """
[not_a_table]
fake = "inside a multi-line string"
[[not.an.array]]
"""
real = 1   # trailing comment [x]
literal = \'\'\'
also_fake = 2
[still_not_a_table]
\'\'\'
escaped = """ends with an escaped quote \\""" and keeps going
hidden = 3
"""
quoted_hash = "a # not a comment [ nor a bracket"
after_hash = 4
numbers = [
  1,  # one [
  2,  # two ]
  [3, 4],
]
after_numbers = 5
strings = [
  "a ] b",
  'c [ d',
  """e
notakey = 6
""",
]
after_strings = 6
people = [
  { name = "a]", tags = ["x", "y"] },
  { name = "b", tags = [] },
]
after_people = 7

  [organisation]   # indented header with a comment
  name = { sv = "Namn", en = "Name" }
  "quoted key" = 8
  'literal.key' = 9
  address.city = "Stockholm"

[[cookies.category]]
id = "first"

[[cookies.category.cookie]]
name = "c-one"

[[cookies.category.cookie]]
name = "c-two"

[[cookies.category]]
id = "second"
purpose = """
[[cookies.category.cookie]]
name = "not-a-cookie"
"""

[[cookies.category.cookie]]
name = "c-three"

[cookies.category.extra]
depth = 10

[ cookies . settings ]
renew = "P6M"
'''


def test_tricky_sample_is_valid_toml():
    data = tomllib.loads(TRICKY)
    assert "not_a_table" not in data and "fake" not in data and "also_fake" not in data
    assert [c["id"] for c in data["cookies"]["category"]] == ["first", "second"]
    assert [c["name"] for c in data["cookies"]["category"][1]["cookie"]] == ["c-three"]


@pytest.mark.parametrize(
    ("path", "needle"),
    [
        (("title",), 'title = """'),
        (("real",), "real = 1"),
        (("literal",), "literal = '''"),
        (("escaped",), "escaped = "),
        (("quoted_hash",), "quoted_hash = "),
        (("after_hash",), "after_hash = 4"),
        (("numbers",), "numbers = ["),
        (("after_numbers",), "after_numbers = 5"),
        (("strings",), "strings = ["),
        (("after_strings",), "after_strings = 6"),
        (("people",), "people = ["),
        (("after_people",), "after_people = 7"),
        (("organisation",), "[organisation]"),
        (("organisation", "name"), 'name = { sv = "Namn"'),
        (("organisation", "quoted key"), '"quoted key" = 8'),
        (("organisation", "literal.key"), "'literal.key' = 9"),
        (("organisation", "address", "city"), "address.city"),
        (("cookies", "category", 0), '[[cookies.category]]\nid = "first"'),
        (("cookies", "category", 0, "id"), 'id = "first"'),
        (("cookies", "category", 0, "cookie", 0, "name"), 'name = "c-one"'),
        (("cookies", "category", 0, "cookie", 1), '[[cookies.category.cookie]]\nname = "c-two"'),
        (("cookies", "category", 0, "cookie", 1, "name"), 'name = "c-two"'),
        (("cookies", "category", 1, "id"), 'id = "second"'),
        (("cookies", "category", 1, "purpose"), 'purpose = """'),
        (("cookies", "category", 1, "cookie", 0, "name"), 'name = "c-three"'),
        (("cookies", "category", 1, "extra", "depth"), "depth = 10"),
        (("cookies", "settings", "renew"), "renew = "),
    ],
)
def test_key_lines_on_tricky_toml(path, needle):
    if "\n" in needle:  # a header followed by the line that makes it unique
        first, second = needle.split("\n")
        expected = line_of(TRICKY, second) - 1
        assert TRICKY.splitlines()[expected - 1] == first
    else:
        expected = line_of(TRICKY, needle)
    assert key_lines(TRICKY)[path] == expected


def test_key_lines_ignore_what_is_inside_strings_arrays_and_comments():
    found = key_lines(TRICKY)
    phantoms = {
        "not_a_table",
        "fake",
        "not",
        "also_fake",
        "still_not_a_table",
        "hidden",
        "notakey",
        "brackets",
        "key",
    }
    assert not [p for p in found if p[0] in phantoms]
    # The multi-line string in the second category holds a fake cookie header.
    cookies_of_second = {p[4] for p in found if p[:4] == ("cookies", "category", 1, "cookie")}
    assert cookies_of_second == {0}
    assert not any(p[:3] == ("cookies", "category", 2) for p in found)


def test_line_for_falls_back_to_the_enclosing_key():
    found = key_lines(TRICKY)
    # Keys inside an inline table or an array element have no line of their own.
    assert line_for(found, ("organisation", "name", "sv")) == line_of(TRICKY, 'sv = "Namn"')
    assert line_for(found, ("people", 1, "name")) == line_of(TRICKY, "people = [")
    # A key that is missing from a table: the table's header.
    assert line_for(found, ("organisation", "missing")) == line_of(TRICKY, "[organisation]")
    # Nothing encloses it: line 1.
    assert line_for(found, ("nowhere", "at_all")) == 1


def test_key_lines_agree_with_tomllib_on_the_shipped_policy(shipped_text):
    """Every element of every array of tables is found, at the line holding its own id."""
    data = tomllib.loads(shipped_text)
    found = key_lines(shipped_text)
    rows = shipped_text.splitlines()
    arrays = {
        ("role",): data["role"],
        ("category",): data["category"],
        ("rule",): data["rule"],
        ("store",): data["store"],
        ("cookies", "category"): data["cookies"]["category"],
    }
    for prefix, items in arrays.items():
        for i, item in enumerate(items):
            line = found[(*prefix, i, "id")]
            assert rows[line - 1].split("#")[0].strip() == f'id = "{item["id"]}"'
    # Every plain key of every table is found on a line that starts with that key.
    for path, line in found.items():
        if isinstance(path[-1], str) and not rows[line - 1].lstrip().startswith("["):
            assert rows[line - 1].lstrip().startswith(f"{path[-1]} "), (path, line)
