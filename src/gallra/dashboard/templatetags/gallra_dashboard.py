"""The dashboard on the admin's front page (templates/admin/index.html)."""

from __future__ import annotations

from django import template
from django.utils import timezone

from gallra.dashboard.panels import dashboard as panels

register = template.Library()


@register.inclusion_tag("dashboard/dashboard.html")
def dashboard() -> dict:
    return panels(timezone.now(), timezone.localdate())
