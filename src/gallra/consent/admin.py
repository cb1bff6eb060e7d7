from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from gallra.consent.config import renewal
from gallra.consent.models import ConsentDecision
from gallra.policy.loading import current_policy


@admin.register(ConsentDecision)
class ConsentDecisionAdmin(admin.ModelAdmin):
    """Proof, read-only: a visitor who shows their consent id finds their decisions here."""

    list_display = ["at", "consent_id", "action", "banner_revision", "locale", "asked_again"]
    list_filter = ["action", "banner_revision", "locale"]
    search_fields = ["consent_id"]
    readonly_fields = [f.name for f in ConsentDecision._meta.fields] + ["asked_again"]

    @admin.display(description=_("asked again from"))
    def asked_again(self, obj: ConsentDecision):
        """When the banner asks this visitor again at the latest (sooner if the policy's
        cookie revision changes): the same moment banner.js computes."""
        return renewal(obj.at, current_policy().cookies.renew_after)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return request.method in ("GET", "HEAD")

    def has_delete_permission(self, request, obj=None):
        return False
