"""URLs of the tax-ID review (included at the site root: the worklist under tax-ids/, additions under a customer)."""

from django.urls import path

from customers.tax_ids import views

urlpatterns = [
    path("tax-ids/", views.taxid_list, name="taxid-list"),
    path("tax-ids/export/", views.taxid_export, name="taxid-export"),
    path("tax-ids/bulk-approve/", views.taxid_bulk_approve, name="taxid-bulk-approve"),
    path("tax-ids/<int:pk>/approve/", views.taxid_approve, name="taxid-approve"),
    path("tax-ids/<int:pk>/reject/", views.taxid_reject, name="taxid-reject"),
    path("tax-ids/<int:pk>/fix/", views.taxid_fix, name="taxid-fix"),
    path("tax-ids/<int:pk>/edit/", views.taxid_update, name="taxid-update"),
    path("tax-ids/<int:pk>/delete/", views.taxid_delete, name="taxid-delete"),
    path("tax-ids/<int:pk>/move/", views.taxid_move, name="taxid-move"),
    path("customers/<uuid:pk>/tax-ids/add/", views.taxid_create, name="taxid-create"),
]
