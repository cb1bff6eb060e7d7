"""What the banner shows and how long a choice holds, from the policy's [cookies] table."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, time
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import translation

from gallra.consent.texts import banner_text
from gallra.policy import describe
from gallra.policy.durations import CookieDuration, Duration
from gallra.policy.model import Cookie, Policy


def renewal(decided_at: datetime, renew_after: Duration) -> datetime:
    """The moment a visitor who decided at `decided_at` is asked again: the start (00:00,
    Stockholm time) of the day `renew_after` after the day the decision was made, in calendar
    terms (31 August 2026 + P6M: from 00:00 on 28 February 2027).

    banner.js does the same sum in the visitor's browser (`renewsAt`); docs/consent.md. No
    clock change in Stockholm happens at midnight, so that midnight is always one instant.
    """
    zone = ZoneInfo(settings.TIME_ZONE)
    day = renew_after.after(decided_at.astimezone(zone).date())
    return datetime.combine(day, time(0), tzinfo=zone)


def _duration(duration: CookieDuration, lang: str) -> str:
    """ "13 månader", "30 minuter", "until you close the browser" (a session cookie)."""
    with translation.override(lang):
        return describe.cookie_duration_text(duration)


def _cookie(policy: Policy, cookie: Cookie, lang: str) -> dict:
    return {
        "name": cookie.name,
        "purpose": policy.text(cookie.purpose, lang),
        "duration": _duration(cookie.duration, lang),
        "third_party": cookie.third_party,
    }


_shown: dict[tuple[int, str], tuple[Policy, dict]] = {}


def shown_config(policy: Policy, lang: str) -> dict:
    """banner_config without the urls, kept per policy and language: the decision endpoint
    checks every post against it."""
    cached = _shown.get((id(policy), lang))
    if cached is None or cached[0] is not policy:
        if len(_shown) > 16:
            _shown.clear()
        cached = _shown[(id(policy), lang)] = (policy, banner_config(policy, lang, ""))
    return cached[1]


def banner_config(policy: Policy, lang: str, base_url: str) -> dict:
    """The banner's configuration for one language; `hash` identifies exactly what is shown."""
    lang = lang if lang in policy.languages else policy.languages[0]
    cookies = policy.cookies
    categories = []
    for c in cookies.category:
        categories.append(
            {
                "id": c.id,
                "name": policy.text(c.name, lang),
                "purpose": policy.text(c.purpose, lang),
                "required": c.required,
                "cookies": [_cookie(policy, k, lang) for k in c.cookie],
                "services": [
                    {
                        "id": s.id,
                        "name": s.name,
                        "provider": s.provider,
                        "cookies": [_cookie(policy, k, lang) for k in s.cookie],
                    }
                    for s in c.service
                ],
            }
        )
    shown = {
        "lang": lang,
        "text": banner_text(lang),
        "categories": categories,
        "revision": cookies.revision,
    }
    digest = hashlib.sha256(json.dumps(shown, sort_keys=True, ensure_ascii=False).encode())
    base = base_url.rstrip("/")
    return shown | {
        "policy": policy.revision,
        # A decision holds until `renewal`: the policy's duration in calendar terms, counted
        # from the day it was made in this time zone (not from today, and not in days).
        "renew": {
            "years": cookies.renew_after.years,
            "months": cookies.renew_after.months,
            "days": cookies.renew_after.days,
        },
        "time_zone": settings.TIME_ZONE,
        "hash": digest.hexdigest(),
        "endpoint": f"{base}/consent/decisions",
        "notice": f"{base}/privacy/?lang={lang}#cookies",
    }
