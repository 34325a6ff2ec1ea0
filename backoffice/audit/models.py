from django.conf import settings
from django.db import models


class Change(models.Model):
    """One staff edit of a mirrored record: who, when, and each field's old and new value.

    Answers "who changed this role?" whatever the push to Qwoty did with the edit.
    """

    resource = models.CharField(max_length=32)  # "customers", "contacts", "catalogs"
    record_id = models.UUIDField()
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    # Made in Qwoty and applied here by a refresh (no user): it moved the version like a staff edit does.
    from_qwoty = models.BooleanField(default=False)
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    # {field: [old, new]}, values as sent upstream
    changes = models.JSONField()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["resource", "record_id", "-at"], name="change_record_at")]

    def __str__(self):
        return f"{self.resource} {self.record_id} by {self.user} at {self.at:%Y-%m-%d %H:%M}"
