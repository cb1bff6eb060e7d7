"""The registry: what the provider holds about its customers, their people and its prospects (P1).

Every model names its `record_type` (how the policy file and every output refer to it) and
its `personal_fields`, the fields that hold personal data. The policy file ties each of those
to a data category; `gallra policy check` and the test suite fail when one is left without.
`plain_fields` lists the rest, so that a new field cannot slip in unclassified.

Records are named everywhere by `ref`, the provider's own stable key, unique per record type.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models, transaction
from django.db.models.functions import Lower
from django.db.models.signals import pre_delete
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gallra.registry import crypto


class Record(models.Model):
    ref = models.CharField(_("reference"), max_length=100, unique=True)
    created_at = models.DateTimeField(_("registered"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    record_type: ClassVar[str]
    personal_fields: ClassVar[tuple[str, ...]] = ()
    plain_fields: ClassVar[tuple[str, ...]] = ()

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.ref


class Customer(Record):
    class Kind(models.TextChoices):
        COMPANY = "company", _("company")
        PRIVATE = "private", _("private person")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.COMPANY)
    name = models.CharField(_("name"), max_length=200)
    # A company's organisation number, or a private person's personnummer.
    org_number = models.CharField(_("organisation number"), max_length=20, blank=True)
    # The provider's staff who work with this customer: they get its manual tasks (P16).
    staff = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="customers", verbose_name=_("staff")
    )

    record_type = "customer"
    personal_fields = ("name", "org_number")
    plain_fields = ("id", "ref", "created_at", "updated_at", "kind", "staff")

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["name"]
        # P22: the customer register's personal fields, for the roles whose policy says so.
        permissions = [("view_personal_data", _("Can see the customer register's personal data"))]

    def __str__(self) -> str:
        return f"{self.name} ({self.ref})"

    def save(self, *args, **kwargs) -> None:
        # Its documents and credentials are sealed under its own data key (crypto.py).
        adding = self._state.adding
        with transaction.atomic():
            super().save(*args, **kwargs)
            if adding and not CustomerKey.objects.filter(customer_ref=self.ref).exists():
                crypto.new_customer_key(self.ref)[0].save()

    def cipher(self) -> crypto.CustomerCipher:
        return crypto.cipher_for(self.ref)

    def seal(self, plaintext: str | bytes) -> bytes:
        return self.cipher().seal(plaintext)

    def unseal(self, sealed: bytes) -> bytes:
        return self.cipher().unseal(sealed)


class CustomerKey(models.Model):
    """A customer's data key, wrapped by a master key (envelope encryption, crypto.py).

    Kept apart from the customer so that the database backup can leave the keys out: a
    deleted customer's key is then in no copy that outlives the short key backups.
    """

    customer_ref = models.CharField(_("customer"), max_length=100, unique=True)
    master = models.CharField(_("master key"), max_length=16)  # crypto.master_id()
    wrapped = models.BinaryField(_("wrapped key"))
    created = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("customer key")
        verbose_name_plural = _("customer keys")

    def __str__(self) -> str:
        return self.customer_ref


class Agreement(Record):
    customer = models.ForeignKey(
        Customer, models.CASCADE, related_name="agreements", verbose_name=_("customer")
    )
    start = models.DateField(_("start"))
    end = models.DateField(_("end"), null=True, blank=True, help_text=_("Empty while active."))

    record_type = "agreement"
    plain_fields = ("id", "ref", "created_at", "updated_at", "customer", "start", "end")

    class Meta:
        verbose_name = _("agreement")
        verbose_name_plural = _("agreements")
        ordering = ["customer", "start"]
        # A customer's last agreement end, read backwards from the index (retention, dashboard).
        indexes = [models.Index(fields=["customer", "end"], name="agreement_customer_end")]


class Person(Record):
    customer = models.ForeignKey(
        Customer, models.CASCADE, related_name="people", verbose_name=_("customer")
    )
    first_name = models.CharField(_("first name"), max_length=100)
    last_name = models.CharField(_("last name"), max_length=100)
    email = models.EmailField(_("e-mail"), blank=True)
    postal_address = models.TextField(_("postal address"), blank=True)
    mobile = models.CharField(_("mobile number"), max_length=30, blank=True)
    is_user = models.BooleanField(_("user"), default=False)
    is_contact = models.BooleanField(_("contact"), default=False)
    is_billing_contact = models.BooleanField(_("billing contact"), default=False)

    record_type = "person"
    personal_fields = ("first_name", "last_name", "email", "postal_address", "mobile")
    plain_fields = (
        *("id", "ref", "created_at", "updated_at", "customer"),
        *("is_user", "is_contact", "is_billing_contact"),
    )
    ROLES: ClassVar[dict[str, str]] = {
        "user": "is_user",
        "contact": "is_contact",
        "billing_contact": "is_billing_contact",
    }

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("people")
        ordering = ["last_name", "first_name"]
        # Data-subject requests find people by e-mail in any letter case.
        indexes = [models.Index(Lower("email"), name="person_email_lower")]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name} ({self.ref})"

    @property
    def roles(self) -> list[str]:
        return [role for role, flag in self.ROLES.items() if getattr(self, flag)]


class Account(Record):
    person = models.ForeignKey(
        Person, models.CASCADE, related_name="accounts", verbose_name=_("person")
    )
    username = models.CharField(_("username"), max_length=100)
    home = models.CharField(_("home directory"), max_length=400, blank=True)
    # The owner the home directory audit expects (P3, homes app); empty: looked up by username.
    uid = models.PositiveIntegerField(
        _("user id (uid)"),
        null=True,
        blank=True,
        help_text=_("The numeric user id on the host that owns the home directory."),
    )
    opened = models.DateField(_("opened"))
    closed = models.DateField(_("closed"), null=True, blank=True)

    record_type = "account"
    personal_fields = ("username", "home")
    plain_fields = ("id", "ref", "created_at", "updated_at", "person", "uid", "opened", "closed")

    class Meta:
        verbose_name = _("user account")
        verbose_name_plural = _("user accounts")
        ordering = ["username"]
        # The accounts closed by a date: the closed-account rule's candidates (dashboard).
        indexes = [models.Index(fields=["closed"], name="account_closed")]

    def __str__(self) -> str:
        return f"{self.username} ({self.ref})"


class CustomerRequest(Record):
    """Orders, service changes and other requests, kept for traceability while a customer (P4)."""

    class Kind(models.TextChoices):
        ORDER = "order", _("order")
        SERVICE_CHANGE = "service_change", _("service change")
        OTHER = "other", _("other request")

    customer = models.ForeignKey(
        Customer, models.CASCADE, related_name="requests", verbose_name=_("customer")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    created = models.DateField(_("created"))
    text = models.TextField(_("text"), blank=True)

    record_type = "request"
    personal_fields = ("text",)
    plain_fields = ("id", "ref", "created_at", "updated_at", "customer", "kind", "created")

    class Meta:
        verbose_name = _("request")
        verbose_name_plural = _("requests")
        ordering = ["-created"]


class TechnicalDocument(Record):
    customer = models.ForeignKey(
        Customer, models.CASCADE, related_name="documents", verbose_name=_("customer")
    )
    title = models.CharField(_("title"), max_length=200)
    created = models.DateField(_("created"))
    content = models.BinaryField(_("content (encrypted)"), editable=False)

    record_type = "document"
    personal_fields = ("title", "content")
    plain_fields = ("id", "ref", "created_at", "updated_at", "customer", "created")

    class Meta:
        verbose_name = _("technical document")
        verbose_name_plural = _("technical documents")
        ordering = ["title"]


class Credential(Record):
    """A password the provider must hold (P1); sealed under the customer's key, never shown."""

    customer = models.ForeignKey(
        Customer, models.CASCADE, related_name="credentials", verbose_name=_("customer")
    )
    account = models.ForeignKey(
        Account,
        models.CASCADE,
        null=True,
        blank=True,
        related_name="credentials",
        verbose_name=_("user account"),
    )
    system = models.CharField(_("system"), max_length=200)
    username = models.CharField(_("username"), max_length=200, blank=True)
    secret = models.BinaryField(_("secret (encrypted)"), editable=False)
    created = models.DateField(_("created"))

    record_type = "credential"
    personal_fields = ("username", "secret")
    plain_fields = ("id", "ref", "created_at", "updated_at", "customer", "account", "system")
    plain_fields += ("created",)

    class Meta:
        verbose_name = _("credential")
        verbose_name_plural = _("credentials")
        ordering = ["system"]


