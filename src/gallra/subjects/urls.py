from django.urls import path

from gallra.subjects import views

app_name = "subjects"
urlpatterns = [path("verify/<str:token>/", views.verify, name="verify")]
