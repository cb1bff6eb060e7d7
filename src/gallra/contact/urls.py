from django.urls import path

from gallra.contact import views

app_name = "contact"
urlpatterns = [path("", views.contact, name="contact")]
