"""gallra: a GDPR policy file turned into software that keeps every promise and proves it."""

__version__ = "0.1.0"
