from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from gallra.api.v1 import api
from gallra.staff.views import staff_login

admin.site.site_header = "gallra"
admin.site.login = staff_login  # P8: password, one-time code, throttling (staff/views.py)
admin.site.site_title = "gallra"

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/dashboard/", include("gallra.dashboard.urls")),
    path("admin/", admin.site.urls),
    path("subject/", include("gallra.subjects.urls")),
    path("privacy/", include("gallra.notice.urls")),
    path("contact/", include("gallra.contact.urls")),
    path("consent/", include("gallra.consent.urls")),
    path("logins/", include("gallra.logins.urls")),
    path("api/v1/", api.urls),
]
