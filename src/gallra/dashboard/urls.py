from django.contrib import admin
from django.urls import path

from gallra.dashboard import views

app_name = "dashboard"
urlpatterns = [path("plan/", admin.site.admin_view(views.planned), name="plan")]
