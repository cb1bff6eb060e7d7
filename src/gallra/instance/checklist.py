"""The production checklist: every piece a production instance needs, each checked on its own.

`gallra check` prints every item, one line each (`ok` or `FAIL`, what, and when failing what
to do), and exits 1 while one fails. The admin's front page shows the failing items in red
(dashboard/panels.py), computed by the server process itself: what the server sees, not
what a shell sees. That is the point of several items: a setting missing from the server's
environment makes no error anywhere, the daily backup just does not run.

Each item is a small function `(ctx) -> Item | None` (None: it does not apply here, e.g. the
CREATEDB right on SQLite). To add one: write the function (in the module of the app it is
about, or here), and add `Check(function)` to ITEMS below; `slow=True` when it runs a
program or goes over the network (the front page leaves it out), `own_row=True` when the
front page's daily checks already have a row for it.

The settings are those of this process: its environment, and `$GALLRA_DATA/env` for what the
environment leaves out (config.load_env_file, read by settings.py as every gallra process
starts). docs/production.md keeps every setting in that file, so that the server, cron and
a shell all read the same.
"""

from __future__ import annotations

import os
import pwd
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db import connection
from django.http.request import validate_host
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from gallra import config
from gallra.backups.dump import can_create_databases
from gallra.backups.models import BackupRun
from gallra.backups.restic import BackupError, restic
from gallra.logins.models import Escrow
from gallra.outbox.delivery import status as outbox_status
from gallra.policy.model import Policy
from gallra.retention import arming
from gallra.retention.tasks import unreached

STALE = timedelta(days=2)  # a daily backup or drill older than this did not run last night
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
EXAMPLE_HOST = "gallra.example.se"


@dataclass(frozen=True)
class Item:
    """One line of the checklist."""

    ok: bool
    what: str  # what is checked, for people: "escrow key (staff logins)"
    detail: str  # what was found; when failing, what to do
    problem: str = ""  # failing: the few words for the command's last line (default: what)


@dataclass(frozen=True)
class Context:
    policy: Policy
    now: datetime
    deploy: bool = False  # `gallra check --deploy`: a production instance, checked strictly
    actor: str = "check"  # who the evidence log names for what a check records


@dataclass(frozen=True)
class Check:
    run: Callable[[Context], Item | None]
    slow: bool = False  # runs a program or reaches over the network: not on every page view
    own_row: bool = False  # the front page's daily checks have a row of their own for it


# -- where the settings come from --------------------------------------------------------------


def env_file() -> str:
    return str(settings.GALLRA_DATA / config.ENV_FILE_NAME)


def _user() -> str:
    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:
        return str(os.geteuid())


def settings_file(ctx: Context) -> Item:
    """`$GALLRA_DATA/env`: readable, every line a setting, not readable by other users."""
    path = settings.GALLRA_DATA / config.ENV_FILE_NAME
    what = _("settings file %(path)s") % {"path": path}
    if not path.exists():
        return Item(True, what, _("none: every setting comes from the environment"))
    try:
        found = config.read_env_file(path)
    except config.ConfigError as exc:  # not readable, or a line that is no setting
        return Item(False, what, str(exc))
    if path.stat().st_mode & 0o007:
        detail = _(
            "every user of the machine can read it, and it may hold passwords: chmod 600 %(path)s"
        ) % {"path": path}
        return Item(False, what, detail)
    overridden = sorted(n for n, v in found.items() if os.environ.get(n, v) != v)
    detail = ngettext(
        "%(n)s setting, read by every gallra process with GALLRA_DATA=%(data)s",
        "%(n)s settings, read by every gallra process with GALLRA_DATA=%(data)s",
        len(found),
    ) % {"n": len(found), "data": settings.GALLRA_DATA}
    if overridden:
        detail += _(" (the environment overrides %(names)s)") % {"names": ", ".join(overridden)}
    return Item(True, what, detail)


