"""`gallra subject ...`: data-subject requests from the command line. See docs/subjects.md."""

from __future__ import annotations

import getpass
import json
from datetime import date
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from gallra.outbox.delivery import deliver
from gallra.policy.loading import policy_for_command
from gallra.subjects import cases, changes, erasure, export
from gallra.subjects.identity import BadIdentity, Identity
from gallra.subjects.models import SubjectRequest


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"{text!r} is not a date (YYYY-MM-DD)", returncode=2) from None


def _row(r: SubjectRequest, at: date) -> dict:
    """A request's dates as `--format json` gives them: the stored ones, as everywhere."""
    told = r.extension_told_on
    return {
        "ref": r.ref,
        "kind": r.kind,
        "status": r.status,
        "received": r.received.isoformat(),
        "first_month_ends": r.first_due().isoformat(),
        "extension_months": r.extension_months,
        "extension_told_on": told.isoformat() if told else None,
        "due": r.due.isoformat(),
        "overdue": r.is_overdue(at),
    }


class Command(BaseCommand):
    help = "Register, verify and answer data-subject requests (access, erasure, ...)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        p = sub.add_parser("request", help="register a request; prints its ref")
        p.add_argument("--type", required=True, choices=SubjectRequest.Kind.values)
        p.add_argument("--email", required=True)
        p.add_argument("--name", default="")
        p.add_argument("--username", default="")
        p.add_argument("--personnummer", default="")
        p.add_argument("--received", help="YYYY-MM-DD (default: today)")
        p.add_argument("--field", default="", help="rectification: email, name or username")
        p.add_argument("--value", default="", help="rectification: the correct value")
        p.add_argument("--category", default="", help="objection: the category objected to")
        p = sub.add_parser("list", help="requests, open ones by deadline (overdue first)")
        p.add_argument("--all", action="store_true", help="closed ones too")
        p.add_argument("--format", choices=["text", "json"], default="text")
        p = sub.add_parser("show", help="one request, with what each store did")
        p.add_argument("ref")
        p.add_argument("--format", choices=["text", "json"], default="text")
        p = sub.add_parser("send-link", help="e-mail a one-time verification link")
        p.add_argument("ref")
        p.add_argument("--lang", choices=["sv", "en"], default="sv")
        p = sub.add_parser("verify", help="record how staff verified the identity")
        p.add_argument("ref")
        p.add_argument("--how", required=True)
        p.add_argument("--by", default=getpass.getuser())
        p = sub.add_parser("extend", help="extend the deadline (Art. 12(3))")
        p.add_argument("ref")
        p.add_argument("--months", type=int, required=True)
        p.add_argument("--reason", required=True)
        p.add_argument("--told", required=True, help="the date the subject was told, YYYY-MM-DD")
        p = sub.add_parser("export", help="answer an access/portability request with a ZIP")
        p.add_argument("email")
        p.add_argument("--out", required=True)
        p.add_argument("--request", dest="ref")
        p.add_argument("--lang", choices=["sv", "en"], default="sv")
        p = sub.add_parser("erase", help="answer an erasure request; rerun to finish")
        p.add_argument("email")
        p.add_argument("--request", dest="ref")
        p.add_argument("--certificate", help="write the erasure certificate (HTML) here")
        p.add_argument("--lang", choices=["sv", "en"], default="sv")
        for name, text in (
            ("rectify", "answer a rectification request"),
            ("restrict", "answer a restriction request"),
            ("object", "answer an objection"),
        ):
            p = sub.add_parser(name, help=text)
            p.add_argument("email")
            p.add_argument("--request", dest="ref")
        p = sub.add_parser("unrestrict", help="lift a restriction")
        p.add_argument("email")

    def handle(self, *args, action, **options):
        policy = policy_for_command()
        now, at = timezone.now(), timezone.localdate()
        actor = f"cli:{getpass.getuser()}"
        try:
            getattr(self, "do_" + action.replace("-", "_"))(policy, options, now, at, actor)
        except (cases.CaseError, BadIdentity) as exc:
            raise CommandError(str(exc), returncode=2) from exc
        except export.ExportIncomplete as exc:
            raise CommandError(f"nothing exported: {exc}", returncode=1) from exc

    def _request(self, ref: str) -> SubjectRequest:
        try:
            return SubjectRequest.objects.get(ref=cases.normal_ref(ref))
        except SubjectRequest.DoesNotExist:
            raise CommandError(f"no request {ref!r}", returncode=2) from None

    def do_request(self, policy, o, now, at, actor):
        identity = Identity.of(o["email"], o["name"], o["username"], o["personnummer"])
        received = _date(o["received"]) if o["received"] else at
        request = cases.open_request(
            o["type"],
            identity,
            received=received,
            now=now,
            actor=actor,
            change_field=o["field"],
            change_value=o["value"],
            category=o["category"],
        )
        self.stdout.write(f"{request.ref} registered, due {request.due}")

    def do_list(self, policy, o, now, at, actor):
        requests = cases.open_by_deadline()
        if not o["all"]:
            requests = requests.filter(status__in=SubjectRequest.OPEN)
        if o["format"] == "json":
            rows = [_row(r, at) | {"email": r.email} for r in requests]
            self.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2))
            return
        for r in requests:
            late = " OVERDUE" if r.is_overdue(at) else ""
            self.stdout.write(f"{r.due}{late}  {r.ref}  {r.kind}  {r.status}  {r.email}")

    def do_show(self, policy, o, now, at, actor):
        r = self._request(o["ref"])
        if o["format"] == "json":
            steps = [
                {"store": s.store, "status": s.status, "detail": s.detail}
                for s in r.steps.order_by("id")
            ]
            row = _row(r, at) | {"email": r.email, "stores": steps, "answer": r.answer}
            self.stdout.write(json.dumps(row, ensure_ascii=False, indent=2))
            return
        self.stdout.write(
            f"{r.ref}: {r.kind}, {r.get_status_display()}, received {r.received}, "
            f"due {r.due}{' (OVERDUE)' if r.is_overdue(at) else ''}"
        )
        for step in r.steps.order_by("id"):
            self.stdout.write(f"  {step.store}: {step.status} {step.detail}")
        if r.answer:
            self.stdout.write(json.dumps(r.answer, ensure_ascii=False, indent=2))

    def do_send_link(self, policy, o, now, at, actor):
        link = cases.send_link(
            policy, self._request(o["ref"]), now=now, actor=actor, lang=o["lang"]
        )
        valid = f"valid until {link.expires:%Y-%m-%d %H:%M}"
        outcome = deliver()  # a command is no web request: it delivers the outbox itself
        if outcome.failed or outcome.given_up:
            raise CommandError(
                f"link to {link.sent_to} queued ({valid}), but the relay failed: "
                f"{outcome.errors[-1]}. It is tried again by `gallra serve` or "
                "`gallra outbox send` (docs/mail.md)",
                returncode=1,
            )
        self.stdout.write(f"link sent to {link.sent_to}, {valid}")

    def do_verify(self, policy, o, now, at, actor):
        cases.verify_by_staff(self._request(o["ref"]), o["how"], o["by"], now=now)
        self.stdout.write(f"{o['ref']}: identity verified")

    def do_extend(self, policy, o, now, at, actor):
        r = self._request(o["ref"])
        cases.extend(r, o["months"], o["reason"], _date(o["told"]), now=now, actor=actor)
        self.stdout.write(f"{r.ref}: due {r.due}")

    def do_export(self, policy, o, now, at, actor):
        r = cases.request_for(o["email"], ("access", "portability"), o["ref"])
        data = export.export_request(policy, r, now=now, at=at, lang=o["lang"], actor=actor)
        Path(o["out"]).write_bytes(data)
        self.stdout.write(f"{r.ref}: wrote {o['out']} ({len(data)} bytes)")

    def do_erase(self, policy, o, now, at, actor):
        r = cases.request_for(o["email"], ("erasure",), o["ref"])
        erasure.erase_request(policy, r, now=now, at=at, actor=actor)
        for step in r.steps.order_by("id"):
            self.stdout.write(f"  {step.store}: {step.status} {step.detail}")
        if r.status != SubjectRequest.Status.DONE:
            raise CommandError(
                f"{r.ref} stays open: rerun `gallra subject erase` when the failed stores are back",
                returncode=1,
            )
        if o["certificate"]:
            Path(o["certificate"]).write_text(erasure.certificate_html(r, policy, o["lang"]))
        self.stdout.write(f"{r.ref}: done")

    def do_rectify(self, policy, o, now, at, actor):
        r = cases.request_for(o["email"], ("rectification",), o["ref"])
        result = changes.rectify(policy, r, now=now, actor=actor)
        self.stdout.write(json.dumps(result, ensure_ascii=False))
        if result["failed"]:
            raise CommandError(
                f"{r.ref} stays open: rerun when the failed stores are back", returncode=1
            )

    def do_restrict(self, policy, o, now, at, actor):
        r = cases.request_for(o["email"], ("restriction",), o["ref"])
        changes.restrict(r, now=now, actor=actor, at=at)
        self.stdout.write(f"{r.ref}: {r.email} restricted")

    def do_unrestrict(self, policy, o, now, at, actor):
        changes.lift_restriction(o["email"], now=now, actor=actor)
        self.stdout.write(f"{o['email']}: restriction lifted")

    def do_object(self, policy, o, now, at, actor):
        r = cases.request_for(o["email"], ("objection",), o["ref"])
        objection = changes.object_to(policy, r, now=now, actor=actor, at=at)
        self.stdout.write(f"{r.ref}: {objection.get_outcome_display()}")
