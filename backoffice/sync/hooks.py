"""Hooks between the sync modules, so that the one that acts need not know who follows.

- `record_changed(sender=<model>, record=<record>)`: a record's values changed (a staff save, or Qwoty's answer
  to a push or a pull changed one), in the change's transaction. The secondary targets' links
  (`links.record_changed`) mark the record's links for their targets.
- `target_resumed(sender=<target>)`: a paused target was resumed; each receiver queues what it holds pending
  for that target and returns how many it queued (`targets.resume`).

Receivers are connected in SyncConfig.ready().
"""

from django.dispatch import Signal

record_changed = Signal()
target_resumed = Signal()
