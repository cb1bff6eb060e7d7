"""`gallra serve [--host H] [--port 8000] [--threads 8] [--workers 1] [--trusted-proxy ADDR]`.

Runs gallra under waitress, a production WSGI server (not Django's runserver, which is for
development only). Static files, the admin's included, are served by WhiteNoise from the
same process, so nothing else is needed on a small installation. Behind a TLS proxy
(GALLRA_HTTPS=1) the proxy's X-Forwarded-Proto and X-Forwarded-For are trusted from
--trusted-proxy only (default 127.0.0.1); see docs/production.md.

On SQLite it also runs the jobs in its own threads: the daily run (`enforce`, deleting only
once armed, reminders, checks and backups; GALLRA_ENFORCE_TIME, see instance/schedule.py) and
the outbox's mail. On PostgreSQL it answers the web only, with --workers processes on one
port (instance/prefork.py), and `gallra worker` runs the jobs (instance/jobs.py)."""

from __future__ import annotations

import functools
import os
import sys

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from gallra.instance import database, prefork
from gallra.policy.command import USAGE, GallraCommand


class Command(GallraCommand):
    help = gettext_lazy("Serve gallra over HTTP with waitress (production WSGI server).")
    # It never returns (Ctrl-C or SIGTERM stops it): these are shown, not run, by the tests.
    examples = (
        "gallra serve",
        "gallra serve --host 0.0.0.0 --port 8080 --threads 16",
        "gallra serve --trusted-proxy 10.0.0.2",
        "gallra serve --workers 2  # PostgreSQL: one web process per core",
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--host", default="127.0.0.1", help=gettext_lazy("address to listen on")
        )
        parser.add_argument(
            "--port", type=int, default=8000, help=gettext_lazy("port (default 8000)")
        )
        parser.add_argument(
            "--threads",
            type=int,
            default=8,
            help=gettext_lazy("threads per web process (default 8)"),
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=1,
            help=gettext_lazy(
                "web processes sharing the port, for every core (default 1; more need PostgreSQL)"
            ),
        )
        parser.add_argument(
            "--trusted-proxy",
            metavar="ADDR",
            help=gettext_lazy(
                "address of the TLS proxy whose X-Forwarded-* headers to believe "
                "(default 127.0.0.1 when GALLRA_HTTPS=1, none otherwise)"
            ),
        )

    def run(self, options: dict) -> None:
        import waitress

        host, port, threads = options["host"], options["port"], options["threads"]
        trusted_proxy = options.get("trusted_proxy")

        database.require_ready()
        from gallra.instance import jobs

        processes = options["workers"]
        if processes < 1 or threads < 1:
            self.fail(_("--workers and --threads must be at least 1"), USAGE)
        if processes > 1 and not jobs.queued():
            self.fail(
                _(
                    "several web processes need PostgreSQL: SQLite takes one writer at a time "
                    "and `gallra serve` runs its jobs itself (docs/production.md)"
                ),
                USAGE,
            )
        https = os.environ.get("GALLRA_HTTPS") == "1"
        if trusted_proxy is None and https:
            trusted_proxy = "127.0.0.1"
        proxy = {}
        if trusted_proxy:
            proxy = {
                "trusted_proxy": trusted_proxy,
                "trusted_proxy_headers": {"x-forwarded-proto", "x-forwarded-for"},
                "clear_untrusted_proxy_headers": True,
            }
        from gallra.wsgi import application

        if jobs.queued():  # PostgreSQL: `gallra worker` runs the jobs (docs/jobs.md)
            self.stdout.write(
                "gallra: " + _("jobs go to the queue: run `gallra worker` to do them")
            )
        else:
            self._start_jobs()
        shown = f"[{host}]" if ":" in host else host
        self.stdout.write(
            "gallra: " + _("serving on %(url)s") % {"url": f"http://{shown}:{port}/admin/"}
        )
        if https:
            self.stdout.write(
                "gallra: "
                + _("behind a TLS proxy at %(proxy)s (GALLRA_HTTPS=1)") % {"proxy": trusted_proxy}
            )
        self.stdout.write("gallra: " + _("stop with Ctrl-C"))
        self.stdout.flush()
        # Threads that wait on the network or the disk (the consent writer's commits) get the
        # interpreter back sooner from threads busy with Python: lower latency under load.
        sys.setswitchinterval(0.0005)
        serve = functools.partial(
            waitress.serve, application, threads=threads, ident="gallra", **proxy
        )
        if processes == 1:
            serve(host=host, port=port)
            return
        self.stdout.write("gallra: " + _("%(n)s web processes share the port") % {"n": processes})
        self.stdout.flush()
        prefork.run(serve, host, port, processes)

    def _start_jobs(self) -> None:
        """SQLite: the daily run and the mail in this process's own threads, no other service."""
        from gallra.instance.schedule import armed_line, daily_time, start_daily_thread
        from gallra.outbox.delivery import EVERY, start_thread

        if start_daily_thread():
            self.stdout.write(
                "gallra: "
                + _("enforcing the policy daily after %(time)s") % {"time": f"{daily_time():%H:%M}"}
            )
            self.stdout.write(f"gallra: {armed_line()}")
        start_thread()  # mail from the web pages goes out after the answer (docs/mail.md)
        self.stdout.write(
            "gallra: " + _("delivering the outbox's mail every %(s)s s") % {"s": f"{EVERY:g}"}
        )
