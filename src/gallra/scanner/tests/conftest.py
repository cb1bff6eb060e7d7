"""The mailbox tests' Maildir, for the subject export's mail search."""

from gallra.mailboxes.tests.conftest import maildir  # noqa: F401 (fixture)