def _source(name: str) -> str:
    """Where this process got a setting: ` (from $GALLRA_DATA/env)`, or nothing."""
    try:
        found = config.read_env_file(settings.GALLRA_DATA / config.ENV_FILE_NAME)
    except config.ConfigError:
        return ""
    if name in found and os.environ.get(name) == found[name]:
        return _(" (from %(file)s)") % {"file": env_file()}
    return ""


# -- the public address --------------------------------------------------------------------------


def _local_only() -> bool:
    """The site answers to loopback names only: a demo or a laptop, reached from nowhere else."""
    return all(h in LOOPBACK for h in settings.ALLOWED_HOSTS)


def _public_host() -> str:
    return next(
        (h.lstrip(".") for h in settings.ALLOWED_HOSTS if h not in LOOPBACK and h != "*"),
        EXAMPLE_HOST,
    )


def base_url(ctx: Context) -> Item:
    """Links in mail and the privacy notice start with GALLRA_BASE_URL: they must lead here."""
    url = settings.GALLRA_BASE_URL
    what = _("public address (GALLRA_BASE_URL)")
    parts = urlsplit(url)
    public = ctx.deploy or settings.GALLRA_HTTPS or not _local_only()
    wanted = f"https://{_public_host()}"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        detail = _("%(url)r is not an address: set GALLRA_BASE_URL=%(wanted)s") % {
            "url": url,
            "wanted": wanted,
        }
        return Item(False, what, detail)
    if public and parts.hostname in LOOPBACK:
        detail = _(
            "%(url)s: the links in mail to data subjects and staff, and the privacy notice's, "
            "lead to this machine's loopback address, which nobody else can open; set "
            "GALLRA_BASE_URL=%(wanted)s in %(file)s"
        ) % {"url": url, "wanted": wanted, "file": env_file()}
        return Item(False, what, detail)
    if public and parts.scheme != "https":
        detail = _("%(url)s: the site is reached over HTTPS, so must its links: set %(fix)s") % {
            "url": url,
            "fix": "GALLRA_BASE_URL=" + url.replace("http://", "https://", 1),
        }
        return Item(False, what, detail)
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    if not validate_host(host, settings.ALLOWED_HOSTS):
        detail = _(
            "%(url)s: the site does not answer to %(host)s (GALLRA_ALLOWED_HOSTS), so its links "
            "would be refused: add it to GALLRA_ALLOWED_HOSTS"
        ) % {"url": url, "host": parts.hostname}
        return Item(False, what, detail)
    if not public:
        detail = _(
            "%(url)s: a local instance, answering on this machine only; set GALLRA_BASE_URL "
            "when it is reached from elsewhere"
        ) % {"url": url}
        return Item(True, what, detail)
    return Item(True, what, url + _source("GALLRA_BASE_URL"))


def https(ctx: Context) -> Item:
    """A site reached from elsewhere is reached over TLS: secure cookies and HSTS."""
    what = _("HTTPS (GALLRA_HTTPS)")
    if settings.GALLRA_HTTPS:
        return Item(True, what, _("on: secure cookies, HSTS, the proxy's X-Forwarded-Proto"))
    if not (ctx.deploy or not _local_only() or settings.GALLRA_BASE_URL.startswith("https:")):
        return Item(True, what, _("off: a local instance, plain HTTP on this machine"))
    detail = _(
        "off, while the site is reached from elsewhere (%(hosts)s): cookies without the Secure "
        "flag, no HSTS; put it behind a TLS proxy and set GALLRA_HTTPS=1 in %(file)s"
    ) % {"hosts": ", ".join(settings.ALLOWED_HOSTS), "file": env_file()}
    return Item(False, what, detail)


# -- where the server is -------------------------------------------------------------------------


