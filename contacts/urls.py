from django.urls import path

from . import views

urlpatterns = [
    path("", views.contact_list, name="contact-list"),
    path("bulk/", views.contact_bulk, name="contact-bulk"),
    path("<uuid:pk>/", views.contact_detail, name="contact-detail"),
    path("<uuid:pk>/edit/", views.contact_update_view, name="contact-update"),
    path("<uuid:pk>/roles/", views.contact_roles, name="contact-roles"),
]
