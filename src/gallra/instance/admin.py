"""What several apps' admin pages share. ReadOnlyAdmin lives with the evidence log, at the
bottom layer, so that the log and retention can use it too (README, Layers)."""

from gallra.evidence.admin import ReadOnlyAdmin

__all__ = ["ReadOnlyAdmin"]