def server_country(ctx: Context) -> Item:
    """P12: the server is a place of the data too, and every place says where it is."""
    country = os.environ.get("GALLRA_SERVER_COUNTRY", "")
    allowed = ", ".join(ctx.policy.residency.allowed_countries)
    what = _("server country (GALLRA_SERVER_COUNTRY)")
    if not country:
        detail = _(
            "not declared: set GALLRA_SERVER_COUNTRY to the country code of where this server "
            "stands (the policy allows %(allowed)s) in %(file)s"
        ) % {"allowed": allowed, "file": env_file()}
        return Item(False, what, detail)
    if country not in ctx.policy.residency.allowed_countries:
        detail = _("%(country)s is outside the policy's allowed countries (%(allowed)s)") % {
            "country": country,
            "allowed": allowed,
        }
        return Item(False, what, detail)
    return Item(True, what, country + _source("GALLRA_SERVER_COUNTRY"))


# -- staff logins --------------------------------------------------------------------------------


def escrow(ctx: Context) -> Item:
    """Staff logins are sealed to the escrow key; without it they are not recorded at all."""
    what = _("escrow key (staff logins)")
    key = Escrow.current()
    if key is None:
        detail = _(
            "none: staff logins are not recorded and no login address can be sealed, although "
            "the privacy notice says they are logged; make it with `gallra logins escrow "
            "init` and hand out the shares (docs/logins.md)"
        )
        return Item(False, what, detail, _("no escrow key"))
    detail = _("%(id)s: %(threshold)s of %(shares)s shares open it; staff logins are recorded") % {
        "id": key.set_id,
        "threshold": key.threshold,
        "shares": key.shares,
    }
    return Item(True, what, detail)


# -- backups -------------------------------------------------------------------------------------


def backup_repository(ctx: Context) -> Item:
    """Without it `gallra serve` skips the backup and the drill, and says nothing."""
    repository = settings.GALLRA_BACKUP_REPOSITORY
    what = _("backup repository (GALLRA_BACKUP_REPOSITORY)")
    if not repository:
        detail = _(
            "not set in this process: the daily backup and its restore drill do not run, "
            "and nothing else says so; set GALLRA_BACKUP_REPOSITORY and "
            "GALLRA_BACKUP_PASSWORD_FILE in %(file)s (docs/backups.md)"
        ) % {"file": env_file()}
        return Item(False, what, detail, _("no backup repository"))
    return Item(True, what, repository + _source("GALLRA_BACKUP_REPOSITORY"))


def _password_problem() -> str:
    path = settings.GALLRA_BACKUP_PASSWORD_FILE
    values = {"path": path, "user": _user(), "file": env_file()}
    if not path:
        return (
            _(
                "not set in this process: restic cannot open the repository; set "
                "GALLRA_BACKUP_PASSWORD_FILE in %(file)s to a file holding its password"
            )
            % values
        )
    try:
        with open(path, "rb") as f:
            empty = not f.read().strip()
    except FileNotFoundError:
        return _("%(path)s does not exist") % values
    except OSError as exc:
        return _(
            "this process (user %(user)s) cannot read %(path)s (%(error)s), so neither can the "
            "server running as that user: chown %(user)s %(path)s; chmod 600 %(path)s"
        ) % (values | {"error": exc.strerror or exc})
    if empty:
        return _("%(path)s is empty") % values
    if os.stat(path).st_mode & 0o007:
        return (
            _(
                "every user of the machine can read %(path)s, and with it every backup: "
                "chmod 600 %(path)s"
            )
            % values
        )
    return ""


def backup_password(ctx: Context) -> Item:
    what = _("backup password (GALLRA_BACKUP_PASSWORD_FILE)")
    problem = _password_problem()
    if problem:
        return Item(False, what, problem)
    detail = _("%(path)s, readable by %(user)s, not by other users") % {
        "path": settings.GALLRA_BACKUP_PASSWORD_FILE,
        "user": _user(),
    }
    return Item(True, what, detail)


def backup_reachable(ctx: Context) -> Item | None:
    """restic opens the repository with the password: it exists, is reachable, and is ours."""
    if not settings.GALLRA_BACKUP_REPOSITORY or _password_problem():
        return None  # the two items above say what to do first
    what = _("backup repository reachable")
    try:
        restic("cat", "config")
    except BackupError as exc:
        return Item(False, what, str(exc))
    return Item(True, what, _("restic opens it with the password"))


