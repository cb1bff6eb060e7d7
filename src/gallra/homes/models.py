"""Access grants (P3): one user may enter another's home directory because an agreement says so.

A grant exists while its access is in force. When it ends (its date passes, its agreement
ends, an account closes, or it is revoked) the row goes and the evidence log keeps the
record of it, by refs only.
"""

from datetime import date

from django.db import models
from django.db.models import Exists, F, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from gallra.registry.models import Account, Agreement


class AccessGrant(models.Model):
    owner = models.ForeignKey(
        Account,
        models.CASCADE,
        related_name="access_granted",
        verbose_name=_("home directory of"),
    )
    grantee = models.ForeignKey(
        Account,
        models.CASCADE,
        related_name="access_received",
        verbose_name=_("access for"),
    )
    agreement = models.ForeignKey(
        Agreement, models.CASCADE, related_name="access_grants", verbose_name=_("agreement")
    )
    until = models.DateField(_("until"))
    read_only = models.BooleanField(_("read only"), default=False)
    # The uid the ACL entry names, as applied: what `revoke` and the audit look for, even if
    # the grantee's uid in the registry changes meanwhile.
    grantee_uid = models.PositiveIntegerField(_("user id (uid)"))
    created = models.DateTimeField(_("created"), auto_now_add=True)

    plain_fields = (
        *("id", "owner", "grantee", "agreement", "until"),
        *("read_only", "grantee_uid", "created"),
    )

    class Meta:
        verbose_name = _("access grant")
        verbose_name_plural = _("access grants")
        ordering = ["until", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "grantee"], name="one_grant_per_pair"),
            models.CheckConstraint(condition=~Q(owner=F("grantee")), name="grant_to_another"),
        ]

    def __str__(self) -> str:
        return f"{self.ref}: {self.owner.ref} → {self.grantee.ref}"

    @property
    def ref(self) -> str:
        """How commands and the evidence name a grant."""
        return f"G-{self.pk}"

    @property
    def perms(self) -> str:
        """The permissions its ACL entries give, in setfacl's words (X: directories only)."""
        return "rX" if self.read_only else "rwX"


def ended_on(at: date) -> dict[str, Q]:
    """Why a grant no longer holds on `at`: each reason as a condition, the weightiest first.

    Its agreement ended; an account closed; the grantee's customer's last agreement ended
    (else enforce could come to delete the grantee's account while the grant names it);
    its last day passed.
    """
    agreements = Agreement.objects.filter(customer_id=OuterRef("grantee__person__customer_id"))
    still_on = agreements.filter(Q(end__isnull=True) | Q(end__gte=at))
    return {
        "agreement_ended": Q(agreement__end__lt=at),
        "account_closed": Q(owner__closed__lte=at) | Q(grantee__closed__lte=at),
        "relationship_ended": Q(Exists(agreements)) & ~Q(Exists(still_on)),
        "expired": Q(until__lt=at),
    }
