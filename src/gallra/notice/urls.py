from django.urls import path

from gallra.notice import views

app_name = "notice"
urlpatterns = [
    path("", views.notice, name="notice"),
    path("centre/", views.notice, name="centre"),  # replaced by the privacy centre (contact app)
]
