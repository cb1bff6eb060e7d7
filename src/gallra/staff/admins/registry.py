"""The registry in Django's admin, in Swedish (the default) and English.

Here in staff, not in the registry: the pages rest on staff's roles and its record of who
looked at what (access.py), and the registry, a layer below, imports nothing of staff
(README, Layers). The admin URLs are the registry's all the same (/admin/registry/...).

What a customer entrusts to the provider stays sealed here too: a credential's secret and a
technical document's content are never shown, in clear or as ciphertext. Staff may only set a
new value, which is sealed under the customer's key on save. A customer's wrapped key is never
shown at all.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db.models import Count, F, Max, Q
from django.db.models.functions import Length
from django.template.defaultfilters import filesizeformat
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from gallra.registry.models import (
    BY_RECORD_TYPE,
    Account,
    Agreement,
    Correspondence,
    Credential,
    Customer,
    CustomerRequest,
    Hold,
    Invoice,
    Person,
    Prospect,
    Quote,
    TechnicalDocument,
)
from gallra.staff.access import PersonalDataAdmin
from gallra.staff.roles import LIFT_LEGAL_HOLD

SEALED_PLACEHOLDER = _("•••••• (encrypted)")


def _customer_moved_error(form: forms.ModelForm, replacement: str) -> None:
    """A sealed value opens only under its own customer's key: moving it needs a new value."""
    if (
        form.instance.pk
        and "customer" in form.changed_data
        and not form.cleaned_data.get(replacement)
    ):
        form.add_error(
            replacement,
            _(
                "The stored value is encrypted with the previous customer's key. "
                "Enter it again when moving it to another customer."
            ),
        )


# --- customers, agreements, people -----------------------------------------------------------


class AgreementInline(admin.TabularInline):
    model = Agreement
    fields = ("ref", "start", "end")
    extra = 0
    show_change_link = True


class PersonInline(admin.TabularInline):
    model = Person
    fields = (
        *("ref", "first_name", "last_name", "email", "mobile"),
        *("is_user", "is_contact", "is_billing_contact"),
    )
    extra = 0
    show_change_link = True


class CustomerStatusFilter(admin.SimpleListFilter):
    title = _("status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [
            ("active", _("active")),
            ("ended", _("ended")),
            ("none", _("no agreement")),
        ]

    def queryset(self, request, queryset):
        if self.value() == "active":
            return queryset.filter(open_agreements__gt=0)
        if self.value() == "ended":
            return queryset.filter(open_agreements=0, agreement_count__gt=0)
        if self.value() == "none":
            return queryset.filter(agreement_count=0)
        return queryset


@admin.register(Customer)
class CustomerAdmin(PersonalDataAdmin):
    list_display = ("ref", "name", "kind", "org_number", "status", "created_at")
    list_display_links = ("ref", "name")
    search_fields = (
        *("ref", "name", "org_number"),
        *("people__first_name", "people__last_name", "people__email"),
    )
    list_filter = (CustomerStatusFilter, "kind", "created_at")
    date_hierarchy = "created_at"
    fields = ("ref", "kind", "name", "org_number", "created_at", "updated_at")
    readonly_fields = ("created_at", "updated_at")
    inlines = (AgreementInline, PersonInline)

    def get_queryset(self, request):
        today = timezone.localdate()
        return (
            super()
            .get_queryset(request)
            .annotate(
                agreement_count=Count("agreements"),
                open_agreements=Count(
                    "agreements",
                    filter=Q(agreements__end__isnull=True) | Q(agreements__end__gte=today),
                ),
                last_end=Max("agreements__end"),
            )
        )

    def get_readonly_fields(self, request, obj=None):
        # The customer's key and everything sealed under it are bound to its ref: changing
        # the ref afterwards would make its documents and credentials unreadable.
        if obj is not None:
            return ("ref", *self.readonly_fields)
        return self.readonly_fields

    @admin.display(description=_("status"), ordering="open_agreements")
    def status(self, obj: Customer) -> str:
        if getattr(obj, "agreement_count", 0) == 0:
            return _("no agreement")
        if obj.open_agreements:
            return _("active")
        return _("ended %(date)s") % {
            "date": formats.date_format(obj.last_end, "SHORT_DATE_FORMAT")
        }


@admin.register(Agreement)
class AgreementAdmin(PersonalDataAdmin):
    list_display = ("ref", "customer", "start", "end")
    list_select_related = ("customer",)
    search_fields = ("ref", "customer__ref", "customer__name", "customer__org_number")
    list_filter = ("start", "end")
    date_hierarchy = "start"
    autocomplete_fields = ("customer",)
    readonly_fields = ("created_at", "updated_at")


@admin.register(Person)
class PersonAdmin(PersonalDataAdmin):
    list_display = (
        *("ref", "first_name", "last_name", "email", "mobile", "customer"),
        *("is_user", "is_contact", "is_billing_contact"),
    )
    list_display_links = ("ref", "first_name", "last_name")
    list_select_related = ("customer",)
    search_fields = (
        *("ref", "first_name", "last_name", "email", "mobile"),
        *("customer__ref", "customer__name", "customer__org_number"),
    )
    list_filter = ("is_user", "is_contact", "is_billing_contact", "created_at")
    autocomplete_fields = ("customer",)
    readonly_fields = ("created_at", "updated_at")


