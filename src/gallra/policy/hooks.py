"""What the apps built on the policy tell it, so that it imports none of them (README, Layers).

Two things the policy checks need from higher up, each filled in by an AppConfig.ready():
the registry's personal-data fields (each must belong to exactly one category), and the
datasets app's check of a declared dataset against its database (`gallra policy check`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from gallra.policy.model import Dataset

FieldSource = Callable[[], Iterable[str]]
# (key path within the dataset, message) for each declared table or column that is missing
DatasetCheck = Callable[[Dataset], Iterable[tuple[tuple, str]]]

_field_sources: list[FieldSource] = []
_dataset_checks: list[DatasetCheck] = []


def register_personal_fields(source: FieldSource) -> None:
    """`source()` names personal-data fields as the policy file does: `record_type.field`."""
    if source not in _field_sources:
        _field_sources.append(source)


def personal_fields() -> set[str]:
    """Every personal-data field the installed apps hold."""
    if not _field_sources:  # a silent empty set would flag every field in the policy
        raise RuntimeError("no app has registered its personal-data fields: are the apps ready?")
    return {name for source in _field_sources for name in source()}


def register_dataset_check(check: DatasetCheck) -> None:
    if check not in _dataset_checks:
        _dataset_checks.append(check)


def check_dataset(dataset: Dataset) -> list[tuple[tuple, str]]:
    """What the registered checks find wrong with `dataset` (nothing, with none registered)."""
    return [found for check in _dataset_checks for found in check(dataset)]
