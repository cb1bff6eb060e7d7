"""Bearer tokens for web applications that post their login events."""

from __future__ import annotations

import hashlib
import secrets

from django.utils import timezone

from gallra.logins.models import IngestToken


class TokenError(Exception):
    pass


def digest(token: str) -> str:
    """What is stored of a bearer token (here and for the API's tokens): its SHA-256."""
    return hashlib.sha256(token.encode()).hexdigest()


def create(name: str) -> str:
    """A new token, shown once; only its SHA-256 is stored."""
    if IngestToken.objects.filter(name=name).exists():
        raise TokenError(f"a token named {name!r} exists; revoke it or pick another name")
    token = "glt_" + secrets.token_urlsafe(32)
    IngestToken.objects.create(name=name, digest=digest(token), created=timezone.now())
    return token


def revoke(name: str) -> None:
    if not IngestToken.objects.filter(name=name, revoked__isnull=True).update(
        revoked=timezone.now()
    ):
        raise TokenError(f"no active token named {name!r}")


def listed() -> list[str]:
    return [
        f"{t.name}  made {t.created:%Y-%m-%d}"
        + (f"  revoked {t.revoked:%Y-%m-%d}" if t.revoked else "")
        for t in IngestToken.objects.order_by("name")
    ]


def authenticate(header: str) -> IngestToken | None:
    """The active token an `Authorization: Bearer ...` header carries, if any."""
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return IngestToken.objects.filter(digest=digest(token.strip()), revoked__isnull=True).first()
