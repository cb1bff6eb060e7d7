"""`gallra subject ...`: data-subject requests from the command line. See docs/subjects.md.

A request is named by its ref (DSR-2026-7K3QX9MD), or by the subject's e-mail address: then
it is their oldest open request (for `show`, their newest closed one if none is open).
"""

from __future__ import annotations

import getpass
import json
from collections.abc import Callable
from datetime import date
from pathlib import Path

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from gallra.outbox.delivery import deliver
from gallra.policy.command import FOUND, USAGE, GallraCommand
from gallra.policy.loading import policy_for_command
from gallra.subjects import cases, changes, erasure, export
from gallra.subjects.identity import BadIdentity, Identity
from gallra.subjects.models import SubjectRequest

# Demo people (gallra demo): the same addresses every day. Each flow starts with its own
# request, so the examples can run again.
OMAR = "omar.sahlin@martensson-eriksson-ab.example"
KERSTIN = "kerstin.jonsson@borg-ab.example"  # the demo's verified erasure request
KRISTINA = "kristina.lindstrom@haglund-hansson-hb.example"  # the demo's rectification
DAGMAR = "dagmar.holmgren@haglund-hansson-hb.example"
KATHARINA = "katharina.karlsson@haglund-hansson-hb.example"
MARTEN = "marten.hakansson@borg-ab.example"  # the demo's overdue access request
HOW = "--how 'called back on the number on record'"


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


def _steps(r: SubjectRequest) -> list[dict]:
    return [
        {"store": s.store, "status": s.status, "detail": s.detail} for s in r.steps.order_by("id")
    ]


