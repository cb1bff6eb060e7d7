"""Time-based one-time passwords (RFC 6238: HMAC-SHA1, 30-second steps, 6 digits).

The codes come from `cryptography` (already a dependency); what is gallra's own is which
steps are accepted (one either side, for phone clocks) and the step a code belongs to, which
the login stores so a code works once. Every authenticator app (FreeOTP, Aegis, Google
Authenticator, 1Password) reads the otpauth URI.
"""

from __future__ import annotations

import base64
import secrets
import time
from urllib.parse import quote

from cryptography.hazmat.primitives.hashes import SHA1
from cryptography.hazmat.primitives.twofactor import InvalidToken
from cryptography.hazmat.primitives.twofactor.totp import TOTP

STEP = 30
DIGITS = 6
DRIFT = 1  # accept the step before and after: phone clocks drift


def new_secret() -> str:
    """160 random bits, base32 as the apps expect it."""
    return base64.b32encode(secrets.token_bytes(20)).decode()


def _totp(secret: str) -> TOTP:
    # RFC 4226 asks for keys of 128 bits or more; gallra makes 160 (new_secret), and a
    # shorter secret stored by hand still works, as it always has.
    key = base64.b32decode(secret)
    return TOTP(key, DIGITS, SHA1(), STEP, enforce_key_length=False)  # noqa: S303 (RFC 6238)


def code_at(secret: str, step: int) -> str:
    """The code an authenticator app shows during time step `step`."""
    return _totp(secret).generate(step * STEP).decode()


def now_step(at: float | None = None) -> int:
    return int((time.time() if at is None else at) // STEP)


def matching_step(secret: str, code: str, at: float | None = None) -> int | None:
    """The time step `code` belongs to, if it is valid now; None otherwise."""
    code = "".join(code.split())
    if len(code) != DIGITS or not code.isdigit():
        return None
    current, totp = now_step(at), _totp(secret)
    for step in range(current - DRIFT, current + DRIFT + 1):
        try:
            totp.verify(code.encode(), step * STEP)  # compared in constant time
        except InvalidToken:
            continue
        return step
    return None


def uri(secret: str, username: str, issuer: str) -> str:
    """The otpauth URI. Not cryptography's get_provisioning_uri: that writes a space in the
    issuer as "+", which some authenticator apps show as it is."""
    label = quote(f"{issuer}:{username}")
    return f"otpauth://totp/{label}?secret={secret}&issuer={quote(issuer)}&digits={DIGITS}&period={STEP}"


if __name__ == "__main__":  # what an authenticator app shows: python -m gallra.staff.totp SECRET
    import sys

    print(code_at(sys.argv[1], now_step()))
