"""Armed enforcement: nothing is deleted unattended until a person has reviewed the plan.

A new instance deletes nothing by itself. The daily run of `gallra serve` and a plain
`gallra enforce` (from cron) only count what would go, until someone has looked at
`gallra enforce --dry-run` and armed with `gallra enforce --arm`, or the installation says so
once and for all (GALLRA_ENFORCE_ARMED=1). Arming names the retention rules it was given by
a digest of the policy's retention part: the rules (what they apply to, trigger, duration,
what holds them), the categories and their fields, the login rule's key lifetime and the
mailboxes weeded. When that part changes, enforcement is disarmed until armed again; a
change elsewhere in the policy (a role, a cookie, the notice's texts) leaves it armed.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from gallra.evidence.log import append
from gallra.evidence.models import Entry
from gallra.policy.durations import Duration
from gallra.policy.model import Policy
from gallra.retention.enforcement import Summary, enforce
from gallra.retention.models import Arming
from gallra.retention.stores import stores

SETTING = "GALLRA_ENFORCE_ARMED"


def _duration(d: Duration) -> str:
    """P12M and P1Y delete on the same day: one text for both."""
    months = 12 * d.years + d.months
    text = (f"{months // 12}Y" if months // 12 else "") + (f"{months % 12}M" if months % 12 else "")
    return "P" + (text + (f"{d.days}D" if d.days else "") or "0D")


def retention_part(policy: Policy) -> dict:
    """What decides which records are deleted when: the part of the policy that is armed."""
    return {
        "rule": {
            r.id: {
                "applies_to": sorted(r.applies_to),
                "trigger": r.trigger,
                "keep_for": _duration(r.keep_for),
                "counted_from": r.counted_from,
                "unless": sorted(r.unless),
                "action": r.action,
                "assign_to": r.assign_to,
                "overrides_erasure": r.overrides_erasure,
            }
            for r in policy.rule
        },
        "category": {c.id: sorted(c.fields) for c in policy.category},
        "logins": {
            "category": policy.logins.category,
            "sealed_ip_key_lifetime": _duration(policy.logins.sealed_ip_key_lifetime),
        },
        "mailbox": {
            m.id: {
                "kind": m.kind,
                "category": m.category,
                "folders": sorted(m.folders),
                "path": m.path,
                "host": m.host,
                "port": m.port,
                "user": m.user,
            }
            for m in policy.mailbox
        },
    }


def digest_of(part: dict) -> str:
    return hashlib.sha256(json.dumps(part, sort_keys=True).encode()).hexdigest()


def changes(old: dict, new: dict) -> list[str]:
    """What differs between two retention parts, one short line each, in the policy file's
    own words (English, like its keys): they go into the evidence log as they are."""
    out = []
    for section in ("rule", "mailbox", "logins"):
        before, after = old.get(section, {}), new.get(section, {})
        if section == "logins":
            before, after = {"": before}, {"": after}
        for key in sorted(before.keys() | after.keys()):
            name = f"{section} {key}".strip()
            if key not in after:
                out.append(f"{name} removed")
            elif key not in before:
                out.append(f"{name} added")
            else:
                for k in sorted(before[key].keys() | after[key].keys()):
                    a, b = before[key].get(k), after[key].get(k)
                    if a != b:
                        out.append(f"{name}: {k} {_show(a)} → {_show(b)}")
    cats_before, cats_after = old.get("category", {}), new.get("category", {})
    owner_before = {f: c for c, fields in cats_before.items() for f in fields}
    owner_after = {f: c for c, fields in cats_after.items() for f in fields}
    for key in sorted(cats_before.keys() - cats_after.keys()):
        out.append(f"category {key} removed")
    for key in sorted(cats_after.keys() - cats_before.keys()):
        out.append(f"category {key} added")
    for f in sorted(owner_before.keys() | owner_after.keys()):
        a, b = owner_before.get(f), owner_after.get(f)
        if a != b:
            out.append(f"field {f} moved from category {a or '-'} to {b or '-'}")
    return out


def _show(value) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return "-" if value in (None, "") else str(value)


@dataclass
class State:
    armed: bool
    digest: str
    part: dict
    arming: Arming | None  # the latest arming, if any
    by_setting: bool = False
    changes: list[str] = field(default_factory=list)  # since the latest arming

    @property
    def why(self) -> str:
        """Why enforcement is not armed, in a sentence."""
        if self.arming is None:
            return _("never armed")
        return _(
            "the policy's retention rules changed since %(who)s armed them on %(day)s: %(what)s"
        ) % {
            "who": self.arming.armed_by,
            "day": f"{timezone.localtime(self.arming.armed_at):%Y-%m-%d}",
            "what": "; ".join(self.changes) or _("the digest differs"),
        }

    @property
    def how(self) -> str:
        """Who armed it and how, in a sentence (when armed)."""
        if self.by_setting:
            return _("armed by the setting %(name)s=1") % {"name": SETTING}
        return _("armed by %(who)s on %(day)s") % {
            "who": self.arming.armed_by,
            "day": f"{timezone.localtime(self.arming.armed_at):%Y-%m-%d %H:%M}",
        }


def armed_by_setting() -> bool:
    return bool(getattr(settings, SETTING, False))


def state(policy: Policy) -> State:
    """Armed or not, and why; writes nothing (the dashboard asks on every page view)."""
    part = retention_part(policy)
    digest = digest_of(part)
    latest = Arming.objects.order_by("-pk").first()
    if armed_by_setting():
        return State(True, digest, part, latest, by_setting=True)
    if latest is not None and latest.digest == digest:
        return State(True, digest, part, latest)
    found = changes(latest.retention, part) if latest is not None else []
    return State(False, digest, part, latest, changes=found)


def notice(policy: Policy, now: datetime, actor: str) -> State:
    """state(), and into the evidence log what changed: `enforcement_disarmed` the first time
    a changed policy is seen, `enforcement_armed` when the setting arms new rules."""
    with transaction.atomic():
        latest = Arming.objects.select_for_update().order_by("-pk").first()
        found = state(policy)
        if found.by_setting:
            if latest is None or latest.digest != found.digest:
                found.arming = _arm(found, now, f"{SETTING}=1", Arming.How.SETTING, latest)
        elif found.armed and latest is not None and latest.changed_to:
            # Back to the rules armed: a later change away from them is news again.
            latest.changed_to = ""
            latest.save(update_fields=["changed_to"])
        elif not found.armed and latest is not None and latest.changed_to != found.digest:
            latest.changed_to = found.digest
            latest.save(update_fields=["changed_to"])
            append(
                "enforcement_disarmed",
                actor=actor,
                at=now,
                data={
                    "armed_digest": latest.digest,
                    "digest": found.digest,
                    "armed_by": latest.armed_by,
                    "changes": found.changes,
                },
            )
    return found


def arm(policy: Policy, now: datetime, by: str) -> tuple[State, bool]:
    """A person armed these rules (`gallra enforce --arm`); (state, True when newly armed)."""
    with transaction.atomic():
        latest = Arming.objects.select_for_update().order_by("-pk").first()
        part = retention_part(policy)
        found = State(True, digest_of(part), part, latest)
        if latest is not None and latest.digest == found.digest:
            return found, False
        found.arming = _arm(found, now, by, Arming.How.COMMAND, latest)
        return found, True


def _arm(found: State, now: datetime, by: str, how: str, latest: Arming | None) -> Arming:
    what = changes(latest.retention, found.part) if latest is not None else []
    arming = Arming.objects.create(
        digest=found.digest, retention=found.part, armed_at=now, armed_by=by[:100], how=how
    )
    append(
        "enforcement_armed",
        actor=by[:100],
        at=now,
        data={
            "digest": found.digest,
            "how": how,
            "rules": sorted(found.part["rule"]),
            "changes": what,
            "previous_digest": latest.digest if latest else None,
        },
    )
    return arming


def login_name() -> str:
    """Who is running the command, for the evidence: the operating system's user."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (a container's arbitrary uid)
        return f"uid {os.getuid()}"


