"""Data migrations shared by the mirrored apps. Migrations run this code as it is now: change it only
in ways that suit every migration that calls it."""

from django.db.models import OuterRef, Subquery


def edited_by_from_history(app_label: str, model_name: str, resource: str):
    """A RunPython operation's function: each record's `edited_by` is the user of its newest `Change`.

    One UPDATE with a subquery, however many records there are.
    """

    def backfill(apps, schema_editor):
        Change = apps.get_model("backoffice", "Change")
        Model = apps.get_model(app_label, model_name)
        newest = Change.objects.filter(resource=resource, record_id=OuterRef("pk")).order_by("-at", "-id")
        Model.objects.filter(pk__in=Change.objects.filter(resource=resource).values("record_id")).update(
            edited_by=Subquery(newest.values("user")[:1])
        )

    return backfill
