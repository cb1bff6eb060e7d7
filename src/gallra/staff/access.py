"""Who looked at whose personal data (P22): admin pages of the customer register open only to
roles that may see personal fields, and every look, or refused attempt, is an evidence entry
naming the staff member and the records, never the data itself.

Every admin page also goes through `PlainLookupsAdmin` (the admin site puts it in front of
each model admin, Django's own included): a role without personal data may filter, search and
sort only on plain fields (staff/plain.py), so that a list of refs cannot be made to answer
"does this person's name start with K?" one letter at a time.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib import admin
from django.contrib.admin.options import (
    IS_FACETS_VAR,
    IS_POPUP_VAR,
    TO_FIELD_VAR,
    IncorrectLookupParameters,
)
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.main import ALL_VAR, ERROR_FLAG, ORDER_VAR, PAGE_VAR, SEARCH_VAR
from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.db import DatabaseError, router, transaction
from django.db.models.constants import LOOKUP_SEP
from django.http import HttpRequest
from django.utils import timezone

from gallra.evidence import log
from gallra.policy.loading import current_policy
from gallra.staff.plain import personal_in, personal_in_ordering
from gallra.staff.roles import PERSONAL_DATA

VIEWED = "personal_data_viewed"
REFUSED = "personal_data_refused"

# Query-string parameters that filter nothing: the search (`q`, limited to plain fields by
# get_search_fields), the page, "show all", facets, popups and Django's error flag.
NOT_A_FILTER = {ALL_VAR, SEARCH_VAR, PAGE_VAR, ERROR_FLAG, IS_FACETS_VAR, IS_POPUP_VAR}


def _customers(obj) -> list[str]:
    if getattr(obj, "record_type", "") == "customer":
        return [obj.ref]
    customer = getattr(obj, "customer", None)
    return [customer.ref] if customer is not None else []


def record(
    request: HttpRequest,
    action: str,
    record_type: str,
    objs: list,
    *,
    refs: Iterable[str] | None = None,
    customers: Iterable[str] = (),
    fields: list[str] | None = None,
) -> None:
    """One evidence entry: who, which records (`refs`, by default each object's ref), whose
    data, and for a refused lookup the names of the fields it touched. Never a value."""
    data = {"path": request.path}
    if fields:
        data["fields"] = sorted(set(fields))
    log.append(
        action,
        actor=request.user.get_username(),
        at=timezone.now(),
        record_type=record_type,
        refs=[str(getattr(o, "ref", o.pk)) for o in objs] if refs is None else list(refs),
        customers=[*customers, *(c for o in objs for c in _customers(o))],
        data=data,
    )


def answers_for(request: HttpRequest, area: str) -> bool:
    """Whether the user holds the role the policy makes answer for `area` (P22); the
    accountable role where the policy names none."""
    cache = request.__dict__.setdefault("_gallra_areas", {})
    if area not in cache:
        policy = current_policy()
        role = policy.responsibilities.get(area, policy.organisation.accountable)
        cache[area] = request.user.groups.filter(name=role).exists()
    return cache[area]


class PlainLookupsAdmin(admin.ModelAdmin):
    """Filters, search and sorting on plain fields only, for a role without personal data.

    A lookup in the query string that touches a personal field (through relations, with any
    lookup or transform, in `o` or `_to_field`) is refused with 403 and recorded as
    `personal_data_refused` with the names of the fields, never what was typed. The search
    box searches the plain fields among `search_fields` only; filters and sorting on personal
    fields are not offered. A role that may see personal data is not limited.

    `personal_data_area`: the area (policy `[responsibilities]`) whose role also sees this
    admin's personal fields, as the logins area's role sees account names; for that role the
    fields of the admin's own model count as plain, those its relations lead to do not.
    """

    personal_data_area: str | None = None

    def may_see_personal_data(self, request: HttpRequest) -> bool:
        """Whether the personal fields of this admin's own model are shown to the user."""
        if request.user.has_perm(PERSONAL_DATA):
            return True
        return self.personal_data_area is not None and answers_for(request, self.personal_data_area)

    def record_type_name(self) -> str:
        """The registry's record type, else the model's name (`record_type` may be a field)."""
        record_type = getattr(self.model, "record_type", None)
        return record_type if isinstance(record_type, str) else self.model._meta.model_name

    def personal(self, request: HttpRequest, path: str) -> str | None:
        """The personal field `path` touches that the user may not ask about, as a label."""
        if request.user.has_perm(PERSONAL_DATA):
            return None
        seen = self.model if self.may_see_personal_data(request) else None
        return personal_in(self.model, path, seen)

    def get_search_fields(self, request):
        fields = super().get_search_fields(request)
        return [f for f in fields if self.personal(request, f.lstrip("^=@")) is None]

    def get_list_filter(self, request):
        return [
            f
            for f in super().get_list_filter(request)
            if (path := self._filter_path(f)) is None or self.personal(request, path) is None
        ]

    def get_sortable_by(self, request):
        sortable = super().get_sortable_by(request)
        return [n for n in sortable if not self._personal_in_column(request, n)]

    def lookup_allowed(self, lookup, value, request=None):
        if (
            request is not None
            and lookup not in self._simple_filters(request)
            and self.personal(request, lookup)
        ):
            return False
        return super().lookup_allowed(lookup, value, request)

    def to_field_allowed(self, request, to_field):
        return self.personal(request, to_field) is None and super().to_field_allowed(
            request, to_field
        )

    def get_changelist_instance(self, request):
        touched = self.personal_in_query(request)
        if touched:
            record(request, REFUSED, self.record_type_name(), [], fields=touched)
            raise PermissionDenied
        try:
            with transaction.atomic(using=router.db_for_read(self.model)):
                return super().get_changelist_instance(request)
        except (DatabaseError, TypeError, ValueError) as exc:
            # a value the database refuses (a broken regex) or cannot take (text for bytes):
            # Django's "invalid lookup" page, as for a value it refuses itself
            raise IncorrectLookupParameters(exc) from exc

    def personal_in_query(self, request: HttpRequest) -> list[str]:
        """The personal fields the list's query string filters or sorts on, as labels."""
        if request.user.has_perm(PERSONAL_DATA):
            return []
        simple = self._simple_filters(request)
        touched: list[str] = []
        for key in request.GET:  # the names only: a value is never looked at, never kept
            if key in NOT_A_FILTER or key in simple:
                continue
            if key == ORDER_VAR:
                touched += self._personal_in_order(request, request.GET[key])
            else:  # a lookup, or `_to_field`: the field a popup hands back
                path = request.GET[key] if key == TO_FIELD_VAR else key
                touched.append(self.personal(request, path) or "")
        return sorted({t for t in touched if t})

    def _simple_filters(self, request) -> set[str]:
        """The parameters of the list's own filter classes: code, not a field lookup."""
        return {
            f.parameter_name
            for f in super().get_list_filter(request)
            if isinstance(f, type) and issubclass(f, admin.SimpleListFilter)
        }

    @staticmethod
    def _filter_path(list_filter) -> str | None:
        if isinstance(list_filter, str):
            return list_filter
        if isinstance(list_filter, list | tuple):
            return list_filter[0] if isinstance(list_filter[0], str) else list_filter[0].name
        return None  # a filter class: its parameter is its own

    def _personal_in_order(self, request, order: str) -> list[str]:
        """`o=2.-5`: the columns (as Django counts them, after the action checkbox) sorted by."""
        columns = list(self.get_list_display(request))
        if self.get_actions(request):
            columns = ["action_checkbox", *columns]
        touched = []
        for part in order.split("."):
            _none, _pfx, idx = part.rpartition("-")
            try:
                column = columns[int(idx)]
            except (IndexError, ValueError):
                continue  # Django skips it too
            touched += self._personal_in_column(request, column)
        return touched

    def _personal_in_column(self, request, column) -> list[str]:
        order_field = self._order_field(column)
        if not order_field or request.user.has_perm(PERSONAL_DATA):
            return []
        seen = self.model if self.may_see_personal_data(request) else None
        return personal_in_ordering(self.model, order_field, seen)

    def _order_field(self, column):
        """What a list column sorts by, as Django's ChangeList.get_ordering_field finds it."""
        if isinstance(column, str):
            try:
                return self.model._meta.get_field(column).name
            except FieldDoesNotExist:
                pass
        if callable(column):
            attr = column
        elif hasattr(self, column):
            attr = getattr(self, column)
        elif LOOKUP_SEP in column and not hasattr(self.model, column):
            return column
        else:
            attr = getattr(self.model, column, None)
        if isinstance(attr, property):
            attr = attr.fget
        return getattr(attr, "admin_order_field", None)


def guarded(admin_class: type[admin.ModelAdmin]) -> type[admin.ModelAdmin]:
    """`admin_class` with PlainLookupsAdmin in front (the admin site registers this)."""
    if issubclass(admin_class, PlainLookupsAdmin):
        return admin_class
    attrs = {
        "__module__": admin_class.__module__,
        "__doc__": admin_class.__doc__,
        "personal_data_area": getattr(admin_class, "personal_data_area", None),
    }
    return type(admin_class.__name__, (PlainLookupsAdmin, admin_class), attrs)


class PersonalDataAdmin(PlainLookupsAdmin):
    """A model admin whose pages show personal fields.

    `list_is_personal = False` for a model whose list shows refs and dates only: then only
    the change page is guarded.
    """

    list_is_personal = True

    def _refuse(self, request: HttpRequest, object_id: str | None = None) -> None:
        obj = self.get_object(request, unquote(object_id)) if object_id else None
        objs = [obj] if obj is not None else []  # a malformed id names no record
        with_customer = [o for o in objs if hasattr(o, "customer_id")]
        for o in with_customer:
            o.customer  # noqa: B018 (loaded to name whose data it was)
        record(request, REFUSED, self.record_type_name(), objs)
        raise PermissionDenied

    def has_view_permission(self, request, obj=None):
        allowed = super().has_view_permission(request, obj)
        if obj is None and not self.list_is_personal:
            return allowed
        return allowed and self.may_see_personal_data(request)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self.may_see_personal_data(request)

    def has_add_permission(self, request):
        # Typing personal data in is handling it too: the register is closed as a whole.
        return super().has_add_permission(request) and self.may_see_personal_data(request)

    def changelist_view(self, request, extra_context=None):
        if self.list_is_personal and not self.may_see_personal_data(request):
            self._refuse(request)
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", None) or {}
        if self.list_is_personal and "cl" in changelist:
            shown = list(changelist["cl"].result_list)
            if shown:
                record(request, VIEWED, self.record_type_name(), shown)
        return response

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if not self.may_see_personal_data(request):
            self._refuse(request, object_id)
        response = super().change_view(request, object_id, form_url, extra_context)
        original = (getattr(response, "context_data", None) or {}).get("original")
        if request.method == "GET" and original is not None:
            record(request, VIEWED, self.record_type_name(), [original])
        return response

    def history_view(self, request, object_id, extra_context=None):
        if not self.may_see_personal_data(request):
            self._refuse(request, object_id)
        return super().history_view(request, object_id, extra_context)

    def delete_view(self, request, object_id, extra_context=None):
        if not self.may_see_personal_data(request):
            self._refuse(request, object_id)
        return super().delete_view(request, object_id, extra_context)
