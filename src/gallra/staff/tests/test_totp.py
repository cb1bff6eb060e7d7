"""The staff login's one-time codes are the ones every authenticator app computes (RFC 6238),
accepted one step either side of now, and each used once."""

from __future__ import annotations

import base64

import pytest

from gallra.staff import accounts, totp
from gallra.staff.models import TwoFactor

# RFC 6238, appendix B: the SHA1 seed "12345678901234567890". The RFC prints eight digits;
# an authenticator app shows the last six (the same number modulo 10**6).
RFC_SECRET = base64.b32encode(b"12345678901234567890").decode()
RFC_SHA1 = {
    59: "94287082",
    1111111109: "07081804",
    1111111111: "14050471",
    1234567890: "89005924",
    2000000000: "69279037",
    20000000000: "65353130",
}


@pytest.mark.parametrize(("at", "eight_digits"), RFC_SHA1.items())
def test_the_codes_are_rfc_6238s(at, eight_digits):
    step = totp.now_step(at)
    assert totp.code_at(RFC_SECRET, step) == eight_digits[-6:]
    assert totp.matching_step(RFC_SECRET, eight_digits[-6:], at) == step


def test_the_rfc_example_at_59_seconds():
    assert totp.code_at(RFC_SECRET, totp.now_step(59)) == "287082"
    assert totp.matching_step(RFC_SECRET, "287 082", 59) == 1  # typed with a space


def test_a_code_is_accepted_one_step_either_side_and_no_further():
    at = 1111111111  # step 37037037
    now = totp.now_step(at)
    for offset, accepted in ((-2, False), (-1, True), (0, True), (1, True), (2, False)):
        code = totp.code_at(RFC_SECRET, now + offset)
        assert (totp.matching_step(RFC_SECRET, code, at) == now + offset) is accepted, offset
    for wrong in ("", "12345", "1234567", "abcdef", "000000"):
        assert totp.matching_step(RFC_SECRET, wrong, at) is None


@pytest.mark.django_db
def test_a_code_logs_in_once_and_an_older_step_never(staff_member):
    user = staff_member("vd", "ceo")
    secret = accounts.enrol(user, actor="test")
    second = TwoFactor.objects.get(user=user)
    at = 1_800_000_000.0
    now = totp.now_step(at)
    assert second.accept(totp.code_at(secret, now), at)
    assert not second.accept(totp.code_at(secret, now), at)  # the same code again
    assert not second.accept(totp.code_at(secret, now - 1), at)  # an earlier step: too late
    assert second.accept(totp.code_at(secret, now + 1), at)
    assert TwoFactor.objects.get(user=user).last_step == now + 1
