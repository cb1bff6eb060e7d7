"""What keeps the public forms usable and free of spam without a third-party service:

* a honeypot field that people never see and bots fill in;
* a signed time stamp in the form: a post that comes sooner than a person could type, or
  after the form has grown stale, is refused;
* a rate limit per client, counted in memory (the cache) under a keyed hash of the address:
  the address itself is never stored, in memory or on disk.
"""

from __future__ import annotations

import hashlib
import hmac
import time

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.http import HttpRequest

HONEYPOT = "website"  # a field name bots love to fill in
MAX_AGE = 24 * 3600
SALT = "gallra.contact.form-time"


def form_token() -> str:
    return signing.dumps(time.time(), salt=SALT)


def too_fast_or_stale(token: str) -> bool:
    try:
        issued = float(signing.loads(token, salt=SALT, max_age=MAX_AGE))
    except (signing.BadSignature, TypeError, ValueError):
        return True
    return time.time() - issued < settings.GALLRA_FORM_MIN_SECONDS


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
