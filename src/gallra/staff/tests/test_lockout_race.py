"""The staff lockout counts first and checks after, so parallel guesses get no more checks.

Forty wrong logins at once, each on its own thread with its own database connection, used
to get twelve password checks instead of five: each looked at the count before any of them
had added to it. Now each attempt is counted (committed) before it is checked. The checks
are counted where they happen, in the password hasher: every Argon2 verification (a known
account) and every Argon2 hash of the password typed (Django's stand-in for an unknown
account, so that it takes as long).

On PostgreSQL the races run on the test database. SQLite's test database is in memory and
shared between threads in a way that refuses a second writer at once ("database table is
locked"), which is not how gallra runs SQLite; there each race runs in a child process on a
database file made by `gallra init` (WAL, immediate transactions, a busy timeout), as
`gallra serve` uses it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from collections import Counter
from datetime import timedelta

import pytest
from django.contrib.auth.hashers import Argon2PasswordHasher
from django.db import connection
from django.test import Client, override_settings
from django.utils import timezone

from gallra.conftest import STAFF_PASSWORD
from gallra.staff.models import LoginFailure
from gallra.staff.views import PER_ACCOUNT, PER_CLIENT

pytestmark = pytest.mark.django_db(transaction=True)

PARALLEL = 40


class CountingArgon2(Argon2PasswordHasher):
    """Django's Argon2 hasher, unchanged, counting the passwords it computes."""

    lock = threading.Lock()
    counts: Counter[str] = Counter()

    def verify(self, password, encoded):
        with self.lock:
            self.counts["verify"] += 1
        return super().verify(password, encoded)

    def encode(self, password, salt):
        with self.lock:
            self.counts["encode"] += 1
        return super().encode(password, salt)


def checks() -> int:
    return CountingArgon2.counts["verify"] + CountingArgon2.counts["encode"]


def counting():
    """Django's hashers with Argon2 counted (the only hasher for the algorithm "argon2")."""
    from django.conf import settings

    others = [h for h in settings.PASSWORD_HASHERS if not h.endswith(".Argon2PasswordHasher")]
    return override_settings(PASSWORD_HASHERS=[f"{__name__}.CountingArgon2", *others])


def post(address: str, username: str, password: str, code: str = "123456") -> int:
    fields = {"username": username, "password": password, "code": code, "next": "/admin/"}
    return Client(REMOTE_ADDR=address).post("/admin/login/", fields).status_code


def at_once(attempts: list[tuple[str, ...]]) -> list[int]:
    """Post every (address, username, password[, code]) at the same moment, each from its
    own thread with its own database connection; the status codes, in order."""
    start = threading.Barrier(len(attempts))
    statuses: list = [0] * len(attempts)

    def one(i: int, *attempt: str) -> None:
        try:
            start.wait()
            statuses[i] = post(*attempt)
        except BaseException as exc:  # reported with the others' results
            statuses[i] = repr(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=one, args=(i, *a)) for i, a in enumerate(attempts)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return statuses


