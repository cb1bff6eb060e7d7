"""Who looked at whose personal data (P22): admin pages of the customer register open only to
roles that may see personal fields, and every look, or refused attempt, is an evidence entry
naming the staff member and the records, never the data itself."""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils import timezone

from gallra.evidence import log
from gallra.staff.roles import PERSONAL_DATA

VIEWED = "personal_data_viewed"
REFUSED = "personal_data_refused"


def _customers(obj) -> list[str]:
    if getattr(obj, "record_type", "") == "customer":
        return [obj.ref]
    customer = getattr(obj, "customer", None)
    return [customer.ref] if customer is not None else []


def record(request: HttpRequest, action: str, record_type: str, objs: list) -> None:
    log.append(
        action,
        actor=request.user.get_username(),
        at=timezone.now(),
        record_type=record_type,
        refs=[str(getattr(o, "ref", o.pk)) for o in objs],
        customers=[c for o in objs for c in _customers(o)],
        data={"path": request.path},
    )


class PersonalDataAdmin(admin.ModelAdmin):
    """A model admin whose pages show personal fields.

    `list_is_personal = False` for a model whose list shows refs and dates only: then only
    the change page is guarded.
    """

    list_is_personal = True

    def _may_see(self, request: HttpRequest) -> bool:
        return request.user.has_perm(PERSONAL_DATA)

    def _record_type(self) -> str:
        return getattr(self.model, "record_type", self.model._meta.model_name)

    def _refuse(self, request: HttpRequest, object_id: str | None = None) -> None:
        objs = list(self.model.objects.filter(pk=object_id)) if object_id else []
        with_customer = [o for o in objs if hasattr(o, "customer_id")]
        for o in with_customer:
            o.customer  # noqa: B018 (loaded to name whose data it was)
        record(request, REFUSED, self._record_type(), objs)
        raise PermissionDenied

    def has_view_permission(self, request, obj=None):
        allowed = super().has_view_permission(request, obj)
        if obj is None and not self.list_is_personal:
            return allowed
        return allowed and self._may_see(request)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._may_see(request)

    def has_add_permission(self, request):
        # Typing personal data in is handling it too: the register is closed as a whole.
        return super().has_add_permission(request) and self._may_see(request)

    def changelist_view(self, request, extra_context=None):
        if self.list_is_personal and not self._may_see(request):
            self._refuse(request)
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", None) or {}
        if self.list_is_personal and "cl" in changelist:
            shown = list(changelist["cl"].result_list)
            if shown:
                record(request, VIEWED, self._record_type(), shown)
        return response

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if not self._may_see(request):
            self._refuse(request, object_id)
        response = super().change_view(request, object_id, form_url, extra_context)
        original = (getattr(response, "context_data", None) or {}).get("original")
        if request.method == "GET" and original is not None:
            record(request, VIEWED, self._record_type(), [original])
        return response

    def history_view(self, request, object_id, extra_context=None):
        if not self._may_see(request):
            self._refuse(request, object_id)
        return super().history_view(request, object_id, extra_context)

    def delete_view(self, request, object_id, extra_context=None):
        if not self._may_see(request):
            self._refuse(request, object_id)
        return super().delete_view(request, object_id, extra_context)
