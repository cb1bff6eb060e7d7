"""Who answers for an area (P22): the staff in the Django group of the area's role."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from gallra.policy.model import Policy


def addresses_for(policy: Policy, area: str) -> list[str]:
    """E-mail addresses of the active staff holding the role `responsibilities[area]`, or,
    when the policy names none for the area, the accountable role."""
    role = policy.responsibilities.get(area, policy.organisation.accountable)
    users = get_user_model().objects.filter(is_active=True, groups__name=role).exclude(email="")
    return sorted({u.email for u in users})