@admin.register(Account)
class AccountAdmin(PersonalDataAdmin):
    list_display = ("ref", "username", "person", "home", "opened", "closed")
    list_display_links = ("ref", "username")
    list_select_related = ("person",)
    search_fields = (
        *("ref", "username", "home"),
        *("person__ref", "person__first_name", "person__last_name", "person__email"),
        *("person__customer__ref", "person__customer__name"),
    )
    list_filter = ("opened", "closed")
    date_hierarchy = "opened"
    autocomplete_fields = ("person",)
    readonly_fields = ("created_at", "updated_at")


@admin.register(CustomerRequest)
class CustomerRequestAdmin(PersonalDataAdmin):
    list_display = ("ref", "kind", "customer", "created")
    list_select_related = ("customer",)
    search_fields = ("ref", "customer__ref", "customer__name", "customer__org_number")
    list_filter = ("kind", "created")
    date_hierarchy = "created"
    autocomplete_fields = ("customer",)
    readonly_fields = ("created_at", "updated_at")


# --- sealed records: technical documents and credentials -------------------------------------


class TechnicalDocumentForm(forms.ModelForm):
    new_content = forms.CharField(
        label=_("new content"),
        widget=forms.Textarea,
        required=False,
        strip=False,
        help_text=_(
            "Stored encrypted with the customer's key and never shown again. "
            "Leave empty to keep the current content."
        ),
    )
    upload = forms.FileField(
        label=_("or upload a file"),
        required=False,
        help_text=_("Replaces the content with the file's bytes, encrypted the same way."),
    )

    class Meta:
        model = TechnicalDocument
        fields = ("ref", "customer", "title", "created")

    def clean(self):
        cleaned = super().clean()
        text, upload = cleaned.get("new_content"), cleaned.get("upload")
        if text and upload:
            raise forms.ValidationError(_("Enter the content as text or upload a file, not both."))
        if upload:
            cleaned["new_content"] = upload.read()
        if not self.instance.pk and not cleaned.get("new_content"):
            self.add_error("new_content", _("A new document needs content."))
        _customer_moved_error(self, "new_content")
        return cleaned


@admin.register(TechnicalDocument)
class TechnicalDocumentAdmin(PersonalDataAdmin):
    form = TechnicalDocumentForm
    list_display = ("ref", "title", "customer", "created", "content_size")
    list_display_links = ("ref", "title")
    list_select_related = ("customer",)
    search_fields = ("ref", "title", "customer__ref", "customer__name", "customer__org_number")
    list_filter = ("created",)
    date_hierarchy = "created"
    autocomplete_fields = ("customer",)
    fields = (
        *("ref", "customer", "title", "created", "content_size", "new_content", "upload"),
        *("created_at", "updated_at"),
    )
    readonly_fields = ("content_size", "created_at", "updated_at")

    def get_queryset(self, request):
        # The content is never read here: only its size, counted by the database.
        return (
            super().get_queryset(request).defer("content").annotate(sealed_size=Length("content"))
        )

    @admin.display(description=_("size (encrypted)"), ordering="sealed_size")
    def content_size(self, obj: TechnicalDocument) -> str:
        size = getattr(obj, "sealed_size", None)
        if size is None:
            size = len(obj.content or b"") if obj.pk else 0
        return filesizeformat(size) if size else "—"

    def save_model(self, request, obj, form, change):
        content = form.cleaned_data.get("new_content")
        if content:
            obj.content = obj.customer.seal(content)
        super().save_model(request, obj, form, change)


class CredentialForm(forms.ModelForm):
    new_secret = forms.CharField(
        label=_("new password"),
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        required=False,
        strip=False,
        help_text=_(
            "Stored encrypted with the customer's key and never shown again. "
            "Leave empty to keep the current password."
        ),
    )

    class Meta:
        model = Credential
        fields = ("ref", "customer", "account", "system", "username", "created")

    def clean(self):
        cleaned = super().clean()
        if not self.instance.pk and not cleaned.get("new_secret"):
            self.add_error("new_secret", _("A new credential needs a password."))
        customer, account = cleaned.get("customer"), cleaned.get("account")
        if customer and account and account.person.customer_id != customer.pk:
            self.add_error("account", _("The user account belongs to another customer."))
        _customer_moved_error(self, "new_secret")
        return cleaned


