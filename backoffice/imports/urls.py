from django.urls import path

from . import views

urlpatterns = [
    path("contacts/import/", views.import_upload, {"resource": "contacts"}, name="contact-import"),
    path(
        "contacts/import/template.csv", views.import_template, {"resource": "contacts"}, name="contact-import-template"
    ),
    path("catalogs/import/", views.import_upload, {"resource": "catalogs"}, name="catalog-import"),
    path(
        "catalogs/import/template.csv", views.import_template, {"resource": "catalogs"}, name="catalog-import-template"
    ),
    path("imports/<uuid:pk>/", views.import_detail, name="import-detail"),
    path("imports/<uuid:pk>/apply/", views.import_apply, name="import-apply"),
    path("imports/<uuid:pk>/errors.csv", views.import_errors, name="import-errors"),
]
