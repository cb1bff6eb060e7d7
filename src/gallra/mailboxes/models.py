"""What gallra knows of the messages in the provider's mailboxes: never the messages (P19).

One row per message found by the last scan of a policy mailbox: where it is (mailbox, folder,
UIDVALIDITY and UID, or the Maildir file's unique name), the date its rule counts from, and
the customers and prospects its addresses name. Its Message-ID and its thread are kept only
as keyed digests (`ref`, `thread`): a Message-ID may hold a name or an address. No address,
subject or body is stored; the index is rebuilt from the mailbox by every scan.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class MailMessage(models.Model):
    class DatedBy(models.TextChoices):
        HEADER = "header", _("Date header")
        RECEIVED = "received", _("received")

    ref = models.CharField(_("reference"), max_length=40, db_index=True)
    thread = models.CharField(_("thread"), max_length=40, db_index=True)
    mailbox = models.CharField(_("mailbox"), max_length=100)  # the policy's mailbox id
    folder = models.CharField(_("folder"), max_length=300)
    uidvalidity = models.CharField(_("UIDVALIDITY"), max_length=20, blank=True)  # "" in Maildir
    uid = models.CharField(_("UID"), max_length=200)  # IMAP UID, or the Maildir unique name
    date = models.DateTimeField(_("date"))  # what the rule counts from
    dated_by = models.CharField(_("dated by"), max_length=10, choices=DatedBy.choices)
    # "|C-1|C-2|": `customers__contains="|C-1|"` finds a customer's messages on any database.
    customers = models.TextField(_("customers"), blank=True)
    prospects = models.TextField(_("prospects"), blank=True)
    # No Message-ID, Date or From header: gallra cannot tell what it is, so it never deletes it.
    unreadable = models.BooleanField(_("unreadable"), default=False)
    # Set before gallra touches the message on the server, cleared when that is recorded: a
    # run that stops in between is finished by the next (enforcement.py).
    marked = models.DateTimeField(_("being deleted since"), null=True, blank=True)
    rule = models.CharField(_("rule"), max_length=100, blank=True)  # the rule it is deleted by
    found = models.DateTimeField(_("found"), auto_now_add=True)  # by the first scan that saw it

    # Not plain: `folder`, whose name a person chose (it may name a customer).
    plain_fields = (
        *("id", "ref", "thread", "mailbox", "uidvalidity", "uid", "date", "dated_by", "customers"),
        *("prospects", "unreadable", "marked", "rule", "found"),
    )

    class Meta:
        verbose_name = _("mail message")
        verbose_name_plural = _("mail messages")
        ordering = ["mailbox", "folder", "date"]
        constraints = [
            models.UniqueConstraint(
                fields=["mailbox", "folder", "uidvalidity", "uid"], name="one_row_per_message"
            )
        ]

    def __str__(self) -> str:
        return f"{self.ref} ({self.mailbox}/{self.folder})"

    @property
    def customer_refs(self) -> list[str]:
        return split_refs(self.customers)

    @property
    def prospect_refs(self) -> list[str]:
        return split_refs(self.prospects)

    @property
    def where(self) -> str:
        """How errors and reports name the message: mailbox, folder and its id there."""
        kind = "UID" if self.uidvalidity else "file"
        return f"mailbox {self.mailbox!r}, folder {self.folder!r}, {kind} {self.uid}"


def join_refs(refs) -> str:
    refs = sorted(set(refs))
    return f"|{'|'.join(refs)}|" if refs else ""


def split_refs(text: str) -> list[str]:
    return [r for r in text.split("|") if r]
