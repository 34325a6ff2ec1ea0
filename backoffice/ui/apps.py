from django.apps import AppConfig


class UiConfig(AppConfig):
    """Installed for its template tags (`{% load backoffice %}`); it has no models."""

    name = "backoffice.ui"
    label = "ui"
    verbose_name = "Back office UI"
