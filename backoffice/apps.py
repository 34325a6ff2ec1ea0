from django.apps import AppConfig
from django.db.models.signals import post_migrate


class BackofficeConfig(AppConfig):
    name = "backoffice"
    verbose_name = "Back office"

    def ready(self):
        from backoffice.accounts.roles import apply_role_permissions

        post_migrate.connect(apply_role_permissions, sender=self, dispatch_uid="backoffice.apply_role_permissions")
