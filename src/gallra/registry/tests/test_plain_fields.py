"""The registry's promise (issue 16, item 21): every field of a registry model is personal, and
then in a policy category, or declared plain, so that a new field cannot slip in unclassified.
Every other model an admin shows declares its plain fields; whatever it does not declare is
treated as personal (staff/plain.py), so a new field there starts closed."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.db import models
from django.db.models import ForeignObjectRel
from django.test.utils import isolate_apps

from gallra import config
from gallra.policy.loading import PolicyError, current_policy, load_policy
from gallra.registry.models import (
    RECORD_MODELS,
    Customer,
    Record,
    personal_fields,
    unclassified_fields,
)
from gallra.staff.plain import personal_in, plain_fields


def test_every_registry_field_is_personal_with_a_category_or_plain():
    categorised = {field for category in current_policy().category for field in category.fields}
    for model in RECORD_MODELS:
        assert unclassified_fields(model) == [], model
        for name in model.personal_fields:
            assert f"{model.record_type}.{name}" in categorised, (model, name)
            assert personal_in(model, name) == f"registry.{model._meta.model_name}.{name}"


@isolate_apps("gallra.registry")
def test_a_field_nobody_classified_is_caught():
    class Grown(Record):
        """The customer as it is, and one field more that no one classified."""

        kind = models.CharField(max_length=10)
        name = models.CharField(max_length=200)
        org_number = models.CharField(max_length=20)
        staff = models.ManyToManyField("auth.User")
        birthday = models.DateField(null=True)

        record_type = "grown"
        personal_fields = Customer.personal_fields
        plain_fields = Customer.plain_fields

        class Meta:
            app_label = "registry"

    assert unclassified_fields(Grown) == ["grown.birthday: neither personal nor plain"]
    # until someone classifies it, the admin pages treat it as personal
    assert personal_in(Grown, "birthday__year") == "registry.grown.birthday"
    assert personal_in(Grown, "kind") is None

    class Muddled(Record):
        nickname = models.CharField(max_length=50)
        note = models.TextField()

        record_type = "muddled"
        personal_fields = ("nickname", "ghost")
        plain_fields = ("id", "ref", "created_at", "updated_at", "nickname")

        class Meta:
            app_label = "registry"

    assert unclassified_fields(Muddled) == [
        "muddled.note: neither personal nor plain",
        "muddled.nickname: both personal and plain",
        "muddled.ghost: no such field",
    ]


def test_a_personal_field_without_a_category_stops_the_policy():
    with pytest.raises(PolicyError, match=r"'grown\.birthday' belongs to no category"):
        load_policy(config.DEFAULT_POLICY, personal_fields() | {"grown.birthday"})


def test_every_model_an_admin_shows_treats_what_it_does_not_declare_as_personal():
    for model in admin.site._registry:
        plain = plain_fields(model)
        assert plain, model
        for field in model._meta.get_fields():
            if isinstance(field, ForeignObjectRel):
                continue  # judged by the foreign key on the other model
            found = personal_in(model, field.name)
            expected = None if field.name in plain else f"{model._meta.label_lower}.{field.name}"
            assert found == expected, (model, field.name)
