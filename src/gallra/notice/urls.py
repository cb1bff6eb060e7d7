from django.urls import path

from gallra.contact.views import centre
from gallra.notice import views

app_name = "notice"
urlpatterns = [
    path("", views.notice, name="notice"),
    path("centre/", centre, name="centre"),
]
