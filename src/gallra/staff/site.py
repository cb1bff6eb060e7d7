"""gallra's admin site: Django's, except that every model admin registered on it, Django's own
(users, groups) included, gets PlainLookupsAdmin in front (staff/access.py), so no admin page
can be asked about personal fields by a role that may not see them (P22)."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig


class AdminSite(admin.AdminSite):
    def register(self, model_or_iterable, admin_class=None, **options):
        from gallra.staff.access import guarded  # models are loaded by the time admins register

        super().register(model_or_iterable, guarded(admin_class or admin.ModelAdmin), **options)


class AdminConfig(DjangoAdminConfig):
    """`django.contrib.admin` with this site as `admin.site` (INSTALLED_APPS names this)."""

    default_site = "gallra.staff.site.AdminSite"
