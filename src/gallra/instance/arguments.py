"""Command-line values several commands read the same way."""

from __future__ import annotations

from datetime import datetime

from django.core.management.base import CommandError
from django.utils import timezone


def local_time(text: str) -> datetime:
    """An ISO time as staff type it: with an offset, or else in Stockholm time (TIME_ZONE)."""
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise CommandError(
            f"{text!r} is not a time (YYYY-MM-DDTHH:MM, with an offset or in Stockholm time)",
            returncode=2,
        ) from None
    return at if at.tzinfo else at.replace(tzinfo=timezone.get_default_timezone())
