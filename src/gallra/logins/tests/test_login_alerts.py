"""Attack traces against the four detection rules, and the mail to the person responsible."""

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command

from gallra.logins.detection import detect
from gallra.logins.ingest import ingest_files
from gallra.logins.models import LoginAlert

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
T0 = datetime(2026, 11, 24, 22, 0)  # Stockholm time, as sshd writes it


def line(minutes: float, text: str) -> str:
    at = T0 + timedelta(minutes=minutes)
    return f"{at:%b %d %H:%M:%S} web1 sshd[{int(minutes * 60)}]: {text}"


def fail(minutes, user, ip):
    return line(minutes, f"Failed password for {user} from {ip} port 4711 ssh2")


def ok(minutes, user, ip):
    return line(minutes, f"Accepted password for {user} from {ip} port 4711 ssh2")


@pytest.fixture
def run(shares, policy, accounts, tmp_path):
    """Ingest a trace (as a new log file) and return the alerts that exist afterwards."""
    counter = iter(range(1000))

    def ingest(trace: list[str]) -> list[LoginAlert]:
        log = tmp_path / f"auth-{next(counter)}.log"
        log.write_text("\n".join(trace) + "\n")
        report = ingest_files([log], policy, now=NOW)
        detect(policy, report.first_at, report.last_at)
        return list(LoginAlert.objects.order_by("first_at", "kind"))

    return ingest


def kinds(alerts):
    return [(a.kind, a.key) for a in alerts]


def test_five_failures_from_one_network_within_ten_minutes(run):
    trace = [fail(i * 2, "root", f"203.0.113.{10 + i}") for i in range(5)]
    alerts = run(trace)
    assert kinds(alerts) == [("brute_force", "203.0.113.0/24")]
    assert alerts[0].first_at == datetime(2026, 11, 24, 21, 8, tzinfo=UTC)
    assert "203.0.113.1" not in alerts[0].detail  # the network only, never an address


def test_four_failures_or_five_spread_out_raise_nothing(run):
    assert run([fail(i, "root", "203.0.113.5") for i in range(4)]) == []
    assert run([fail(100 + i * 11, "root", "198.51.100.5") for i in range(5)]) == []


def test_an_attack_that_goes_on_is_one_alert_and_reading_again_changes_nothing(run, policy):
    trace = [fail(i * 0.5, "root", "203.0.113.9") for i in range(40)]
    [alert] = run(trace)
    assert alert.events >= 36
    events, last = alert.events, alert.last_at
    detect(policy, alert.first_at - timedelta(hours=1), alert.last_at + timedelta(hours=1))
    [again] = LoginAlert.objects.all()
    assert (again.events, again.last_at) == (events, last)
    # the next night is another episode
    later = run([fail(24 * 60 + i, "root", "203.0.113.9") for i in range(5)])
    assert len(later) == 2


def test_failures_across_many_accounts_from_many_networks(run):
    trace = [fail(i * 0.5, f"u{i + 1:02d}", f"198.51.{i}.20") for i in range(10)]
    alerts = run(trace)
    assert kinds(alerts) == [("stuffing", "")]
    assert alerts[0].detail == "10 konton misslyckades inom 10 minuter"  # JufCorp writes Swedish
    # nine accounts: nothing
    LoginAlert.objects.all().delete()
    assert run([fail(300 + i, f"u{i + 1:02d}", f"192.0.{i}.2") for i in range(9)]) == []


def test_unknown_user_names_count_as_accounts_by_pseudonym(run):
    trace = [fail(i * 0.5, f"guess{i}", f"198.51.{i}.20") for i in range(10)]
    assert kinds(run(trace)) == [("stuffing", "")]


def test_a_success_after_a_run_of_failures(run):
    trace = [fail(i, "anna", f"198.51.{i}.20") for i in range(5)] + [ok(6, "anna", "198.51.0.20")]
    alerts = run(trace)
    assert ("after_failures", "anna") in kinds(alerts)
    assert "198.51.0.0/24" in next(a for a in alerts if a.kind == "after_failures").detail


def test_a_typo_or_two_before_logging_in_is_normal(run):
    assert (
        run([fail(0, "bo", "81.234.5.6"), fail(0.5, "bo", "81.234.5.6"), ok(1, "bo", "81.234.5.6")])
        == []
    )


def test_a_login_from_a_country_the_account_never_used(run):
    # Anna logs in from Sweden (SUNET, Telia); then from the United States.
    assert run([ok(0, "anna", "81.234.5.6"), ok(60, "anna", "2001:6b0::5")]) == []
    alerts = run([ok(120, "anna", "8.8.8.8")])
    assert kinds(alerts) == [("new_country", "anna US")]
    assert "SE" in alerts[0].detail
    # again from there: not new any more; and a first login ever is no alert
    assert len(run([ok(180, "anna", "8.8.4.4"), ok(180, "bo", "8.8.8.8")])) == 1


def test_alerts_are_mailed_to_the_responsible_role(shares, accounts, tmp_path, smtp, settings):
    tech = Group.objects.create(name="technician")  # responsibilities.logins in the policy
    user = User.objects.create(
        username="tekniker", email="tekniker@redcloud.example", is_staff=True
    )
    user.groups.add(tech)
    User.objects.create(username="sales", email="sales@redcloud.example", is_staff=True)
    log = tmp_path / "auth.log"
    log.write_text("\n".join(fail(i, "root", "203.0.113.77") for i in range(6)) + "\n")
    call_command("logins", "ingest", str(log))
    [(to, subject, body)] = smtp.messages
    assert to == ["tekniker@redcloud.example"]
    assert "1" in subject
    assert "203.0.113.0/24" in body and "203.0.113.77" not in body
    assert LoginAlert.objects.get().notified is not None
    call_command("logins", "ingest", str(log))
    assert len(smtp.messages) == 1  # each alert is mailed once
