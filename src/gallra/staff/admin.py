"""Admin pages that rest on staff's roles and access rules (Django's autodiscovery finds them
here): the registry's, in admins/registry.py."""

from gallra.staff.admins import registry  # noqa: F401 (registers the registry's model admins)
