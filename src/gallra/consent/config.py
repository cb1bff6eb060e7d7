"""What the banner shows and how long a choice holds, from the policy's [cookies] table."""

from __future__ import annotations

import hashlib
import json
from datetime import date

from gallra.consent.texts import TEXT
from gallra.policy import words
from gallra.policy.model import Cookie, Policy


def _cookie(policy: Policy, cookie: Cookie, lang: str) -> dict:
    return {"name": cookie.name, "purpose": policy.text(cookie.purpose, lang),
            "duration": words.duration_words(cookie.duration, lang),
            "third_party": cookie.third_party}  # fmt: skip


def banner_config(policy: Policy, lang: str, base_url: str) -> dict:
    """The banner's configuration for one language; `hash` identifies exactly what is shown."""
    lang = lang if lang in policy.languages else policy.languages[0]
    cookies = policy.cookies
    categories = []
    for c in cookies.category:
        categories.append({
            "id": c.id, "name": policy.text(c.name, lang),
            "purpose": policy.text(c.purpose, lang), "required": c.required,
            "cookies": [_cookie(policy, k, lang) for k in c.cookie],
            "services": [{"id": s.id, "name": s.name, "provider": s.provider,
                          "cookies": [_cookie(policy, k, lang) for k in s.cookie]}
                         for s in c.service],
        })  # fmt: skip
    today = date.today()
    shown = {"lang": lang, "text": TEXT[lang], "categories": categories,
             "revision": cookies.revision}  # fmt: skip
    digest = hashlib.sha256(json.dumps(shown, sort_keys=True, ensure_ascii=False).encode())
    base = base_url.rstrip("/")
    return shown | {
        "policy": policy.revision,
        "renew_days": (cookies.renew_after.after(today) - today).days,
        "hash": digest.hexdigest(),
        "endpoint": f"{base}/consent/decisions",
        "notice": f"{base}/privacy/?lang={lang}#cookies",
    }
