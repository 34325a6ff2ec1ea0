"""post_save receivers, thin: a staff save marks the record dirty and queues its push, and tells the hook."""

from . import connectors, links
from .context import is_applying_upstream
from .hooks import record_changed
from .push import mark_dirty


def record_saved(sender, instance, raw=False, **kwargs):
    # Saves that apply an upstream answer or a pull must not echo back; fixtures (raw) neither.
    if raw or is_applying_upstream():
        return
    mark_dirty(instance)


def related_row_changed(sender, instance, raw=False, **kwargs):
    """A row kept in a related table (a customer's tax ID) changed: its parent record is dirty."""
    if raw or is_applying_upstream():
        return
    mark_dirty(instance.customer)


def linked_record_saved(sender, instance, raw=False, **kwargs):
    """A staff save of a record linked to secondary targets: each link has a new version to send."""
    if raw or is_applying_upstream():
        return
    record_changed.send(sender=sender, record=instance)


def link_saved(sender, instance, created=False, raw=False, **kwargs):
    """Staff linked a record to a secondary target, or changed the link: it is sent (again)."""
    if raw:
        return
    connector = connectors.for_link(instance)
    if created:
        links.enqueue(connector.target, instance.pk)
        return
    links.mark_dirty(connector, type(instance).objects.select_for_update().only("sync_status").get(pk=instance.pk))