@admin.register(Credential)
class CredentialAdmin(PersonalDataAdmin):
    form = CredentialForm
    list_display = ("ref", "system", "username", "customer", "account", "created", "secret_shown")
    list_display_links = ("ref", "system")
    list_select_related = ("customer", "account")
    search_fields = (
        *("ref", "system", "username"),
        *("customer__ref", "customer__name", "customer__org_number", "account__username"),
    )
    list_filter = ("created",)
    date_hierarchy = "created"
    autocomplete_fields = ("customer", "account")
    fields = (
        *("ref", "customer", "account", "system", "username", "created"),
        *("secret_shown", "new_secret", "created_at", "updated_at"),
    )
    readonly_fields = ("secret_shown", "created_at", "updated_at")

    def get_queryset(self, request):
        # The secret is never read here: only whether one is stored.
        return super().get_queryset(request).defer("secret").annotate(sealed_size=Length("secret"))

    @admin.display(description=_("password"))
    def secret_shown(self, obj: Credential) -> str:
        size = getattr(obj, "sealed_size", None)
        if size is None:
            size = len(obj.secret or b"") if obj.pk else 0
        return SEALED_PLACEHOLDER if size else "—"

    def save_model(self, request, obj, form, change):
        secret = form.cleaned_data.get("new_secret")
        if secret:
            obj.secret = obj.customer.seal(secret)
        super().save_model(request, obj, form, change)


# --- accounting and sales ----------------------------------------------------------------------


@admin.register(Invoice)
class InvoiceAdmin(PersonalDataAdmin):
    list_display = (
        *("ref", "number", "issued", "buyer_name", "customer"),
        *("amount", "currency", "fiscal_year_end"),
    )
    list_display_links = ("ref", "number")
    list_select_related = ("customer",)
    search_fields = (
        *("ref", "number", "buyer_name"),
        *("customer__ref", "customer__name", "customer__org_number"),
        *("billing_contact__email", "billing_contact__first_name", "billing_contact__last_name"),
    )
    list_filter = ("issued", "fiscal_year_end", "currency")
    date_hierarchy = "issued"
    autocomplete_fields = ("customer", "billing_contact")
    readonly_fields = ("created_at", "updated_at")


@admin.register(Prospect)
class ProspectAdmin(PersonalDataAdmin):
    list_display = ("ref", "name", "email", "created", "last_activity")
    list_display_links = ("ref", "name")
    search_fields = ("ref", "name", "email")
    list_filter = ("created", "last_activity")
    date_hierarchy = "created"
    readonly_fields = ("created_at", "updated_at")


@admin.register(Quote)
class QuoteAdmin(PersonalDataAdmin):
    list_display = ("ref", "prospect", "customer", "created", "last_activity")
    list_select_related = ("prospect", "customer")
    search_fields = (
        *("ref", "prospect__ref", "prospect__name", "prospect__email"),
        *("customer__ref", "customer__name", "customer__org_number"),
    )
    list_filter = ("created", "last_activity")
    date_hierarchy = "created"
    autocomplete_fields = ("prospect", "customer")
    readonly_fields = ("created_at", "updated_at")


@admin.register(Correspondence)
class CorrespondenceAdmin(PersonalDataAdmin):
    list_display = ("ref", "received", "sender", "subject", "customer", "prospect", "last_activity")
    list_select_related = ("customer", "prospect")
    search_fields = (
        *("ref", "sender", "subject"),
        *("customer__ref", "customer__name", "prospect__ref", "prospect__name", "prospect__email"),
    )
    list_filter = ("received", "last_activity")
    date_hierarchy = "received"
    autocomplete_fields = ("customer", "prospect")
    readonly_fields = ("created_at", "updated_at")


# --- holds -------------------------------------------------------------------------------------


def _record_type_choices() -> list[tuple[str, str]]:
    return [(t, m._meta.verbose_name) for t, m in BY_RECORD_TYPE.items()]


class HoldForm(forms.ModelForm):
    target_type = forms.ChoiceField(label=_("record type"), choices=_record_type_choices)

    class Meta:
        model = Hold
        fields = ("ref", "target_type", "target_ref", "reason", "until", "note")

    def clean(self):
        cleaned = super().clean()
        target_type, target_ref = cleaned.get("target_type"), cleaned.get("target_ref")
        changed = {"target_type", "target_ref"} & set(self.changed_data)
        if target_type and target_ref and changed:
            model = BY_RECORD_TYPE[target_type]
            if not model.objects.filter(ref=target_ref).exists():
                self.add_error(
                    "target_ref",
                    _("There is no %(type)s with reference %(ref)s.")
                    % {"type": model._meta.verbose_name, "ref": target_ref},
                )
        return cleaned


@admin.register(Hold)
class HoldAdmin(admin.ModelAdmin):
    form = HoldForm
    list_display = ("ref", "target_type", "target_ref", "reason", "until")
    search_fields = ("ref", "target_type", "target_ref", "note")
    list_filter = ("reason", "target_type", "until")
    date_hierarchy = "until"
    # Soonest first; holds without an end date last, as they run until lifted.
    ordering = (F("until").asc(nulls_last=True), "ref")
    readonly_fields = ("created_at", "updated_at")

    # P22: only the accountable role lifts a legal hold, or shortens or changes it.
    def _legal_and_not_allowed(self, request, obj) -> bool:
        return (
            obj is not None
            and obj.reason == Hold.Reason.LEGAL
            and not request.user.has_perm(LIFT_LEGAL_HOLD)
        )

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        return allowed and not self._legal_and_not_allowed(request, obj)

    def has_delete_permission(self, request, obj=None):
        allowed = super().has_delete_permission(request, obj)
        return allowed and not self._legal_and_not_allowed(request, obj)