def ceo() -> str:
    """The staff member `vd` in the CEO's role, with a second factor; its TOTP secret."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from gallra.policy.loading import current_policy
    from gallra.staff import accounts, roles

    roles.sync(current_policy())
    user = get_user_model().objects.create_user("vd", password=STAFF_PASSWORD, is_staff=True)
    user.groups.set([Group.objects.get(name="ceo")])
    return accounts.enrol(user, actor="test")


def code(secret: str) -> str:
    from gallra.staff import totp

    return totp.code_at(secret, totp.now_step())


def account_rows() -> int:
    return LoginFailure.objects.filter(key=LoginFailure.key_for("account", "vd")).count()


# -- the races, each returning what it saw -----------------------------------------------------


def one_account() -> dict:
    """Forty wrong passwords for one account at once, from forty addresses; then the right
    password and code from an address never seen."""
    secret = ceo()
    with counting():
        CountingArgon2.counts.clear()
        statuses = at_once([(f"198.51.100.{i}", "vd", f"guess {i}") for i in range(PARALLEL)])
        seen = {"statuses": statuses, "checks": checks(), "rows": account_rows()}
        CountingArgon2.counts.clear()
        seen["right"] = post("192.0.2.200", "vd", STAFF_PASSWORD, code(secret))
        seen["right_checks"] = checks()
    return seen


def one_client() -> dict:
    """One address, forty accounts at once (all but one unknown); then the right password
    from that address, and from another."""
    secret = ceo()
    names = ["vd", *(f"user{i}" for i in range(PARALLEL - 1))]
    with counting():
        CountingArgon2.counts.clear()
        statuses = at_once([("203.0.113.66", name, "Sommar2026!") for name in names])
        seen = {"statuses": statuses, "checks": checks()}
        CountingArgon2.counts.clear()
        seen["right"] = post("203.0.113.66", "vd", STAFF_PASSWORD, code(secret))
        seen["right_checks"] = checks()
        seen["elsewhere"] = post("192.0.2.10", "vd", STAFF_PASSWORD, code(secret))
        seen["rows_after"] = account_rows()
    return seen


def owner_among_guesses() -> dict:
    """The owner logs in while 39 guesses pour in."""
    secret = ceo()
    attempts = [(f"198.51.100.{i}", "vd", f"guess {i}") for i in range(PARALLEL - 1)]
    attempts.insert(PARALLEL // 2, ("192.0.2.7", "vd", STAFF_PASSWORD, code(secret)))
    with counting():
        CountingArgon2.counts.clear()
        statuses = at_once(attempts)
        return {"statuses": statuses, "owner": statuses[PARALLEL // 2], "checks": checks()}


RACES = {f.__name__: f for f in (one_account, one_client, owner_among_guesses)}


def main(race: str) -> None:
    """In the child process: run `race` on the instance in GALLRA_DATA, print what it saw."""
    from django.test.utils import setup_test_environment

    setup_test_environment()  # the test client's host name, as under pytest
    print(json.dumps(RACES[race]()))


@pytest.fixture(scope="module")
def instance(tmp_path_factory):
    """instance() -> the environment of a fresh SQLite instance: a copy of one `gallra init`
    made for this module (made at the first call)."""
    made: list = []

    def copy() -> dict:
        env = {**os.environ}
        for name in ("GALLRA_DATABASE_URL", "GALLRA_KEY_FILE", "GALLRA_POLICY"):
            env.pop(name, None)
        if not made:
            made.append(tmp_path_factory.mktemp("instance") / "data")
            init = subprocess.run(  # noqa: S603 (this Python, gallra's own command)
                [sys.executable, "-m", "gallra", "init"],
                env=env | {"GALLRA_DATA": str(made[0])},
                capture_output=True,
                text=True,
                check=False,
            )
            assert init.returncode == 0, init.stderr
        data = tmp_path_factory.mktemp("race") / "data"
        shutil.copytree(made[0], data)
        return env | {"GALLRA_DATA": str(data)}

    return copy


def run(race: str, instance) -> dict:
    if connection.vendor == "postgresql":
        return RACES[race]()
    env = instance()
    child = (
        "import os, django; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'gallra.settings'); "
        f"django.setup(); from {__name__} import main; main({race!r})"
    )
    done = subprocess.run(  # noqa: S603 (this Python, this module's own code)
        [sys.executable, "-c", child],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


# -- the tests -----------------------------------------------------------------------------


def test_forty_wrong_passwords_at_once_get_at_most_five_checks(instance):
    seen = run("one_account", instance)
    statuses, checked = Counter(seen["statuses"]), seen["checks"]
    assert checked <= PER_ACCOUNT, seen
    # Each check answered "wrong" (200, the form again); every other attempt was refused.
    assert statuses == Counter({200: checked, 429: PARALLEL - checked}) - Counter(), seen
    # Every attempt was counted, checked or refused: the account is locked, ...
    assert seen["rows"] == PARALLEL
    # ... so the right password and code from an address never seen are refused too, unchecked.
    assert (seen["right"], seen["right_checks"]) == (429, 0)


def test_forty_accounts_at_once_from_one_address_get_at_most_twenty_checks(instance):
    seen = run("one_client", instance)
    statuses, checked = Counter(seen["statuses"]), seen["checks"]
    assert checked <= PER_CLIENT, seen
    assert statuses == Counter({200: checked, 429: PARALLEL - checked}) - Counter(), seen
    assert (seen["right"], seen["right_checks"]) == (429, 0)
    # Another address still logs in to the account (one attempt on it so far) and that
    # clears the account's count.
    assert (seen["elsewhere"], seen["rows_after"]) == (302, 0)


def test_the_owner_among_guesses_opens_no_extra_checks(instance):
    """At most five passwords are checked before the count is cleared; only the owner's
    successful login clears it, and the guesses racing after it get at most five more."""
    seen = run("owner_among_guesses", instance)
    assert set(seen["statuses"]) <= {200, 302, 429}, seen
    assert seen["checks"] <= (2 * PER_ACCOUNT if seen["owner"] == 302 else PER_ACCOUNT), seen


def test_one_after_another_refused_attempts_count_too():
    """Five checks, then 429 before any check; a refused attempt counts, so the lockout lasts
    while someone keeps trying, and ends once the window holds fewer than five attempts."""
    secret = ceo()
    with counting():
        CountingArgon2.counts.clear()
        assert [post(f"198.51.100.{i}", "vd", "wrong") for i in range(PER_ACCOUNT)] == [200] * 5
        assert post("198.51.100.99", "vd", "wrong") == 429
        assert CountingArgon2.counts["verify"] == PER_ACCOUNT  # the sixth: refused unchecked
        assert account_rows() == PER_ACCOUNT + 1
        rows = LoginFailure.objects.filter(key=LoginFailure.key_for("account", "vd"))
        # Ten minutes on, all six are still in the 15-minute window: refused again.
        rows.update(at=timezone.now() - timedelta(minutes=10))
        assert post("192.0.2.200", "vd", STAFF_PASSWORD, code(secret)) == 429
        # The five failures leave the window; the two refused attempts have not: with the
        # next one that is three, so it is checked, and logs in.
        refused = list(rows.order_by("-pk").values_list("pk", flat=True)[:2])
        rows.exclude(pk__in=refused).update(at=timezone.now() - timedelta(minutes=16))
        assert post("192.0.2.200", "vd", STAFF_PASSWORD, code(secret)) == 302
        assert CountingArgon2.counts["verify"] == PER_ACCOUNT + 1
