"""post_save receivers, thin: a staff save marks the record dirty and queues its push."""

from .context import is_applying_upstream
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