def database_tools(ctx: Context) -> Item | None:
    """On PostgreSQL the backup runs pg_dump, and the drill pg_restore and psql."""
    if connection.vendor != "postgresql":
        return None
    what = _("PostgreSQL client programs")
    missing = [p for p in ("pg_dump", "pg_restore", "psql") if shutil.which(p) is None]
    if missing:
        detail = _(
            "%(missing)s not installed: the backup and its drill cannot run (Debian: "
            "apt-get install postgresql-client)"
        ) % {"missing": ", ".join(missing)}
        return Item(False, what, detail)
    return Item(True, what, "pg_dump, pg_restore, psql")


def drill(ctx: Context) -> Item | None:
    """The nightly restore drill restores into a scratch database on PostgreSQL."""
    if not settings.GALLRA_BACKUP_REPOSITORY or connection.vendor != "postgresql":
        return None
    role = connection.settings_dict["USER"] or "gallra"
    what = _("restore drill")
    if can_create_databases():
        detail = _("the database role %(role)s may create its scratch database (CREATEDB)")
        return Item(True, what, detail % {"role": role})
    detail = _(
        "the database role %(role)s may not create databases, and the drill restores "
        "each backup into a scratch database: give it CREATEDB (ALTER ROLE %(role)s "
        "CREATEDB; docs/backups.md)"
    ) % {"role": role}
    return Item(False, what, detail, _("the restore drill cannot run"))


def _age(kind: str, what: str, command: str, ctx: Context) -> Item:
    runs = BackupRun.objects.filter(kind=kind).order_by("-started")
    passed = runs.filter(ok=True).first()
    if passed is not None and ctx.now - (passed.finished or passed.started) <= STALE:
        when = f"{timezone.localtime(passed.finished or passed.started):%Y-%m-%d %H:%M}"
        detail = _("%(when)s, snapshot %(id)s") % {"when": when, "id": passed.snapshot[:8]}
        return Item(True, what, detail)
    if passed is None:
        detail = _("never: run `%(command)s` once now") % {"command": command}
    else:
        when = f"{timezone.localtime(passed.finished or passed.started):%Y-%m-%d %H:%M}"
        detail = _("the last one passed %(when)s, over %(days)s days ago") % {
            "when": when,
            "days": STALE.days,
        }
    last = runs.first()
    if last is not None and not last.ok:
        detail += _("; the last attempt failed: %(problem)s") % {
            "problem": last.problem.splitlines()[0] if last.problem else "?"
        }
    detail += _("; `gallra serve` runs it every night when the server sees the backup settings")
    return Item(False, what, detail)


def last_backup(ctx: Context) -> Item:
    return _age(BackupRun.Kind.BACKUP, _("last backup"), "gallra backup run", ctx)


def last_drill(ctx: Context) -> Item:
    return _age(BackupRun.Kind.VERIFY, _("last restore drill"), "gallra backup verify", ctx)


# -- deletion and mail ---------------------------------------------------------------------------


def enforcement(ctx: Context) -> Item:
    """Deleting unattended needs a person's go-ahead (docs/retention.md)."""
    found = arming.notice(ctx.policy, ctx.now, actor=ctx.actor)
    what = _("enforcement")
    if found.armed:
        return Item(True, what, found.how)
    going = arming.would_go(ctx.policy, timezone.localdate(ctx.now), actor=ctx.actor)
    detail = ngettext(
        "not armed (%(why)s) — %(n)s record would be deleted today%(rules)s; review "
        "them with `gallra enforce --dry-run`, then arm with `gallra enforce --arm`",
        "not armed (%(why)s) — %(n)s records would be deleted today%(rules)s; review "
        "them with `gallra enforce --dry-run`, then arm with `gallra enforce --arm`",
        going.total,
    ) % {"why": found.why, "n": going.total, "rules": going.by_rule_text()}
    return Item(False, what, detail, _("enforcement is not armed"))


