"""Access and portability (Art. 15, 20): everything about one subject, from gallra and every
connected dataset, as a ZIP with `data.json` (machine-readable) and `index.html` (readable,
per category: what, why, since when, until when).

Nothing about other people leaks: rows of theirs reached through the subject's own (another
person's message in the subject's ticket) have their personal columns hidden, and free text
has other people's e-mail addresses, personnummer and known names blanked out.
"""

from __future__ import annotations

import base64
import io
import json
import re
import zipfile
from collections import defaultdict
from datetime import date, datetime

from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from gallra.homes.export import grant_items
from gallra.mailboxes.connectors import MailboxError
from gallra.outbox import sealing
from gallra.policy import describe
from gallra.policy.loading import current_policy
from gallra.policy.model import FINDING_ATTRIBUTES, Dataset, Policy
from gallra.retention import explaining
from gallra.scanner.mail import mail_items
from gallra.scanner.mentions import document_items
from gallra.subjects import datasets, registry_store
from gallra.subjects.cases import CaseError, close, identity_of, note
from gallra.subjects.changes import restriction_of
from gallra.subjects.datasets import ATTRIBUTED, OTHER, OWN
from gallra.subjects.identity import Identity
from gallra.subjects.kept import why_kept
from gallra.subjects.models import ExportFile, SubjectRequest
from gallra.subjects.registry_store import Item

HIDDEN = "[…]"
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PNR = re.compile(r"\b(?:\d{2})?\d{6}[-+]?\d{4}\b")


class ExportIncomplete(Exception):
    """A dataset could not be read; an incomplete answer is not given."""


def gather(policy: Policy, identity: Identity, at: date) -> list[Item]:
    """Every item about the subject; ExportIncomplete naming a dataset that cannot be read."""
    items = registry_store.items(policy, identity, at)
    found_in = []
    for dataset in policy.dataset:
        try:
            with datasets.engine(dataset).connect() as conn:
                found_in.append((dataset, datasets.find(conn, dataset, identity)))
        except datasets.ERRORS as exc:
            raise ExportIncomplete(f"cannot read {datasets.failure(dataset, exc)}") from exc
    # Other people met in any dataset are blanked out of the subject's text in every one.
    others: tuple[set[str], set[str]] = (set(), set())
    for _, found in found_in:
        names, ids = _other_people(found)
        others[0].update(names)
        others[1].update(ids)
    for dataset, found in found_in:
        items += dataset_items(policy, dataset, found, identity, others)
    try:
        mail = mail_items(policy, identity)
    except MailboxError as exc:
        raise ExportIncomplete(f"cannot read {exc}") from exc
    extra = login_items(policy, items) + grant_items(policy, items)
    return items + extra + document_items(policy, identity) + mail


def login_items(policy: Policy, items: list[Item]) -> list[Item]:
    """The subject's accounts' login events, as staff see them (never the sealed address)."""
    from gallra.logins.models import LoginEvent

    usernames = {i.values["username"] for i in items if i.table == "account"} - {"", None}
    if not usernames:
        return []
    category = policy.logins.category
    shown = ("at", "outcome", "service", "host", "account", "network", "country")
    events = LoginEvent.objects.filter(account__in=usernames).order_by("at", "id")
    return [
        registry_store.Item(
            "gallra",
            "login_event",
            str(row["id"]),
            {k: row[k].isoformat() if k == "at" else row[k] for k in shown},
            {"at": category, "network": category, "country": category},
            row["at"].date(),
        )
        for row in events.values("id", *shown).iterator()
    ]


def dataset_items(
    policy: Policy,
    dataset: Dataset,
    found: list,
    identity: Identity,
    others: tuple[set[str], set[str]],
) -> list[Item]:
    rules = {r.id: r for r in policy.rule}
    out = []
    for f in found:
        table = f.table
        for key, row in f.rows.items():
            whose = f.whose[key]
            values, redacted = {}, []
            for column in table.columns:
                value = datasets.plain(row.get(column))
                if whose == OTHER:
                    value = None
                    redacted.append(column)
                elif column in table.text and isinstance(value, str):
                    value = redact_text(value, identity, others)
                values[column] = value
            since = row.get(table.since) if table.since else None
            since = since.date() if isinstance(since, datetime) else since
            item = Item(
                dataset.id,
                table.name,
                str(key),
                values,
                dict(table.columns),
                since,
                redacted,
                whose,
            )
            if table.erase == "keep" and whose in (OWN, ATTRIBUTED):
                item.kept_until = datasets.kept_until(rules[table.kept_by], row.get(table.dated_by))
            out.append(item)
    return out


