from django.urls import path, re_path

from . import views

app_name = "sync"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("retry-all/", views.retry_all, name="retry-all"),
    path("resume/", views.resume, name="resume"),
    path("log/", views.attempt_list, name="attempt-list"),
    re_path(r"^log/export\.(?P<format>csv|json)$", views.attempt_export, name="attempt-export"),
    path("<str:resource>/<uuid:pk>/retry/", views.retry, name="retry"),
    path("<str:resource>/<uuid:pk>/refresh/", views.refresh, name="refresh"),
    path("<str:resource>/<uuid:pk>/resolve/", views.resolve, name="resolve"),
]
