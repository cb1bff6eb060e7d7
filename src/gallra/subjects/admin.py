"""Requests in the admin: open ones by deadline, overdue first; buttons to send the
verification link, export, erase and print the certificate. Export and erasure run as jobs
(gallra/background.py), never in the request: the page says so and shows the outcome."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from gallra import background
from gallra.policy.loading import current_policy
from gallra.staff.access import PersonalDataAdmin
from gallra.subjects import cases, changes, erasure, export
from gallra.subjects.identity import BadIdentity, Identity
from gallra.subjects.models import ExportFile, StoreStep, SubjectRequest


class StoreStepInline(admin.TabularInline):
    model = StoreStep
    extra = 0
    fields = ["store", "status", "detail", "at"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class SubjectRequestForm(forms.ModelForm):
    class Meta:
        model = SubjectRequest
        fields = [
            "kind",
            "email",
            "name",
            "username",
            "personnummer",
            "received",
            "change_field",
            "change_value",
            "category",
        ]

    def clean(self):
        data = super().clean()
        try:
            identity = Identity.of(
                data.get("email") or "",
                data.get("name") or "",
                data.get("username") or "",
                data.get("personnummer") or "",
            )
        except BadIdentity as exc:
            raise forms.ValidationError(str(exc)) from exc
        data["identity"] = identity
        return data


@admin.register(SubjectRequest)
class SubjectRequestAdmin(PersonalDataAdmin):
    list_is_personal = False  # refs, kinds and deadlines only
    list_display = ["ref", "kind", "status", "received", "due", "overdue"]
    list_filter = ["status", "kind"]
    search_fields = ["ref", "email"]
    inlines = [StoreStepInline]
    change_form_template = "admin/subjects/subjectrequest/change_form.html"

    def get_queryset(self, request):
        return cases.open_by_deadline()

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    def get_ordering(self, request):
        # open first, earliest deadline (overdue) first; refs are random, so ties by receipt
        return ["closed_rank", "due", "received", "pk"]

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = SubjectRequestForm
        return super().get_form(request, obj, **kwargs)

    EDITABLE = ("change_field", "change_value", "category", "note")

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        editable = self.EDITABLE if obj.is_open else ()
        return [f.name for f in SubjectRequest._meta.fields if f.name not in editable]

    @admin.display(description=_("overdue"), boolean=True)
    def overdue(self, obj):
        return obj.is_overdue()

    def save_model(self, request, obj, form, change):
        if change:  # only what staff complete on an open request: the field, the category
            if obj.is_open:
                obj.save(update_fields=[f for f in self.EDITABLE if f in form.changed_data])
            return
        data = form.cleaned_data
        try:
            created = cases.open_request(
                data["kind"],
                data["identity"],
                received=data["received"],
                now=timezone.now(),
                actor=request.user.get_username(),
                change_field=data.get("change_field", ""),
                change_value=data.get("change_value", ""),
                category=data.get("category", ""),
            )
        except cases.CaseError as exc:
            raise forms.ValidationError(exc.translated()) from exc
        obj.pk = created.pk
        obj.ref = created.ref

    def has_delete_permission(self, request, obj=None):
        return False  # a request is proof that it was answered

    def get_urls(self):
        own = [
            path(
                "<int:pk>/do/<str:what>/",
                self.admin_site.admin_view(require_POST(self.do)),
                name="subjects_subjectrequest_do",
            ),
        ]
        return own + super().get_urls()

    def do(self, request, pk: int, what: str):
        """The buttons of the change page. Each is a POST; the outcome is a message."""
        if not self.has_change_permission(request):  # includes the personal-data grant
            self._refuse(request, str(pk))
        obj = get_object_or_404(SubjectRequest, pk=pk)
        back = HttpResponseRedirect(reverse("admin:subjects_subjectrequest_change", args=[pk]))
        policy, now = current_policy(), timezone.now()
        actor = request.user.get_username()
        lang = "en" if request.LANGUAGE_CODE == "en" else "sv"
        try:
            if what == "send_link":
                link = cases.send_link(policy, obj, now=now, actor=actor, lang=lang)
                queued = _("Link to %(to)s queued: the outbox sends it shortly (docs/mail.md).")
                self.message_user(request, queued % {"to": link.sent_to})
            elif what == "verify":
                how = request.POST.get("how", "")
                cases.verify_by_staff(obj, how, actor, now=now)
                self.message_user(request, _("Identity verified"))
            elif what == "export":  # a job makes the ZIP; the page then offers it
                self._verified(obj)
                export.refuse_if_restricted(obj)
                background.start(
                    "subject_export", str(obj.pk), request_id=obj.pk, actor=actor, lang=lang
                )
                self.message_user(
                    request,
                    _(
                        "The export is being made. Reload this page in a moment to download "
                        "it; it is kept for %(days)s days."
                    )
                    % {"days": ExportFile.KEPT.days},
                )
            elif what == "download":
                data = export.kept_zip(obj)
                if data is None:
                    raise cases.CaseError(_("No export is kept for this request."))
                cases.note("subject.export_downloaded", obj, actor=actor, at=now)
                response = HttpResponse(data, content_type="application/zip")
                response["Content-Disposition"] = f'attachment; filename="{obj.ref}.zip"'
                return response
            elif what == "erase":  # a job erases, store by store; the page shows the outcome
                self._verified(obj)
                background.start("subject_erasure", str(obj.pk), request_id=obj.pk, actor=actor)
                self.message_user(
                    request,
                    _("The erasure is running. Reload this page to see its outcome."),
                )
            elif what == "certificate":
                return HttpResponse(erasure.certificate_html(obj, policy, lang))
            elif what in ("rectify", "restrict", "object"):
                self._verified(obj)
                run = {
                    "rectify": lambda: changes.rectify(policy, obj, now=now, actor=actor),
                    "restrict": lambda: changes.restrict(
                        obj, now=now, actor=actor, at=timezone.localdate()
                    ),
                    "object": lambda: changes.object_to(
                        policy, obj, now=now, actor=actor, at=timezone.localdate()
                    ),
                }
                run[what]()
                self.message_user(request, obj.get_status_display())
            else:
                return HttpResponse(status=404)
        except cases.CaseError as exc:
            self.message_user(request, exc.translated(), messages.ERROR)
        except export.ExportIncomplete as exc:
            self.message_user(request, str(exc), messages.ERROR)
        return back

    @staticmethod
    def _verified(obj: SubjectRequest) -> None:
        if not obj.is_verified:
            raise cases.CaseError(
                _("The identity is not verified yet: nothing is released or erased before it is.")
            )

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context["actions_for_kind"] = _buttons(obj)
        return super().render_change_form(request, context, add, change, form_url, obj)


def _buttons(obj: SubjectRequest) -> list[tuple[str, str]]:
    if obj.status == "done":
        if obj.kind == "erasure":
            return [("certificate", _("Erasure certificate"))]
        kept = ExportFile.objects.filter(request=obj, made__gte=timezone.now() - ExportFile.KEPT)
        return [("download", _("Download the export (ZIP)"))] if kept.exists() else []
    buttons = [] if obj.is_verified else [("send_link", _("Send verification link"))]
    do = {
        "access": ("export", _("Export (ZIP)")),
        "portability": ("export", _("Export (ZIP)")),
        "erasure": ("erase", _("Erase everywhere")),
        "rectification": ("rectify", _("Rectify")),
        "restriction": ("restrict", _("Restrict")),
        "objection": ("object", _("Record objection")),
    }
    if obj.is_verified:
        buttons.append(do[obj.kind])
    return buttons
