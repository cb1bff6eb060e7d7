"""Where gallra keeps and sends data (P12, P14), checked against the policy.

Every place in this installation's configuration says where it is: the database, the backup
repository, the SMTP relay and each connected dataset. A place on this server is where the
server is (`GALLRA_SERVER_COUNTRY`); a place elsewhere declares its own country
(`GALLRA_DATABASE_COUNTRY`, `GALLRA_BACKUP_COUNTRY`, `GALLRA_SMTP_COUNTRY`; a dataset its
`country` in the policy) and, when someone else runs it, who (`..._OPERATOR`, a recipient id
of the policy). A place fails when its country is undeclared or outside the allowed
countries, or when its operator is not a recipient the policy lists.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.db import connection
from django.utils import timezone

from gallra.evidence.log import append
from gallra.policy.model import Policy

LOCAL_HOSTS = {"", "localhost", "127.0.0.1", "::1"}


@dataclass(frozen=True)
class Place:
    name: str  # what it is, for the operator: "backup repository sftp:…"
    country: str  # "" when undeclared
    declared_by: str  # the setting that says where it is
    operator: str = ""  # a recipient id, when someone else runs it
    problem: str = ""

    @property
    def ok(self) -> bool:
        return not self.problem


def _declared(name: str, prefix: str, local: bool) -> Place:
    if local:
        server = os.environ.get("GALLRA_SERVER_COUNTRY", "")
        return Place(f"{name} (on this server)", server, "GALLRA_SERVER_COUNTRY")
    return Place(
        name,
        os.environ.get(f"{prefix}_COUNTRY", ""),
        f"{prefix}_COUNTRY",
        os.environ.get(f"{prefix}_OPERATOR", ""),
    )


def places(policy: Policy) -> list[Place]:
    """Every place of this installation, with what is wrong with it (if anything)."""
    db = connection.settings_dict
    found = [
        _declared(
            f"database {db['NAME']}",
            "GALLRA_DATABASE",
            connection.vendor == "sqlite"
            or db.get("HOST", "") in LOCAL_HOSTS
            or str(db.get("HOST", "")).startswith("/"),
        )
    ]
    repository = settings.GALLRA_BACKUP_REPOSITORY
    if repository:
        local = repository.startswith("/") or repository.startswith("local:")
        found.append(_declared(f"backup repository {repository}", "GALLRA_BACKUP", local))
    found.append(
        _declared(
            f"SMTP relay {settings.EMAIL_HOST}", "GALLRA_SMTP", settings.EMAIL_HOST in LOCAL_HOSTS
        )
    )
    for dataset in policy.dataset:
        host = urlsplit(dataset.url).hostname or "" if dataset.url else ""
        found.append(
            Place(
                f"dataset {dataset.id}" + (f" ({host})" if host else ""),
                dataset.country,
                f"dataset {dataset.id}: country",
            )
        )
    return [_judge(policy, p) for p in found]


def check_and_record(policy: Policy, actor: str) -> list[Place]:
    """Judge every place and leave the result in the evidence log (the dashboard shows it)."""
    found = places(policy)
    failed = [f"{p.name}: {p.problem}" for p in found if not p.ok]
    append(
        "residency_checked",
        actor=actor,
        at=timezone.now(),
        count=len(found),
        data={"failed": failed},
    )
    return found


def _judge(policy: Policy, place: Place) -> Place:
    allowed = policy.residency.allowed_countries
    recipients = {r.id for r in policy.recipient}
    if not place.country:
        problem = f"says nowhere where it is: set {place.declared_by}"
    elif place.country not in allowed:
        problem = f"outside the allowed countries ({', '.join(allowed)})"
    elif place.operator and place.operator not in recipients:
        problem = f"run by {place.operator!r}, which the policy does not list as a recipient"
    else:
        return place
    return Place(place.name, place.country, place.declared_by, place.operator, problem)
