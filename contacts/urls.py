from django.urls import path

from . import link_views, views

urlpatterns = [
    path("", views.contact_list, name="contact-list"),
    path("bulk/", views.contact_bulk, name="contact-bulk"),
    path("<uuid:pk>/", views.contact_detail, name="contact-detail"),
    path("<uuid:pk>/edit/", views.contact_update_view, name="contact-update"),
    path("<uuid:pk>/roles/", views.contact_roles, name="contact-roles"),
    # Links to the secondary targets: <target> is "prioticket" or "koywe" (404 otherwise).
    path("<uuid:pk>/links/", link_views.contact_links, name="contact-links"),
    path("<uuid:pk>/links/<slug:target>/", link_views.contact_link, name="contact-link"),
    path("<uuid:pk>/links/<slug:target>/unlink/", link_views.contact_link_unlink, name="contact-link-unlink"),
    path("<uuid:pk>/links/<slug:target>/retry/", link_views.contact_link_retry, name="contact-link-retry"),
]
