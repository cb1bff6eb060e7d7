"""A user asks what gallra has on them: their accounts' login events are part of the answer."""

import io
import json
import zipfile
from datetime import UTC, date, datetime

from gallra.logins.ingest import ingest_files
from gallra.subjects.export import build_zip, gather
from gallra.subjects.identity import Identity


def test_the_export_holds_the_subjects_login_events_and_no_full_address(
    shares, policy, accounts, tmp_path
):
    log = tmp_path / "auth.log"
    log.write_text(
        "Nov 24 22:00:00 web1 sshd[1]: Accepted password for anna from 81.234.5.6 port 1 ssh2\n"
        "Nov 24 22:05:00 web1 sshd[2]: Failed password for bo from 203.0.113.9 port 1 ssh2\n"
    )
    ingest_files([log], policy, now=datetime(2026, 11, 25, tzinfo=UTC))
    identity = Identity.of("anna@kund.example")
    items = gather(policy, identity, date(2026, 11, 25))
    logins = [i for i in items if i.table == "login_event"]
    assert len(logins) == 1  # anna's, not bo's
    assert logins[0].values["network"] == "81.234.5.0/24"
    assert logins[0].values["country"] == "SE"
    archive = build_zip(
        policy,
        identity,
        items,
        "DSR-1",
        datetime(2026, 11, 25, tzinfo=UTC),
        "sv",
        date(2026, 11, 25),
    )
    with zipfile.ZipFile(io.BytesIO(archive)) as z:
        html = z.read("index.html").decode()
        data = json.loads(z.read("data.json"))
    assert "Inloggningsloggar" in html and "81.234.5.0/24" in html
    assert "81.234.5.6" not in html and "81.234.5.6" not in json.dumps(data)