def _other_people(found: list) -> tuple[set[str], set[str]]:
    """Names and identifiers of the other people whose rows the subject's reach."""
    names, ids = set(), set()
    for f in found:
        for key in f.keys(OTHER):
            for column, attribute in f.table.identity.items():
                value = f.rows[key].get(column)
                if not value:
                    continue
                (ids if attribute in FINDING_ATTRIBUTES else names).add(str(value))
    return names, ids


def redact_text(text: str, identity: Identity, others: tuple[set[str], set[str]]) -> str:
    own_emails = {e.lower() for e in identity.values("email")}
    own_numbers = {re.sub(r"\D", "", n)[-10:] for n in identity.values("personnummer")}
    text = _EMAIL.sub(lambda m: m[0] if m[0].lower() in own_emails else HIDDEN, text)
    text = _PNR.sub(
        lambda m: m[0] if re.sub(r"\D", "", m[0])[-10:] in own_numbers else HIDDEN, text
    )
    names, ids = others
    for value in sorted(names | ids, key=len, reverse=True):
        if value.lower() not in own_emails and value != identity.name:
            # A trailing "s" is the Swedish genitive: "Bo Eks konto".
            pattern = rf"(?<!\w){re.escape(value)}s?(?!\w)"
            text = re.sub(pattern, HIDDEN, text, flags=re.IGNORECASE)
    return text


# -- the answer ---------------------------------------------------------------------------


def as_json(
    policy: Policy, identity: Identity, items: list[Item], request_ref: str, generated: datetime
) -> dict:
    stores: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for item in items:
        row = {"key": item.key, "data": item.values, "categories": item.categories}
        if item.since:
            row["since"] = item.since.isoformat()
        if item.redacted:
            row["hidden_because_about_another_person"] = item.redacted
        if item.fate is not None:
            row["retention"] = item.fate.as_dict()
        if item.kept_until:
            row["kept_by_law_until"] = item.kept_until.isoformat()
        stores[item.store][item.table].append(row)
    return {
        "controller": {"name": policy.organisation.name, "country": policy.organisation.country},
        "request": request_ref,
        "generated": generated.isoformat(),
        "subject": {k: v for k, v in vars(identity).items() if v},
        "stores": {store: dict(tables) for store, tables in stores.items()},
    }


def as_html(
    policy: Policy,
    identity: Identity,
    items: list[Item],
    request_ref: str,
    generated: datetime,
    lang: str,
    at: date,
) -> str:
    """index.html of the export, in `lang`."""
    with translation.override(lang):
        return _as_html(policy, items, request_ref, generated, lang, at)


def _as_html(
    policy: Policy, items: list[Item], request_ref: str, generated: datetime, lang: str, at: date
) -> str:
    org = policy.organisation.brand or policy.organisation.name
    names = {"gallra": org} | {d.id: policy.text(d.name, lang) for d in policy.dataset}
    sections = []
    for category in policy.category:
        rows = []
        for item in items:
            fields = [c for c, cat in item.categories.items() if cat == category.id]
            if not fields:
                continue
            shown = [(f, item.values.get(f), f in item.redacted) for f in fields]
            context = [(k, v) for k, v in item.values.items() if k not in item.categories]
            rows.append(
                {
                    "where": f"{names.get(item.store, item.store)}: {item.table} {item.key}",
                    "fields": shown,
                    "context": context,
                    "deleted": _when_deleted(policy, category.id, item, lang, at),
                }
            )
        if not rows:
            continue
        since = [i.since for i in items if i.since and category.id in i.categories.values()]
        sections.append(
            {
                "name": policy.text(category.name, lang),
                "purpose": policy.text(category.purpose, lang),
                "basis": describe.legal_basis_text(category.legal_basis)
                + (f" ({category.legal_source})" if category.legal_source else ""),
                "responsible": _role(policy, category.responsible, lang),
                "since": min(since) if since else None,
                "rows": rows,
            }
        )
    return render_to_string(
        "subjects/export.html",
        {
            "lang": lang,
            "org": org,
            "sections": sections,
            "request": request_ref,
            "generated": generated,
        },
    )


