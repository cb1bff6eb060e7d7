"""Command-line values several commands read the same way."""

from __future__ import annotations

from datetime import UTC, datetime

from django.core.management.base import CommandError
from django.utils import timezone


def local_time(text: str) -> datetime:
    """An ISO time as staff type it: with an offset, or else in Stockholm time (TIME_ZONE).

    Returned in UTC, so that arithmetic on it counts real hours across the clock changes.
    A Stockholm time without an offset must name one instant: the hour the clocks skip in
    March (02:00-03:00 on the last Sunday) does not exist, and the hour they repeat in October
    happens twice, so both are refused, naming the offsets that make them exact.
    """
    try:
        return _instant(text)
    except OverflowError:  # year 1 in Stockholm, or year 9999 west of Greenwich
        raise CommandError(f"{text!r} is out of range", returncode=2) from None


def _instant(text: str) -> datetime:
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise CommandError(
            f"{text!r} is not a time (YYYY-MM-DDTHH:MM, with an offset or in Stockholm time)",
            returncode=2,
        ) from None
    if at.tzinfo is not None:
        return at.astimezone(UTC)
    zone = timezone.get_default_timezone()
    first, second = at.replace(tzinfo=zone, fold=0), at.replace(tzinfo=zone, fold=1)
    if first.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != at:
        raise CommandError(
            f"{text!r} does not exist in Stockholm time: the clocks went forward an hour that "
            f"night. Give the offset ({_offset(first)} or {_offset(second)}), or a time the "
            f"clocks showed",
            returncode=2,
        )
    if first.utcoffset() != second.utcoffset():
        raise CommandError(
            f"{text!r} happens twice in Stockholm time: the clocks went back that night. Give "
            f"the offset: {at.isoformat()}{_offset(first)} (the first time) or "
            f"{at.isoformat()}{_offset(second)} (the second)",
            returncode=2,
        )
    return first.astimezone(UTC)


def _offset(at: datetime) -> str:
    return at.isoformat()[-6:]
