from django.contrib import admin, messages
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gallra.evidence.admin import ReadOnlyAdmin
from gallra.policy.loading import PolicyError, current_policy
from gallra.retention.models import EnforcementRun, ManualTask
from gallra.retention.tasks import acknowledge


@admin.register(ManualTask)
class ManualTaskAdmin(admin.ModelAdmin):
    list_display = ["what", "customer_ref", "assignee", "due", "done_at"]
    list_filter = [("done_at", admin.EmptyFieldListFilter), "rule", "assignee"]
    search_fields = ["customer_ref"]
    date_hierarchy = "due"
    actions = ["mark_done"]
    readonly_fields = [
        "rule",
        "customer_ref",
        "assignee",
        "what",
        "created",
        "due",
        "done_at",
        "reminded",
    ]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Mark my selected tasks as done"))
    def mark_done(self, request, queryset):
        done = 0
        stands_in = _answers_for_who_left(request.user)
        for task in queryset.filter(done_at__isnull=True).select_related("assignee"):
            if task.assignee_id == request.user.pk or (stands_in and not task.assignee.is_active):
                acknowledge(task, request.user, timezone.now())
                done += 1
        skipped = queryset.count() - done
        self.message_user(request, _("Tasks marked as done: %(count)d") % {"count": done})
        if skipped:
            self.message_user(
                request,
                _(
                    "Only the person a task is assigned to can mark it as done, or, for someone "
                    "who has left, the accountable role (or it was done)."
                ),
                messages.WARNING,
            )


def _answers_for_who_left(user) -> bool:
    """The accountable role (and a superuser) closes the tasks of staff who have left, once
    their phone is handed back: nobody else can (docs/retention.md). The evidence entry
    names who did, and whose task it was."""
    if user.is_superuser:
        return True
    try:
        accountable = current_policy().organisation.accountable
    except (PolicyError, OSError):
        return False
    return user.groups.filter(name=accountable).exists()


@admin.register(EnforcementRun)
class EnforcementRunAdmin(ReadOnlyAdmin):
    list_display = ["at", "started", "finished", "actor", "due"]
    readonly_fields = ["at", "started", "finished", "actor", "due"]
