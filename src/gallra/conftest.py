"""Shared test set-up: every test runs with fresh keys, never a real key file; `smtp` is a
real SMTP server on loopback for tests of mail."""

import email
import email.policy
import io
import os
import shutil
import socket

import pytest
from aiosmtpd.controller import Controller
from django.core.management import call_command

from gallra import config


def pytest_configure(config: pytest.Config) -> None:
    """Under pytest-xdist (scripts/test.sh runs the suite in parallel processes) each worker
    gets a data directory of its own inside GALLRA_DATA, so that what one worker's tests
    leave there (lock files, staging folders, a policy copy) never meets another's."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return
    from django.conf import settings

    from gallra.config import KEY_FILE_NAME

    shared = settings.GALLRA_DATA
    data = shared / worker
    data.mkdir(parents=True, exist_ok=True)
    os.environ["GALLRA_DATA"] = str(data)  # read again by the policy path and subprocesses
    settings.GALLRA_DATA = data
    if "GALLRA_KEY_FILE" not in os.environ:
        settings.GALLRA_KEY_FILE = data / KEY_FILE_NAME
    database = settings.DATABASES["default"]
    if database["NAME"] == str(shared / "gallra.sqlite3"):
        database["NAME"] = str(data / "gallra.sqlite3")


# The slowest tests (node id ends), started first under pytest-xdist: one that began last
# would keep its worker busy long after the others ran out of work. The first, the year of
# daily backups (minutes), gets a worker to itself while the others share out the rest.
SLOWEST = (
    "backups/tests/test_contract_end_leaves_nothing.py",
    "staff/tests/test_admin_lookups.py::test_every_lookup_on_every_admin_is_plain_or_refused",
    "retention/tests/test_retention_properties.py::test_plan_enforce_and_policy_agree",
    "datasets/tests/test_dataset_properties.py::test_plan_enforce_and_policy_agree_across_the_stores",
    "tests/test_command_help.py::test_every_example_in_the_help_runs",
    "tests/test_command_help.py::test_every_example_in_the_docs_runs",
    "backups/tests/test_backup_verify.py::test_a_damaged_repository_fails_the_check",
    "staff/tests/test_stored_xss.py::test_typed_text_is_escaped_on_every_page",
    "backups/tests/test_drill_failures.py::test_on_production_postgresql_the_drill_needs_createdb_and_says_so",
    "api/tests/test_api_fuzz.py::test_the_api_answers_as_its_schema_says",
    "instance/tests/test_second_provider.py::test_a_second_provider_sees_nothing_of_the_first",
    "instance/tests/test_web_and_workers.py::test_two_servers_and_two_workers_do_everything_once",
    "instance/tests/test_production_units.py",
)


# Tests that only run `gallra` in child processes (instance/tests/conftest.py: `gallra`), which
# always use a SQLite data directory of their own and never the suite's database: on
# PostgreSQL they would repeat the SQLite run exactly (as retention/tests/test_enforce_crash.py).
CHILD_ONLY = pytest.mark.skip(
    reason="runs `gallra` on SQLite in child processes only: the SQLite run covers it"
)
DATABASE_FIXTURES = {
    *("db", "transactional_db", "django_db_reset_sequences", "django_db_serialized_rollback"),
    *("live_server", "client", "admin_client", "django_user_model"),
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    from django.db import connection

    if connection.vendor != "sqlite":
        for item in items:
            names = set(getattr(item, "fixturenames", ()))
            if (
                "gallra" in names
                and not names & DATABASE_FIXTURES
                and not item.get_closest_marker("django_db")
            ):
                item.add_marker(CHILD_ONLY)

    workers = getattr(config, "workerinput", {}).get("workercount", 1)
    if workers > 1:
        items[:] = slowest_first(items, workers)


def slowest_first(items: list[pytest.Item], workers: int) -> list[pytest.Item]:
    """The order that puts the slowest tests at the head of the workers' shares.

    pytest-xdist's `--dist worksteal` (scripts/test.sh) first deals the tests out in
    `workers` consecutive blocks of (nearly) equal length, and later moves tests from the
    end of a busy worker's queue to an idle one. So: the first slow test opens the first
    block alone, the other slow tests open the other blocks in turn, and the rest keep
    pytest's order (module by module) around them."""

    def rank(item: pytest.Item) -> int:
        test = item.nodeid.split("[", 1)[0]  # a file's tests, or one test with all its params
        names = (test, test.split("::", 1)[0])
        return next(
            (i for i, end in enumerate(SLOWEST) if any(n.endswith(end) for n in names)),
            len(SLOWEST),
        )

    slow = sorted((i for i in items if rank(i) < len(SLOWEST)), key=rank)
    rest = [i for i in items if rank(i) == len(SLOWEST)]
    heads: list[list[pytest.Item]] = [[] for _ in range(workers)]
    for n, item in enumerate(slow):
        heads[0 if n == 0 else 1 + (n - 1) % (workers - 1)].append(item)
    ordered, left = [], len(items)
    for block in range(workers):
        size = left // (workers - block)  # as worksteal divides the pending tests
        share = heads[block] + rest[: max(0, size - len(heads[block]))]
        del rest[: len(share) - len(heads[block])]
        ordered += share
        left -= len(share)
    return ordered + rest