class Command(GallraCommand):
    help = gettext_lazy("Register, verify and answer data-subject requests (access, erasure, ...).")
    examples = (
        f"gallra subject request --type access --email {OMAR}",
        f"gallra subject request --type erasure --email {KERSTIN}",
        f"gallra subject request --type rectification --email {KRISTINA} --field name "
        "--value 'Kristina Lind'",
        f"gallra subject request --type restriction --email {DAGMAR} --format json",
        f"gallra subject request --type objection --email {KATHARINA} --category correspondence",
        "gallra subject list",
        "gallra subject list --all --format json",
        f"gallra subject show {MARTEN}",
        f"gallra subject show {MARTEN} --format json",
        f"gallra subject send-link {OMAR} --lang en",
        f"gallra subject verify {OMAR} {HOW}",
        f"gallra subject extend {OMAR} --months 2 --reason 'three systems to search' --told today",
        f"gallra subject export {OMAR} --out /tmp/gallra-access.zip --lang en",
        f"gallra subject verify {KERSTIN} {HOW}",
        f"gallra subject erase {KERSTIN} --certificate /tmp/gallra-certificate.html",
        f"gallra subject verify {KRISTINA} {HOW}",
        f"gallra subject rectify {KRISTINA}",
        f"gallra subject verify {DAGMAR} {HOW}",
        f"gallra subject restrict {DAGMAR}",
        f"gallra subject unrestrict {DAGMAR}",
        f"gallra subject verify {KATHARINA} {HOW}",
        f"gallra subject object {KATHARINA}",
    )

    def add_arguments(self, parser):
        ref_help = gettext_lazy(
            "the request's ref, or the subject's e-mail address (their oldest open request)"
        )
        email_help = gettext_lazy("the subject's e-mail address")
        by_ref_help = gettext_lazy("only this request of theirs (its ref)")

        p = self._action(
            parser, "request", self.request, gettext_lazy("Register a request; prints its ref.")
        )
        p.add_argument("--type", required=True, choices=SubjectRequest.Kind.values)
        p.add_argument("--email", required=True, help=email_help)
        p.add_argument("--name", default="", help=gettext_lazy("the subject's name"))
        p.add_argument("--username", default="", help=gettext_lazy("the subject's user name"))
        p.add_argument(
            "--personnummer", default="", help=gettext_lazy("the subject's personnummer")
        )
        p.add_argument("--received", help=gettext_lazy("YYYY-MM-DD (default: today)"))
        p.add_argument(
            "--field", default="", help=gettext_lazy("rectification: email, name or username")
        )
        p.add_argument("--value", default="", help=gettext_lazy("rectification: the correct value"))
        p.add_argument(
            "--category", default="", help=gettext_lazy("objection: the category objected to")
        )
        self.add_format(p)

        p = self._action(
            parser,
            "list",
            self.list_requests,
            gettext_lazy("Requests, open ones by deadline (overdue first)."),
        )
        p.add_argument("--all", action="store_true", help=gettext_lazy("closed ones too"))
        self.add_format(p)

        p = self._action(
            parser, "show", self.show, gettext_lazy("One request, with what each store did.")
        )
        p.add_argument("ref", metavar="REF|EMAIL", help=ref_help)
        self.add_format(p)

        p = self._action(
            parser,
            "send-link",
            self.send_link,
            gettext_lazy("E-mail a one-time verification link."),
        )
        p.add_argument("ref", metavar="REF|EMAIL", help=ref_help)
        self._subject_lang(p, gettext_lazy("the mail's language (default: %(default)s)"))

        p = self._action(
            parser, "verify", self.verify, gettext_lazy("Record how staff verified the identity.")
        )
        p.add_argument("ref", metavar="REF|EMAIL", help=ref_help)
        p.add_argument(
            "--how",
            required=True,
            help=gettext_lazy("how the identity was verified, e.g. 'called back on the number'"),
        )
        p.add_argument(
            "--by",
            default=getpass.getuser(),
            help=gettext_lazy("who verified it (default: you, %(default)s)"),
        )

        p = self._action(
            parser, "extend", self.extend, gettext_lazy("Extend the deadline (Art. 12(3)).")
        )
        p.add_argument("ref", metavar="REF|EMAIL", help=ref_help)
        p.add_argument("--months", type=int, required=True, help=gettext_lazy("1 or 2"))
        p.add_argument(
            "--reason", required=True, help=gettext_lazy("the reason the subject was given")
        )
        p.add_argument(
            "--told",
            required=True,
            metavar="DATE",
            help=gettext_lazy("the day the subject was told, YYYY-MM-DD or 'today'"),
        )

        p = self._action(
            parser,
            "export",
            self.export,
            gettext_lazy("Answer an access/portability request with a ZIP."),
        )
        p.add_argument("email", help=email_help)
        p.add_argument("--out", required=True, help=gettext_lazy("the ZIP file to write"))
        p.add_argument("--request", dest="ref", help=by_ref_help)
        self._subject_lang(p, gettext_lazy("the archive's language (default: %(default)s)"))

        p = self._action(
            parser, "erase", self.erase, gettext_lazy("Answer an erasure request; rerun to finish.")
        )
        p.add_argument("email", help=email_help)
        p.add_argument("--request", dest="ref", help=by_ref_help)
        p.add_argument(
            "--certificate", help=gettext_lazy("write the erasure certificate (HTML) here")
        )
        self._subject_lang(p, gettext_lazy("the certificate's language (default: %(default)s)"))
        self.add_format(p)

        for name, method, text in (
            ("rectify", self.rectify, gettext_lazy("Answer a rectification request.")),
            ("restrict", self.restrict, gettext_lazy("Answer a restriction request.")),
            ("object", self.object_to, gettext_lazy("Answer an objection.")),
        ):
            p = self._action(parser, name, method, text)
            p.add_argument("email", help=email_help)
            p.add_argument("--request", dest="ref", help=by_ref_help)

        p = self._action(parser, "unrestrict", self.unrestrict, gettext_lazy("Lift a restriction."))
        p.add_argument("email", help=email_help)

    def _action(self, parser, name: str, method: Callable[[dict], None], text: str):
        """An action whose refusals (no such request, not verified, a bad address) exit 2
        with their reason."""

        def run(options: dict) -> None:
            try:
                method(options)
            except cases.CaseError as exc:
                self.fail(exc.translated(), USAGE)
            except BadIdentity as exc:
                self.fail(str(exc), USAGE)
            except export.ExportIncomplete as exc:
                self.fail(_("nothing exported: %(why)s") % {"why": exc}, FOUND)

        return self.action(parser, name, run, help=text)

    def _subject_lang(self, parser, what) -> None:
        # The subject's language, not the terminal's: the messages here follow LANG.
        parser.add_argument(
            "--lang",
            dest="subject_lang",
            choices=["sv", "en"],
            default="sv",
            help=what,
        )

    # -- reading the arguments ------------------------------------------------------------

    def _date(self, text: str) -> date:
        if text == "today":
            return timezone.localdate()
        try:
            return date.fromisoformat(text)
        except ValueError:
            self.fail(_("%(text)r is not a date (YYYY-MM-DD)") % {"text": text}, USAGE)

    def _request(self, ref: str, closed_too: bool = False) -> SubjectRequest:
        if "@" not in ref:
            try:
                return SubjectRequest.objects.get(ref=cases.normal_ref(ref))
            except SubjectRequest.DoesNotExist:
                self.fail(_("no request %(ref)r") % {"ref": ref}, USAGE)
        email = Identity.of(ref).email.lower()
        theirs = [
            r for r in SubjectRequest.objects.order_by("received", "pk") if r.email.lower() == email
        ]
        still_open = [r for r in theirs if r.is_open]
        if still_open:
            return still_open[0]
        if closed_too and theirs:
            return theirs[-1]
        self.fail(_("no open request from %(email)s") % {"email": ref}, USAGE)

    # -- the actions ------------------------------------------------------------------------

    def request(self, o):
        identity = Identity.of(o["email"], o["name"], o["username"], o["personnummer"])
        at = timezone.localdate()
        request = cases.open_request(
            o["type"],
            identity,
            received=self._date(o["received"]) if o["received"] else at,
            now=timezone.now(),
            actor=self._actor(),
            change_field=o["field"],
            change_value=o["value"],
            category=o["category"],
        )
        if o["format"] == "json":
            self.write_json(_row(request, at) | {"email": request.email})
            return
        self.stdout.write(
            _("%(ref)s registered, due %(due)s") % {"ref": request.ref, "due": request.due}
        )

    def list_requests(self, o):
        at = timezone.localdate()
        requests = cases.open_by_deadline()
        if not o["all"]:
            requests = requests.filter(status__in=SubjectRequest.OPEN)
        if o["format"] == "json":
            self.write_json([_row(r, at) | {"email": r.email} for r in requests])
            return
        for r in requests:
            late = " OVERDUE" if r.is_overdue(at) else ""
            self.stdout.write(f"{r.due}{late}  {r.ref}  {r.kind}  {r.status}  {r.email}")

    def show(self, o):
        at = timezone.localdate()
        r = self._request(o["ref"], closed_too=True)
        if o["format"] == "json":
            row = _row(r, at) | {"email": r.email, "stores": _steps(r), "answer": r.answer}
            self.write_json(row)
            return
        self.stdout.write(
            _("%(ref)s: %(kind)s, %(status)s, received %(received)s, due %(due)s")
            % {
                "ref": r.ref,
                "kind": r.kind,
                "status": r.get_status_display(),
                "received": r.received,
                "due": r.due,
            }
            + (" (OVERDUE)" if r.is_overdue(at) else "")
        )
        self._write_steps(r)
        if r.answer:
            self.stdout.write(json.dumps(r.answer, ensure_ascii=False, indent=2))

    def send_link(self, o):
        request = self._request(o["ref"])
        link = cases.send_link(
            policy_for_command(),
            request,
            now=timezone.now(),
            actor=self._actor(),
            lang=o["subject_lang"],
        )
        valid = {"to": link.sent_to, "until": f"{link.expires:%Y-%m-%d %H:%M}"}
        outcome = deliver()  # a command is no web request: it delivers the outbox itself
        if outcome.failed or outcome.given_up:
            self.fail(
                _(
                    "link to %(to)s queued (valid until %(until)s), but the relay failed: "
                    "%(error)s. It is tried again by `gallra serve` or `gallra outbox send` "
                    "(docs/mail.md)"
                )
                % {**valid, "error": outcome.errors[-1]},
                FOUND,
            )
        self.stdout.write(_("link sent to %(to)s, valid until %(until)s") % valid)

    def verify(self, o):
        request = self._request(o["ref"])
        cases.verify_by_staff(request, o["how"], o["by"], now=timezone.now())
        self.stdout.write(_("%(ref)s: identity verified") % {"ref": request.ref})

    def extend(self, o):
        r = self._request(o["ref"])
        told = self._date(o["told"])
        cases.extend(r, o["months"], o["reason"], told, now=timezone.now(), actor=self._actor())
        self.stdout.write(_("%(ref)s: due %(due)s") % {"ref": r.ref, "due": r.due})

    def export(self, o):
        r = cases.request_for(o["email"], ("access", "portability"), o["ref"])
        data = export.export_request(
            policy_for_command(),
            r,
            now=timezone.now(),
            at=timezone.localdate(),
            lang=o["subject_lang"],
            actor=self._actor(),
        )
        Path(o["out"]).write_bytes(data)
        self.stdout.write(
            ngettext(
                "%(ref)s: wrote %(path)s (%(n)s byte)",
                "%(ref)s: wrote %(path)s (%(n)s bytes)",
                len(data),
            )
            % {"ref": r.ref, "path": o["out"], "n": len(data)}
        )

    def erase(self, o):
        policy = policy_for_command()
        r = cases.request_for(o["email"], ("erasure",), o["ref"])
        erasure.erase_request(
            policy, r, now=timezone.now(), at=timezone.localdate(), actor=self._actor()
        )
        done = r.status == SubjectRequest.Status.DONE
        if done and o["certificate"]:
            Path(o["certificate"]).write_text(
                erasure.certificate_html(r, policy, o["subject_lang"]), encoding="utf-8"
            )
        if o["format"] == "json":
            self.write_json({"ref": r.ref, "status": r.status, "stores": _steps(r)})
        else:
            self._write_steps(r)
        if not done:
            self.fail(
                _(
                    "%(ref)s stays open: rerun `gallra subject erase` when the failed stores "
                    "are back"
                )
                % {"ref": r.ref},
                FOUND,
            )
        if o["format"] == "text":
            self.stdout.write(_("%(ref)s: done") % {"ref": r.ref})

    def rectify(self, o):
        r = cases.request_for(o["email"], ("rectification",), o["ref"])
        result = changes.rectify(policy_for_command(), r, now=timezone.now(), actor=self._actor())
        self.stdout.write(json.dumps(result, ensure_ascii=False))
        if result["failed"]:
            self.fail(
                _("%(ref)s stays open: rerun when the failed stores are back") % {"ref": r.ref},
                FOUND,
            )

    def restrict(self, o):
        r = cases.request_for(o["email"], ("restriction",), o["ref"])
        changes.restrict(r, now=timezone.now(), actor=self._actor(), at=timezone.localdate())
        self.stdout.write(_("%(ref)s: %(email)s restricted") % {"ref": r.ref, "email": r.email})

    def unrestrict(self, o):
        changes.lift_restriction(o["email"], now=timezone.now(), actor=self._actor())
        self.stdout.write(_("%(email)s: restriction lifted") % {"email": o["email"]})

    def object_to(self, o):
        r = cases.request_for(o["email"], ("objection",), o["ref"])
        objection = changes.object_to(
            policy_for_command(),
            r,
            now=timezone.now(),
            actor=self._actor(),
            at=timezone.localdate(),
        )
        self.stdout.write(
            _("%(ref)s: %(outcome)s") % {"ref": r.ref, "outcome": objection.get_outcome_display()}
        )

    def _actor(self) -> str:
        return f"cli:{getpass.getuser()}"

    def _write_steps(self, r: SubjectRequest) -> None:
        for step in r.steps.order_by("id"):
            self.stdout.write(f"  {step.store}: {step.status} {step.detail}")