class Invoice(Record):
    """An accounting record (P17): outlives its customer, keeps only what the law asks for."""

    customer = models.ForeignKey(
        Customer,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="invoices",
        verbose_name=_("customer"),
    )
    billing_contact = models.ForeignKey(
        Person,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="invoices",
        verbose_name=_("billing contact"),
    )
    # The customer's ref stays when the customer record is gone, for the deletion certificate.
    customer_ref = models.CharField(_("customer reference"), max_length=100, blank=True)
    number = models.CharField(_("invoice number"), max_length=50)
    issued = models.DateField(_("issued"))
    fiscal_year_end = models.DateField(_("end of financial year"))
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3, default="SEK")
    # The buyer's name and address are what an invoice must show (mervärdesskattelagen);
    # they are copied here because the invoice must outlive the customer record.
    buyer_name = models.CharField(_("buyer's name"), max_length=200)
    buyer_address = models.TextField(_("buyer's address"), blank=True)

    record_type = "invoice"
    personal_fields = ("buyer_name", "buyer_address")
    plain_fields = (
        *("id", "ref", "created_at", "updated_at", "customer", "customer_ref", "billing_contact"),
        *("number", "issued", "fiscal_year_end", "amount", "currency"),
    )

    class Meta:
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        ordering = ["-issued"]


