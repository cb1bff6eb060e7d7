"""Time-based one-time passwords (RFC 6238: HMAC-SHA1, 30-second steps, 6 digits).

Thirty lines of standard library, so two-factor login needs no package of its own. Every
authenticator app (FreeOTP, Aegis, Google Authenticator, 1Password) reads the otpauth URI.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import struct
import time
from urllib.parse import quote

STEP = 30
DIGITS = 6
DRIFT = 1  # accept the step before and after: phone clocks drift


def new_secret() -> str:
    """160 random bits, base32 as the apps expect it."""
    return base64.b32encode(secrets.token_bytes(20)).decode()


def code_at(secret: str, step: int) -> str:
    key = base64.b32decode(secret)
    digest = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(number % 10**DIGITS).zfill(DIGITS)


def now_step(at: float | None = None) -> int:
    return int((time.time() if at is None else at) // STEP)


def matching_step(secret: str, code: str, at: float | None = None) -> int | None:
    """The time step `code` belongs to, if it is valid now; None otherwise."""
    code = "".join(code.split())
    if len(code) != DIGITS or not code.isdigit():
        return None
    current = now_step(at)
    for step in range(current - DRIFT, current + DRIFT + 1):
        if hmac.compare_digest(code_at(secret, step), code):
            return step
    return None


def uri(secret: str, username: str, issuer: str) -> str:
    label = quote(f"{issuer}:{username}")
    return f"otpauth://totp/{label}?secret={secret}&issuer={quote(issuer)}&digits={DIGITS}&period={STEP}"


if __name__ == "__main__":  # what an authenticator app shows: python -m gallra.staff.totp SECRET
    import sys

    print(code_at(sys.argv[1], now_step()))
