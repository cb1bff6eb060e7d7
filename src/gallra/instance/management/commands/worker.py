"""`gallra worker [--concurrency 4]`: run the jobs from the queue, on PostgreSQL (docs/jobs.md).

Any number of workers, on one machine or several, share the queue in the database: the day's
run, mail delivery, and the exports and erasures staff start from the admin. SIGTERM or
Ctrl-C lets the jobs in hand finish; SIGKILL leaves them to another worker (instance/jobs.py).
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from gallra.instance import database
from gallra.policy.command import USAGE, GallraCommand


class Command(GallraCommand):
    help = gettext_lazy("Run gallra's jobs from the queue (PostgreSQL): the daily run, mail.")
    # It never returns (Ctrl-C or SIGTERM stops it): these are shown, not run, by the tests.
    examples = ("gallra worker", "gallra worker --concurrency 8", "gallra worker --burst")

    def add_arguments(self, parser):
        parser.add_argument(
            "--burst",
            action="store_true",
            help=gettext_lazy("do the jobs waiting now, then stop"),
        )
        parser.add_argument(
            "--concurrency",
            type=int,
            default=4,
            help=gettext_lazy("jobs this worker runs at once (default 4)"),
        )

    def run(self, options: dict) -> None:
        from gallra.instance import jobs

        database.require_ready()
        if not jobs.queued():
            self.fail(
                _(
                    "this instance runs on SQLite, which has no job queue: `gallra serve` runs "
                    "the jobs itself (docs/jobs.md); workers need PostgreSQL"
                ),
                USAGE,
            )
        if options["concurrency"] < 1:
            self.fail(_("--concurrency must be at least 1"), USAGE)
        if options["burst"]:
            self._run(options)
            return
        from gallra.instance.schedule import armed_line, daily_time

        when = daily_time()
        if when is None:
            self.stdout.write("gallra: " + _("the daily run is off (GALLRA_ENFORCE_TIME=off)"))
        else:
            daily = _("enforcing the policy daily after %(time)s") % {"time": f"{when:%H:%M}"}
            self.stdout.write(f"gallra: {daily}")
            self.stdout.write(f"gallra: {armed_line()}")
        self.stdout.write(
            "gallra: "
            + _("worker running %(n)s jobs at once; stop with Ctrl-C")
            % {"n": options["concurrency"]}
        )
        self.stdout.flush()
        self._run(options)

    def _run(self, options: dict) -> None:
        from gallra.instance import jobs

        app = jobs.app
        with app.replace_connector(app.connector.get_worker_connector()):
            app.run_worker(
                concurrency=options["concurrency"],
                update_heartbeat_interval=jobs.HEARTBEAT_EVERY,
                stalled_worker_timeout=jobs.STALLED_AFTER,
                delete_jobs="successful",
                wait=not options["burst"],
                install_signal_handlers=not options["burst"],
            )