def outbox(ctx: Context) -> Item:
    """Mail from the web pages waits in the outbox until the relay takes it (docs/mail.md)."""
    found = outbox_status(ctx.now)
    what = _("outgoing mail")
    if found.problems():
        return Item(False, what, "; ".join(found.problems()), _("outgoing mail is failing"))
    detail = ngettext(
        "%(n)s waiting in the outbox", "%(n)s waiting in the outbox", found.waiting
    ) % {"n": found.waiting}
    return Item(True, what, detail)


def workers(ctx: Context) -> Item | None:
    """On PostgreSQL `gallra worker` runs the daily jobs, the mail, exports and erasures."""
    from gallra.instance import jobs

    if not jobs.queued():
        return None  # SQLite: `gallra serve` runs them itself
    what = _("job workers")
    alive = jobs.alive_workers()
    if not alive:
        detail = _(
            "no `gallra worker` has been seen in the last %(s)s seconds: the daily run, "
            "mail, exports and erasures wait until one runs (docs/jobs.md)"
        ) % {"s": f"{jobs.STALLED_AFTER:g}"}
        return Item(False, what, detail, _("no job worker is running"))
    return Item(True, what, ngettext("%(n)s alive", "%(n)s alive", alive) % {"n": alive})


# -- manual tasks (retention/tasks.py; the front page's task panel has them in red) ------------


def _who(found) -> str:
    return ", ".join(
        ngettext("%(user)s (%(n)s open task)", "%(user)s (%(n)s open tasks)", u.tasks)
        % {"user": u.username, "n": u.tasks}
        for u in found
    )


def staff_without_email(ctx: Context) -> Item:
    """Task reminders go by e-mail: an assignee without an address never gets one."""
    found = [u for u in unreached() if not u.left]
    what = _("staff without e-mail who have tasks")
    if not found:
        return Item(True, what, _("none"))
    who = _who(found)
    detail = _(
        "%(who)s: no reminder reaches them; set an address with `gallra staff email USER ADDRESS`"
    ) % {"who": who}
    return Item(False, what, detail)


def tasks_of_staff_who_left(ctx: Context) -> Item:
    """A task stays with the person it was given to; who left cannot do it or say it is done."""
    found = [u for u in unreached() if u.left]
    what = _("open tasks of staff who left")
    if not found:
        return Item(True, what, _("none"))
    who = _who(found)
    detail = _(
        "%(who)s: whoever answers for those customers now has a task of their own; once the "
        "phone or device is handed back and cleared, someone in the accountable role marks "
        "them done (admin: Retention › Manual tasks)"
    ) % {"who": who}
    return Item(False, what, detail)


ITEMS: list[Check] = [
    Check(settings_file),
    Check(base_url),
    Check(https),
    Check(server_country),
    Check(escrow),
    Check(backup_repository),
    Check(backup_password),
    Check(backup_reachable, slow=True),
    Check(database_tools),
    Check(drill),
    Check(last_backup, own_row=True),
    Check(last_drill, own_row=True),
    Check(enforcement, own_row=True),
    Check(outbox, own_row=True),
    Check(workers),
    Check(staff_without_email, own_row=True),
    Check(tasks_of_staff_who_left, own_row=True),
]


def run(ctx: Context, *, quick: bool = False) -> list[Item]:
    """Every item that applies, in order; `quick`: those fit for a page view, without a row
    of their own on the front page. An item that breaks fails, naming why; the others run."""
    found = []
    for check in ITEMS:
        if quick and (check.slow or check.own_row):
            continue
        try:
            item = check.run(ctx)
        except Exception as exc:  # one broken item must not hide the rest of the list
            name = check.run.__name__.replace("_", " ")
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            item = Item(False, name, f"{type(exc).__name__}: {first}".rstrip(": "))
        if item is not None:
            found.append(item)
    return found


def failing(ctx: Context) -> list[Item]:
    """The front page's red lines: the quick items that fail, as the server process sees them."""
    return [item for item in run(ctx, quick=True) if not item.ok]