def _role(policy: Policy, role_id: str, lang: str) -> str:
    role = next((r for r in policy.role if r.id == role_id), None)
    return policy.text(role.name, lang) if role else role_id


def _when_deleted(policy: Policy, category_id: str, item: Item, lang: str, at: date) -> str:
    if item.kept_until:
        return why_kept("law", item.kept_until, _law(policy, item))
    if item.fate is not None:
        return explaining.reason(item.fate, lang)
    rules = [r for r in policy.rules_for(category_id) if r.action == "delete"]
    return "; ".join(describe.rule_text(r) for r in rules)


def _law(policy: Policy, item: Item) -> str:
    for dataset in policy.dataset:
        for table in dataset.table:
            if dataset.id == item.store and table.name == item.table and table.kept_by:
                return next(r.legal_source for r in policy.rule if r.id == table.kept_by)
    return ""


def build_zip(
    policy: Policy,
    identity: Identity,
    items: list[Item],
    request_ref: str,
    generated: datetime,
    lang: str,
    at: date,
) -> bytes:
    data = as_json(policy, identity, items, request_ref, generated)
    html = as_html(policy, identity, items, request_ref, generated, lang, at)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("data.json", json.dumps(data, ensure_ascii=False, indent=2))
        archive.writestr("index.html", html)
    return buffer.getvalue()


def refuse_if_restricted(request) -> None:
    """A restricted subject's data is only stored (Art. 18): no portability export."""
    restriction = restriction_of(request.email)
    if restriction is not None and request.kind == "portability":
        raise CaseError(
            f"{request.email} is restricted (Art. 18) since {restriction.since:%Y-%m-%d} "
            f"({restriction.request.ref}): their data is only stored, not transmitted. Lift the "
            "restriction first (gallra subject unrestrict EMAIL); an access request (Art. 15) "
            "is still answered."
        )


def export_request(
    policy: Policy,
    request,
    *,
    now: datetime,
    at: date,
    lang: str,
    actor: str,
    keep: bool = False,
) -> bytes:
    """The ZIP that answers a verified access or portability request, which it closes.
    `keep`: also store it sealed (ExportFile) in the same transaction, for staff to download."""
    refuse_if_restricted(request)
    identity = identity_of(request)
    items = gather(policy, identity, at)
    data = build_zip(policy, identity, items, request.ref, now, lang, at)
    counts: dict[str, int] = defaultdict(int)
    for item in items:
        counts[item.store] += 1
    with transaction.atomic():
        note("subject.export", request, actor=actor, at=now, type=request.kind, items=dict(counts))
        close(request, {"exported_items": dict(counts)}, now=now, actor=actor)
        if keep:
            key_id, sealed = sealing.seal({"zip": base64.b64encode(data).decode()}, SEALED_AS)
            ExportFile.objects.create(request=request, made=now, key_id=key_id, sealed=sealed)
    return data


SEALED_AS = "subject-export"


def export_job(request_id: int, actor: str, lang: str) -> None:
    """The job the admin's Export button starts: the ZIP made and kept, the request closed.
    Run again after a worker died, it finds the request closed and does nothing more."""
    request = SubjectRequest.objects.get(pk=request_id)
    if not request.is_open:
        return
    export_request(
        current_policy(),
        request,
        now=timezone.now(),
        at=timezone.localdate(),
        lang=lang,
        actor=actor,
        keep=True,
    )


def kept_zip(request) -> bytes | None:
    """The ZIP an export job kept for `request`, while it is kept."""
    found = ExportFile.objects.filter(request=request, made__gte=timezone.now() - ExportFile.KEPT)
    kept = found.first()
    if kept is None:
        return None
    return base64.b64decode(sealing.unseal(kept.key_id, bytes(kept.sealed), SEALED_AS)["zip"])


def delete_old_exports(now: datetime) -> int:
    """The daily run: a kept ZIP goes KEPT after it was made (it holds the subject's data)."""
    return ExportFile.objects.filter(made__lt=now - ExportFile.KEPT).delete()[0]
