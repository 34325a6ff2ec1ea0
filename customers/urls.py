from django.urls import path

from . import views

urlpatterns = [
    path("", views.customer_list, name="customer-list"),
    path("<uuid:pk>/", views.customer_detail, name="customer-detail"),
    path("<uuid:pk>/edit/", views.customer_update_view, name="customer-update"),
]
