"""What keeps the public forms usable and free of spam without a third-party service:

* a honeypot field that people never see and bots fill in;
* a signed time stamp in the form: a post that comes sooner than a person could type, or
  after the form has grown stale, is refused. Each time stamp carries a random nonce and is
  good for one post: the nonce is marked used in the database (a unique row, so of two posts
  at once only one wins; every process sees it), and the rows go once MAX_AGE has passed;
* a rate limit per client, counted in memory (the cache) under a keyed hash of the address:
  the address itself is never stored, in memory or on disk.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.http import HttpRequest

from gallra.contact.models import UsedFormToken

HONEYPOT = "website"  # a field name bots love to fill in
MAX_AGE = 24 * 3600
SALT = "gallra.contact.form-time"


def form_token() -> str:
    """Milliseconds and 32 hex digits: a token of the same length every time, so that a
    page that carries one is as long whoever asks for it."""
    return signing.dumps({"t": int(time.time() * 1000), "n": secrets.token_hex(16)}, salt=SALT)


def too_fast_or_stale(token: str) -> bool:
    """True unless the token is ours, neither too fresh nor too old, and not used before;
    a token that passes is used up."""
    try:
        stamp = signing.loads(token, salt=SALT, max_age=MAX_AGE)
        issued, nonce = datetime.fromtimestamp(int(stamp["t"]) / 1000, UTC), stamp["n"]
    except (signing.BadSignature, TypeError, ValueError, KeyError, OverflowError, OSError):
        return True
    if not isinstance(nonce, str) or not re.fullmatch(r"[0-9a-f]{32}", nonce):
        return True
    if (datetime.now(UTC) - issued).total_seconds() < settings.GALLRA_FORM_MIN_SECONDS:
        return True
    return not use(nonce, issued)


def use(nonce: str, issued: datetime) -> bool:
    """Mark the nonce used; False when it was used already (by this post's twin, perhaps)."""
    UsedFormToken.objects.filter(issued__lt=datetime.now(UTC) - timedelta(seconds=MAX_AGE)).delete()
    try:
        with transaction.atomic():
            UsedFormToken.objects.create(nonce=nonce, issued=issued)
    except IntegrityError:
        return False
    return True


def is_bot(request: HttpRequest) -> bool:
    return bool(request.POST.get(HONEYPOT)) or too_fast_or_stale(request.POST.get("t", ""))


def client_key(request: HttpRequest, scope: str) -> str:
    address = request.META.get("REMOTE_ADDR", "")
    digest = hmac.new(settings.SECRET_KEY.encode(), address.encode(), hashlib.sha256)
    return f"gallra:rate:{scope}:{digest.hexdigest()[:32]}"


def over_limit(request: HttpRequest, scope: str) -> bool:
    """Count this post; True when the client has posted more than the limit in the window."""
    limit, window = settings.GALLRA_FORM_RATE
    key = client_key(request, scope)
    if cache.add(key, 1, timeout=window):
        return False
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=window)
        return False
    return count > limit