class Prospect(Record):
    name = models.CharField(_("name"), max_length=200)
    email = models.EmailField(_("e-mail"), blank=True)
    created = models.DateField(_("created"))
    last_activity = models.DateField(_("last activity"), null=True, blank=True)

    record_type = "prospect"
    personal_fields = ("name", "email")
    plain_fields = ("id", "ref", "created_at", "updated_at", "created", "last_activity")

    class Meta:
        verbose_name = _("prospect")
        verbose_name_plural = _("prospects")
        ordering = ["name"]
        indexes = [models.Index(Lower("email"), name="prospect_email_lower")]


class Quote(Record):
    prospect = models.ForeignKey(
        Prospect,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="quotes",
        verbose_name=_("prospect"),
    )
    customer = models.ForeignKey(
        Customer,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="quotes",
        verbose_name=_("customer"),
    )
    created = models.DateField(_("created"))
    last_activity = models.DateField(_("last activity"), null=True, blank=True)
    description = models.TextField(_("description"), blank=True)

    record_type = "quote"
    personal_fields = ("description",)
    plain_fields = ("id", "ref", "created_at", "updated_at", "prospect", "customer", "created")
    plain_fields += ("last_activity",)

    class Meta:
        verbose_name = _("quote")
        verbose_name_plural = _("quotes")
        ordering = ["-created"]


class Correspondence(Record):
    """Metadata of a message in the provider's mailboxes; the message itself stays there (P19)."""

    customer = models.ForeignKey(
        Customer,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="correspondence",
        verbose_name=_("customer"),
    )
    prospect = models.ForeignKey(
        Prospect,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="correspondence",
        verbose_name=_("prospect"),
    )
    received = models.DateField(_("received"))
    last_activity = models.DateField(_("last activity"), null=True, blank=True)
    sender = models.EmailField(_("sender"), blank=True)
    subject = models.CharField(_("subject"), max_length=300, blank=True)

    record_type = "correspondence"
    personal_fields = ("sender", "subject")
    plain_fields = ("id", "ref", "created_at", "updated_at", "customer", "prospect", "received")
    plain_fields += ("last_activity",)

    class Meta:
        verbose_name = _("correspondence")
        verbose_name_plural = _("correspondence")
        ordering = ["-received"]
        indexes = [models.Index(Lower("sender"), name="correspondence_sender_lower")]


