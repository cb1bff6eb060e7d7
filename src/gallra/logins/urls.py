from django.urls import path

from gallra.logins import views

app_name = "logins"
urlpatterns = [path("events", views.events, name="events")]
