"""`gallra explain TYPE REF | DATASET:TABLE:KEY [--at DATE] [--lang sv|en]`: one record's
fate, in words (a registry record by its type and ref, a store's by its whole ref)."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from gallra.policy.command import USAGE
from gallra.retention.command import DateCommand
from gallra.retention.explaining import explanation
from gallra.retention.kinds import KINDS
from gallra.retention.planner import plan
from gallra.retention.stores import stores


class Command(DateCommand):
    help = gettext_lazy(
        "Explain whether one record is deleted on a date, under which rule, or why it is kept."
    )
    examples = (
        "gallra explain customer demo-C001",
        "gallra explain customer demo-C002 --at 2028-01-01 --lang sv",
        "gallra explain customer demo-C002 --format json",
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "record_type",
            metavar="TYPE|REF",
            help=gettext_lazy(
                "a registry record type (%(types)s) followed by its ref, or a dataset row's "
                "whole ref, DATASET:TABLE:KEY"
            )
            % {"types": ", ".join(sorted(KINDS))},
        )
        parser.add_argument("ref", nargs="?", help=gettext_lazy("the record's ref"))
        self.add_date_arguments(parser)
        self.add_format(parser)

    def run(self, options):
        record_type, ref = options["record_type"], options["ref"]
        policy, at, lang = self.resolve(options)
        if ref is None:  # a store's record, by its whole ref
            found = (store.explain(policy, at, record_type) for store in stores())
            decision = next((d for d in found if d is not None), None)
            if decision is None:
                self.fail(_("no record with ref %(ref)r") % {"ref": record_type}, USAGE)
        else:
            if record_type not in KINDS:
                self.fail(
                    _("%(type)r is not a record type (one of: %(known)s)")
                    % {"type": record_type, "known": ", ".join(sorted(KINDS))},
                    USAGE,
                )
            decisions = list(plan(policy, at, record_type, ref))
            if not decisions:
                self.fail(
                    _("no %(type)s with ref %(ref)r") % {"type": record_type, "ref": ref}, USAGE
                )
            decision = decisions[0]
        if options["format"] == "json":
            self.write_json(
                {**decision.as_dict(), "explanation": explanation(policy, decision, at, lang)}
            )
        else:
            self.stdout.write(explanation(policy, decision, at, lang))
