"""The backup tests' repository, home folder and policy, for searching the snapshots."""

from gallra.backups.tests.conftest import homes, policy, repository  # noqa: F401 (fixtures)
from gallra.mailboxes.tests.conftest import maildir  # noqa: F401 (fixture)
