from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

admin.site.site_header = "gallra"
admin.site.site_title = "gallra"

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/", admin.site.urls),
    path("subject/", include("gallra.subjects.urls")),
    path("privacy/", include("gallra.notice.urls")),
    path("contact/", include("gallra.contact.urls")),
    path("consent/", include("gallra.consent.urls")),
    path("logins/", include("gallra.logins.urls")),
]
