"""Sub-actions of `gallra evidence` that apps built on the evidence log add to it, so that the
log imports none of them (README, Layers): retention adds `certificate`, the deletion
certificate read from the log. Each is registered in its app's AppConfig.ready().
"""

from __future__ import annotations

from argparse import ArgumentParser
from collections.abc import Callable
from dataclasses import dataclass

from django.core.management.base import BaseCommand


@dataclass(frozen=True)
class Action:
    help: str
    add_arguments: Callable[[ArgumentParser], None]
    handle: Callable[[BaseCommand, dict], None]  # the command (for its stdout), its options


ACTIONS: dict[str, Action] = {}


def register(
    name: str,
    *,
    help: str,
    add_arguments: Callable[[ArgumentParser], None],
    handle: Callable[[BaseCommand, dict], None],
) -> None:
    ACTIONS[name] = Action(help, add_arguments, handle)
