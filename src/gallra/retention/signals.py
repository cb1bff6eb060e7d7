"""Signals from retention to the apps above it, which connect in their AppConfig.ready()."""

from django.dispatch import Signal

# Sent by `enforce` inside a batch's transaction, right after the registry rows are deleted,
# with `record_type`, `refs` (of the records deleted) and `names` (for accounts, their
# usernames; empty otherwise). A receiver that raises rolls the batch back whole, so what a
# store does about the deletion commits with it or not at all.
records_deleted = Signal()

# Sent by `enforce` when a run (not a dry run) has finished, with `policy` and `at`: the
# registry is then as the day's deletions left it, and what comes next can be counted (the
# front page's forecast). Sent robustly: a receiver that fails is logged, the run stands.
enforcement_finished = Signal()