@dataclass
class WouldGo:
    """What a run on `at` would delete: the dry run's summary and its total."""

    summary: Summary

    @property
    def total(self) -> int:
        s = self.summary
        elsewhere = sum(store.would_delete(s.stores.get(store.id, {})) for store in stores())
        return sum(s.deleted.values()) + elsewhere  # the registry, then logins, mail, ...

    def by_rule_text(self) -> str:
        """The counts by rule, in brackets after a space; empty when nothing would go."""
        s = self.summary
        per_rule: dict[str, int] = {}
        for (rule, _type), n in sorted(s.deleted.items()):
            per_rule[rule] = per_rule.get(rule, 0) + n
        parts = [f"{rule} {n}" for rule, n in per_rule.items()]
        if s.logins.get("deleted"):
            parts.append(f"login events {s.logins['deleted']}")
        if s.mail.get("due"):
            parts.append(f"mail {s.mail['due']}")
        return f" ({', '.join(parts)})" if parts else ""

    def as_data(self) -> dict:
        s = self.summary
        return {
            "total": self.total,
            "by_rule": {f"{r}/{t}": n for (r, t), n in sorted(s.deleted.items())},
            "login_events": s.logins.get("deleted", 0),
            "login_keys": s.logins.get("keys_destroyed", []),
            "mail": s.mail.get("due", 0),
        }


def would_go(policy: Policy, at: date, actor: str) -> WouldGo:
    return WouldGo(enforce(policy, at, actor=actor, dry_run=True)[0])


def skip(policy: Policy, at: date, now: datetime, actor: str, found: State) -> WouldGo:
    """Not armed: delete nothing, and say so in the evidence log once a day, with what a run
    would have deleted."""
    going = would_go(policy, at, actor)
    midnight = timezone.make_aware(datetime.combine(timezone.localdate(now), time()))
    with transaction.atomic():
        seen = Entry.objects.filter(
            action="enforcement_skipped", at__gte=midnight, at__lt=midnight + timedelta(days=1)
        )
        if not seen.exists():
            with translation.override(None):  # the evidence log in one language
                why = found.why
            append(
                "enforcement_skipped",
                actor=actor,
                at=now,
                count=going.total,
                data={
                    "deletion_date": at.isoformat(),
                    "why": why,
                    "digest": found.digest,
                    "would_delete": going.as_data(),
                },
            )
    return going
