from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import HttpResponse
from django.urls import include, path
from django.views.decorators.http import require_GET

from backoffice import dashboard as views
from backoffice.health import healthz


@require_GET
def favicon(request):
    """No icon: our pages say so with an empty one, but the admin's ask for /favicon.ico (a 404 in their console)."""
    return HttpResponse(status=204)


urlpatterns = [
    path("favicon.ico", favicon, name="favicon"),
    path("", views.dashboard, name="dashboard"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("customers/", include("customers.urls")),
    path("", include("customers.tax_ids.urls")),
    path("", include("backoffice.imports.urls")),  # before contacts/ and catalogs/: their import pages
    path("contacts/", include("contacts.urls")),
    path("catalogs/", include("catalogs.urls")),
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("sync/", include("backoffice.pushlog.urls")),
]