class Hold(Record):
    """Keeps one record past its retention rule, for a stated reason and until a stated date."""

    class Reason(models.TextChoices):
        AGREEMENT = "agreement", _("agreement")
        NEGOTIATION = "negotiation", _("ongoing negotiation")
        LEGAL = "legal", _("legal requirement")

    target_type = models.CharField(_("record type"), max_length=30)
    target_ref = models.CharField(_("record reference"), max_length=100)
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices)
    note = models.TextField(_("note"), blank=True)
    until = models.DateField(_("until"), null=True, blank=True)

    record_type = "hold"
    plain_fields = ("id", "ref", "created_at", "updated_at", "target_type", "target_ref")
    plain_fields += ("reason", "note", "until")

    class Meta:
        verbose_name = _("hold")
        verbose_name_plural = _("holds")
        permissions = [("lift_legal_hold", _("Can lift or shorten a legal hold"))]
        ordering = ["until"]
        indexes = [models.Index(fields=["target_type", "target_ref"])]

    def __str__(self) -> str:
        return f"{self.ref}: {self.target_type} {self.target_ref}"


RECORD_MODELS: tuple[type[Record], ...] = (
    Customer,
    Agreement,
    Person,
    Account,
    CustomerRequest,
    TechnicalDocument,
    Credential,
    Invoice,
    Prospect,
    Quote,
    Correspondence,
    Hold,
)
BY_RECORD_TYPE: dict[str, type[Record]] = {m.record_type: m for m in RECORD_MODELS}


def personal_fields() -> set[str]:
    """Every personal-data field as the policy file names it: `record_type.field`."""
    return {f"{m.record_type}.{f}" for m in RECORD_MODELS for f in m.personal_fields}


def unclassified_fields(model: type[Record]) -> list[str]:
    """What breaks the promise above in one model: a field that is neither personal nor plain,
    or both, and a name in either list that is no field of the model. Empty when it holds."""
    fields = {f.name for f in (*model._meta.concrete_fields, *model._meta.many_to_many)}
    personal, plain = set(model.personal_fields), set(model.plain_fields)
    problems = {
        "neither personal nor plain": fields - personal - plain,
        "both personal and plain": personal & plain,
        "no such field": (personal | plain) - fields,
    }
    return [f"{model.record_type}.{n}: {why}" for why, ns in problems.items() for n in sorted(ns)]


@receiver(pre_delete, sender=Customer)
def _shred_customer_key(sender, instance: Customer, **kwargs) -> None:
    """A customer that goes takes its data key first (enforcement does this in bulk itself)."""
    crypto.destroy_keys([instance.ref], now=timezone.now(), actor="registry", why="deleted")


class Tombstone(models.Model):
    """A record gallra deleted, remembered so that no import or sync brings it back (P15).

    Only a keyed digest of the record type and ref is kept (registry/tombstones.py), never the
    ref or the data; the policy's deletion-memory rule ends the memory itself.
    """

    record_type = models.CharField(_("record type"), max_length=30)
    digest = models.CharField(_("digest"), max_length=64)
    rule = models.CharField(_("rule"), max_length=100)  # a retention rule, or "erasure"
    request = models.CharField(_("request"), max_length=40, blank=True)  # the erasure's ref
    deleted_on = models.DateField(_("deleted on"))
    created_at = models.DateTimeField(_("registered"), default=timezone.now)

    plain_fields = ("id", "record_type", "rule", "request", "deleted_on", "created_at")

    class Meta:
        verbose_name = _("deleted record")
        verbose_name_plural = _("deleted records")
        constraints = [
            models.UniqueConstraint(fields=["record_type", "digest"], name="one_tombstone")
        ]
        indexes = [models.Index(fields=["deleted_on"])]

    def __str__(self) -> str:
        return f"{self.record_type} {self.digest[:12]}"
