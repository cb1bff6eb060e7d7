"""The registry fixture of the subjects tests: Anna and Bo as customers' people."""

from gallra.subjects.tests.conftest import registry  # noqa: F401 (a fixture, used by name)
