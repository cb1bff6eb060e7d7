"""The deletion certificate a processor owes its customer (GDPR Art. 28(3)(g)).

Built from the evidence log alone for what was deleted (the records themselves are gone),
and from what still exists for what the law keeps: so it can be issued at any time, and
again later with the same content plus what happened since.
"""

from __future__ import annotations

import json
from argparse import ArgumentParser
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from gallra.evidence.log import verify
from gallra.evidence.models import Entry
from gallra.policy.loading import policy_for_command
from gallra.policy.model import Policy
from gallra.registry.models import Customer, Invoice
from gallra.retention.explaining import type_name
from gallra.retention.models import ManualTask
from gallra.retention.planner import due_date, rules_by_type


@dataclass
class Certificate:
    customer_ref: str
    at: date
    customer_exists: bool
    deleted: list[dict] = field(default_factory=list)  # type, rule, count, on
    kept: list[dict] = field(default_factory=list)  # invoices the law still keeps
    tasks: list[dict] = field(default_factory=list)
    evidence: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {
            "customer": self.customer_ref,
            "issued": self.at.isoformat(),
            "customer_record_exists": self.customer_exists,
            "deleted": self.deleted,
            "kept_by_law": self.kept,
            "manual_tasks": self.tasks,
            "evidence": self.evidence,
        }


def certificate(policy: Policy, customer_ref: str, at: date) -> Certificate:
    cert = Certificate(customer_ref, at, Customer.objects.filter(ref=customer_ref).exists())
    counts: dict[tuple, int] = defaultdict(int)
    seqs: list[int] = []
    entries = Entry.objects.filter(action="delete", customers__contains=f"|{customer_ref}|")
    for entry in entries.order_by("seq").iterator():
        on = timezone.localdate(entry.at)
        n = entry.data.get("per_customer", {}).get(customer_ref, 0)
        counts[(on, entry.record_type, entry.rule)] += n
        seqs.append(entry.seq)
    cert.deleted = [
        {"on": on.isoformat(), "type": record_type, "rule": rule, "count": n}
        for (on, record_type, rule), n in sorted(counts.items())
    ]
    invoice_rules = rules_by_type(policy)["invoice"]
    for invoice in Invoice.objects.filter(customer_ref=customer_ref).order_by("issued"):
        rule = invoice_rules[0]
        until = due_date(rule, invoice.fiscal_year_end) - timedelta(days=1)
        cert.kept.append(
            {
                "type": "invoice",
                "ref": invoice.ref,
                "number": invoice.number,
                "kept_until": until.isoformat(),
                "rule": rule.id,
                "source": rule.legal_source,
            }
        )
    for task in ManualTask.objects.filter(customer_ref=customer_ref).select_related("assignee"):
        cert.tasks.append(
            {
                "task": task.what,
                "assignee": task.assignee.get_username(),
                "due": task.due.isoformat(),
                "done": timezone.localdate(task.done_at).isoformat() if task.done_at else None,
            }
        )
    chain = verify()
    cert.evidence = {
        "entries": seqs,
        "chain_intact": chain.ok,
        "head": chain.head,
        "pruned": chain.pruned,
    }
    return cert


def render(cert: Certificate, policy: Policy, lang: str) -> str:
    """The certificate as text for the customer, in `lang`."""
    with translation.override(lang):
        return _render(cert, policy, lang)


def _render(cert: Certificate, policy: Policy, lang: str) -> str:
    lines = [
        _("Certificate of deletion — %(org)s") % {"org": policy.organisation.name},
        _("Customer: %(customer)s    Issued: %(day)s")
        % {"customer": cert.customer_ref, "day": cert.at},
        "",
    ]
    if cert.customer_exists:
        lines.append(_("The customer record still exists; not everything is deleted."))
    lines.append(_("Deleted:"))
    for d in cert.deleted or []:
        lines.append(f"  {d['on']}  {d['count']} {type_name(d['type'], lang)}  ({d['rule']})")
    if not cert.deleted:
        lines.append("  " + _("(nothing yet)"))
    lines.append("")
    lines.append(_("Kept as the law requires:"))
    for k in cert.kept:
        values = {
            "type": type_name("invoice", lang),
            "number": k["number"],
            "ref": k["ref"],
            "until": k["kept_until"],
            "source": k["source"],
        }
        lines.append(
            "  " + _("%(type)s %(number)s (%(ref)s) until %(until)s — %(source)s") % values
        )
    if not cert.kept:
        lines.append("  " + _("(nothing)"))
    if cert.tasks:
        lines.append("")
        lines.append(_("Manual tasks:"))
        for t in cert.tasks:
            if t["done"]:
                state = pgettext("task", "done %(day)s") % {"day": t["done"]}
            else:
                state = pgettext("task", "open, due %(day)s") % {"day": t["due"]}
            lines.append(f"  {t['task']} — {t['assignee']}: {state}")
    lines.append("")
    ev = cert.evidence
    values = {"entries": ", ".join(map(str, ev["entries"])) or "–", "head": ev["head"]}
    if ev["chain_intact"]:
        said = _("Evidence: entries %(entries)s of the evidence log; chain intact, head %(head)s.")
    else:
        said = _("Evidence: entries %(entries)s of the evidence log; chain BROKEN, head %(head)s.")
    lines.append(said % values)
    if ev.get("pruned"):
        p = ev["pruned"]
        lines.append(
            _(
                "The evidence log's entries up to %(seq)s (made before %(before)s) were pruned "
                "under rule %(rule)s on %(on)s: deletions before then are not shown here."
            )
            % {"seq": p["through_seq"], "before": p["before"], "rule": p["rule"], "on": p["on"]}
        )
    return "\n".join(lines)


# -- `gallra evidence certificate CUSTOMER_REF` (registered in apps.py) -------------------------


def add_command_arguments(parser: ArgumentParser) -> None:
    parser.add_argument("customer_ref")
    parser.add_argument("--lang", choices=["sv", "en"], default="sv")
    parser.add_argument("--format", choices=["text", "json"], default="text")


def command(cmd: BaseCommand, options: dict) -> None:
    policy = policy_for_command()
    cert = certificate(policy, options["customer_ref"], timezone.localdate())
    if not cert.customer_exists and not cert.deleted and not cert.kept:
        pruned = cert.evidence.get("pruned")
        if pruned:
            message = _(
                "no customer %(ref)r in gallra or its evidence (its entries made before "
                "%(before)s were pruned under rule %(rule)s on %(on)s)"
            ) % {"ref": options["customer_ref"], **pruned}
        else:
            message = _("no customer %(ref)r in gallra or its evidence") % {
                "ref": options["customer_ref"]
            }
        raise CommandError(message, returncode=2)
    if options["format"] == "json":
        cmd.stdout.write(json.dumps(cert.as_dict(), indent=2, ensure_ascii=False))
    else:
        cmd.stdout.write(render(cert, policy, options["lang"]))
