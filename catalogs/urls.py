from django.urls import path

from . import views

urlpatterns = [
    path("", views.catalog_list, name="catalog-list"),
    path("bulk/", views.catalog_bulk, name="catalog-bulk"),
    path("<uuid:pk>/", views.catalog_detail, name="catalog-detail"),
    path("<uuid:pk>/edit/", views.catalog_update_view, name="catalog-update"),
    path("<uuid:pk>/active/", views.catalog_set_active_view, name="catalog-set-active"),
]
