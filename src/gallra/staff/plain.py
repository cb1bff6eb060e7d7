"""Which fields hold no personal data (P22), so that a role without personal data may filter,
search and sort on them.

Each model an admin shows declares `plain_fields`: the fields that hold neither personal data
nor a secret. Every other field counts as personal, so a field added later is closed until
someone declares it plain. Django's own models are declared here (`DECLARED_HERE`).

A relation is plain when the foreign key that makes it is declared plain on the model that
holds it; a path of lookups (`customer__people__email__startswith`) is plain when every field
it passes through is.
"""

from __future__ import annotations

from django.core.exceptions import FieldDoesNotExist
from django.db.models import F, ForeignObjectRel, Model
from django.db.models.constants import LOOKUP_SEP

# Models gallra does not own. A staff member's user name is how the evidence log, the manual
# tasks and the API tokens name them, so it is plain; their real name and e-mail address are
# personal, and the password hash is a secret.
DECLARED_HERE: dict[str, tuple[str, ...]] = {
    "auth.user": (
        *("id", "username", "is_staff", "is_active", "is_superuser", "last_login"),
        *("date_joined", "groups", "user_permissions"),
    ),
    "auth.group": ("id", "name", "permissions"),
    "auth.permission": ("id", "name", "content_type", "codename"),
    "contenttypes.contenttype": ("id", "app_label", "model"),
}


def plain_fields(model: type[Model]) -> frozenset[str]:
    """The names of the model's plain fields; none for a model that declares nothing."""
    declared = DECLARED_HERE.get(model._meta.label_lower)
    if declared is None:
        declared = getattr(model, "plain_fields", ())
    return frozenset(declared)


def label(model: type[Model], name: str) -> str:
    """How the evidence names a field: `app.model.field`."""
    return f"{model._meta.label_lower}.{name}"


def _is_plain(model: type[Model], field) -> bool:
    if isinstance(field, ForeignObjectRel):  # the other side of a foreign key
        return field.remote_field.name in plain_fields(field.related_model)
    return field.name in plain_fields(model)


def personal_in(model: type[Model], path: str, seen: type[Model] | None = None) -> str | None:
    """The first field a lookup path passes through that is not plain, as `label()`; None when
    every field on it is plain. The fields of `seen`, a model whose personal fields the user
    may see, count as plain; the models its relations lead to do not.

    What follows the last field (`istartswith`, `in`, `year`, a JSON key) applies to that
    field's value. A first name that is no field at all (an annotation, a typo) is not plain:
    it is named `app.model.?`, never with what was typed.
    """
    current = model
    for i, part in enumerate(path.split(LOOKUP_SEP)):
        opts = current._meta
        try:
            field = opts.pk if part == "pk" else opts.get_field(part)
        except FieldDoesNotExist:
            return label(current, "?") if i == 0 else None
        if current is not seen and not _is_plain(current, field):
            return label(current, field.name)
        if not field.is_relation:
            return None
        current = field.related_model
    return None


def personal_in_ordering(model: type[Model], order_field, seen=None) -> list[str]:
    """The personal fields an `admin_order_field` (a path or an expression) sorts by."""
    if isinstance(order_field, str):
        path = order_field.lstrip("-")
        found = None if path == "?" else personal_in(model, path, seen)
        return [found] if found else []
    names = [e.name for e in _flatten(order_field) if isinstance(e, F)]
    return [found for name in names if (found := personal_in(model, name, seen))]


def _flatten(expression):
    yield expression
    for source in getattr(expression, "get_source_expressions", list)():
        if source is not None:
            yield from _flatten(source)