@pytest.fixture(autouse=True)
def gallra_keys(settings, tmp_path):
    content = config.new_key_file_content()
    key_file = tmp_path / "keys.json"
    key_file.write_text(__import__("json").dumps(content))
    settings.GALLRA_KEY_FILE = key_file
    settings.GALLRA_KEYS = config.load_keys(key_file)
    return settings.GALLRA_KEYS


class Inbox:
    """What a real SMTP server on loopback received: (recipients, subject, body) each."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        subject = " ".join(str(message["subject"]).split())
        self.messages.append((envelope.rcpt_tos, subject, message.get_content()))
        return "250 OK"


@pytest.fixture
def smtp(settings):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    yield inbox
    controller.stop()


STAFF_PASSWORD = "correct horse battery staple 42"  # noqa: S105 (a test's own)


@pytest.fixture
def staff_member(db):
    """make(username, role) -> a staff user in the policy's role, password STAFF_PASSWORD,
    no second factor (tests of the login enrol their own)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from gallra.policy.loading import current_policy
    from gallra.staff import roles

    roles.sync(current_policy())

    def make(username: str, role: str, *, superuser: bool = False):
        users = get_user_model().objects
        user = users.create_user(
            username,
            password=STAFF_PASSWORD,
            is_staff=True,
            is_superuser=superuser,
        )
        user.groups.set([Group.objects.get(name=role)])
        return user

    return make


def chromium_path() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.fail(
            "chromium is not installed: run scripts/setup.sh (it installs Debian's chromium)"
        )
    return path


@pytest.fixture(scope="module")
def browser():
    """Real headless Chromium (Debian's package, which the test command installs), driven by
    Playwright against gallra's own live server; no browser is downloaded."""
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop running in this thread; the tests' own ORM
    # queries are plain synchronous code all the same.
    # Only while the module's tests run: a later `gallra check --deploy` in the same worker
    # would see it and fail Django's deployment check (async.E001).
    before = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=chromium_path(), args=["--no-sandbox", "--disable-gpu"]
            )
            yield browser
            browser.close()
    finally:
        if before is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = before


@pytest.fixture
def run_jobs():
    """Do the jobs the test's pages started (an export, an erasure) as production does: a
    worker on PostgreSQL (`gallra worker --burst`), the threads of `serve` on SQLite. The test
    must be transactional: a job sees only what was committed."""

    def run() -> None:
        from django.conf import settings

        from gallra import background

        if settings.GALLRA_JOB_QUEUE:
            call_command("worker", "--burst", stdout=io.StringIO())
        else:
            assert background.wait(), "a job is still running"

    return run
