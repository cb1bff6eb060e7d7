"""`enforce` and login events: purged after their rule, keys destroyed after the reveal period."""

from datetime import UTC, date, datetime

from django.db import connection

from gallra.evidence.models import Entry
from gallra.logins import partitions
from gallra.logins.ingest import ingest_files
from gallra.logins.models import DestroyedMonth, LoginEvent, MonthKey, SealingKey
from gallra.logins.retention import forget_accounts
from gallra.logins.reveal import Request, reveal
from gallra.retention.enforcement import enforce


def month_lines(months: list[tuple[int, int]], per_month: int = 3) -> str:
    out = []
    for year, month in months:
        for day in range(1, per_month + 1):
            at = datetime(year, month, day * 5, 12)
            out.append(
                f"{at:%b %d %Y %H:%M:%S} web1 sshd[1]: Failed password for invalid user "
                f"x{day} from 203.0.113.{day} port 1 ssh2"
            )
    return "\n".join(out) + "\n"


def test_enforce_purges_by_the_rule_and_destroys_keys_after_the_reveal_period(
    shares, policy, tmp_path
):
    log = tmp_path / "auth.log"
    log.write_text(month_lines([(2026, 1), (2026, 2), (2026, 6), (2026, 11)]))
    at_ingest = datetime(2026, 11, 25, tzinfo=UTC)
    report = ingest_files([log], policy, now=at_ingest)
    # January to April are past the six months already: stored anonymous from the start
    assert report.events == 12
    assert (
        LoginEvent.objects.filter(at__lt=datetime(2026, 6, 1, tzinfo=UTC), sealed_with=0).count()
        == 6
    )
    assert set(SealingKey.objects.values_list("month", flat=True)) == {
        date(2026, 6, 1),
        date(2026, 11, 1),
    }

    # 2027-02-11: twelve months after 2026-02-10, so January's events and February's first
    # two go; June's keys went on 2026-12-01 (six months after 1 June).
    [summary] = enforce(policy, date(2027, 2, 11), now=lambda: datetime(2027, 2, 11, 3, tzinfo=UTC))
    assert summary.logins["deleted"] == 5
    assert summary.logins["keys_destroyed"] == ["2026-06"]
    remaining = sorted(LoginEvent.objects.values_list("at", flat=True))
    assert remaining[0] == datetime(2026, 2, 15, 11, tzinfo=UTC)  # 12:00 in Stockholm
    assert len(remaining) == 7
    assert not SealingKey.objects.filter(month=date(2026, 6, 1)).exists()
    assert not MonthKey.objects.filter(month=date(2026, 6, 1)).exists()
    assert DestroyedMonth.objects.get(month=date(2026, 6, 1)).sealing_keys == 1
    assert SealingKey.objects.filter(month=date(2026, 11, 1)).exists()

    deleted = Entry.objects.get(action="delete", record_type="login_event")
    assert (deleted.rule, deleted.count) == ("login-logs", 5)
    destroyed = Entry.objects.get(action="login_keys_destroyed")
    assert destroyed.data["month"] == "2026-06" and destroyed.count == 3

    if connection.vendor == "postgresql":  # January went as a whole partition
        assert deleted.data["months_dropped"] == ["2026-01"]
        assert date(2026, 1, 1) not in partitions.months_stored()
        assert date(2026, 2, 1) in partitions.months_stored()

    # the next run has nothing more to do, and says so in no evidence entry
    [again] = enforce(policy, date(2027, 2, 11), now=lambda: datetime(2027, 2, 11, 4, tzinfo=UTC))
    assert again.logins == {"rule": "login-logs", "deleted": 0, "keys_destroyed": []}
    assert Entry.objects.filter(record_type="login_event").count() == 2


def test_a_dry_run_counts_and_deletes_nothing(shares, policy, tmp_path):
    log = tmp_path / "auth.log"
    log.write_text(month_lines([(2026, 6), (2026, 11)]))
    ingest_files([log], policy, now=datetime(2026, 11, 25, tzinfo=UTC))
    [summary] = enforce(policy, date(2027, 6, 11), dry_run=True)
    assert summary.logins["deleted"] == 2  # 5 and 10 June 2026; the 15th stays
    assert summary.logins["keys_destroyed"] == ["2026-06", "2026-11"]
    assert LoginEvent.objects.count() == 6
    assert SealingKey.objects.count() == 2


def test_an_account_that_is_gone_stays_in_its_events_only_as_a_pseudonym(
    shares, policy, accounts, tmp_path
):
    log = tmp_path / "auth.log"
    log.write_text(
        "Nov 24 22:00:00 web1 sshd[1]: Accepted password for anna from 81.234.5.6 port 1 ssh2\n"
        "Nov 24 22:05:00 web1 sshd[2]: Failed password for anna from 203.0.113.9 port 1 ssh2\n"
    )
    now = datetime(2026, 11, 25, tzinfo=UTC)
    ingest_files([log], policy, now=now)
    assert set(LoginEvent.objects.values_list("account", flat=True)) == {"anna"}
    accounts[0].delete()  # as erasure or the closed-account rule would
    assert forget_accounts(["anna", "bo"]) == 2  # bo still has an account: untouched
    assert not LoginEvent.objects.filter(account="anna").exists()
    assert len(set(LoginEvent.objects.values_list("pseudonym", flat=True))) == 1
    # the authority can still ask about "anna", with two shares
    start = datetime(2026, 11, 24, 20, tzinfo=UTC)
    ask = Request(
        case="K-9",
        requested_by="Polisen",
        actor="vd",
        start=start,
        end=datetime(2026, 11, 25, tzinfo=UTC),
        account="anna",
    )
    result = reveal(ask, shares[:2], tmp_path, now)
    assert [r["ip"] for r in result.rows] == ["81.234.5.6", "203.0.113.9"]
