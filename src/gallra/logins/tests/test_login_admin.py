"""Staff see alerts and events in the admin, never a full address, and acknowledge alerts."""

from datetime import UTC, datetime

from django.contrib.auth.models import User

from gallra.logins.detection import detect
from gallra.logins.ingest import ingest_files
from gallra.logins.models import LoginAlert


def test_admin_lists_events_and_alerts_and_acknowledges(shares, policy, client, tmp_path):
    log = tmp_path / "auth.log"
    log.write_text("".join(
        f"Nov 24 22:0{i}:00 web1 sshd[{i}]: Failed password for root from 203.0.113.{i + 1} "
        "port 1 ssh2\n" for i in range(6)
    ))  # fmt: skip
    ingest_files([log], policy, now=datetime(2026, 11, 25, tzinfo=UTC))
    detect(policy, datetime(2026, 11, 24, tzinfo=UTC), datetime(2026, 11, 25, tzinfo=UTC))
    admin = User.objects.create_superuser("vd", "vd@redcloud.example", "x" * 16)
    client.force_login(admin)
    events = client.get("/admin/logins/loginevent/")
    assert events.status_code == 200
    page = events.content.decode()
    assert "203.0.113.0/24" in page and "203.0.113.1<" not in page and "sealed" not in page
    alerts = client.get("/admin/logins/loginalert/")
    assert alerts.status_code == 200 and "203.0.113.0/24" in alerts.content.decode()
    alert = LoginAlert.objects.get()
    response = client.post("/admin/logins/loginalert/", {
        "action": "acknowledge", "_selected_action": [alert.pk]}, follow=True)  # fmt: skip
    assert response.status_code == 200
    alert.refresh_from_db()
    assert alert.acknowledged is not None and alert.acknowledged_by == "vd"
