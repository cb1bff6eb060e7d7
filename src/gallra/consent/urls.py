from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from gallra.consent import demo, views

app_name = "consent"
urlpatterns = [
    path("config", views.config, name="config"),
    path("decisions", views.decisions, name="decisions"),
    path("demo/", demo.page, name="demo"),
    path("demo/script/<str:name>.js", demo.script, name="demo-script"),
    path("demo/video/", demo.video, name="demo-video"),
    path("demo/log", csrf_exempt(demo.log), name="demo-log"),
]
