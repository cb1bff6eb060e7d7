"""Signals from retention to the apps above it, which connect in their AppConfig.ready()."""

from django.dispatch import Signal

# Sent by `enforce` inside a batch's transaction, right after the registry rows are deleted,
# with `record_type`, `refs` (of the records deleted) and `names` (for accounts, their
# usernames; empty otherwise). A receiver that raises rolls the batch back whole, so what a
# store does about the deletion commits with it or not at all.
records_deleted = Signal()
