"""What one source's sync did, for the command, the daily job and their exit status."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from gallra.sync.models import SourceRun

Outcome = SourceRun.Outcome


class SourceUnavailable(Exception):
    """The source could not be read (down, refused, misconfigured); nothing was changed."""


@dataclass(frozen=True)
class Line:
    """A problem or a refusal, named by the source's row: `customers row 3 (ref 'C-3'), column
    org_number: ...`."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


@dataclass(frozen=True)
class AccountChange:
    ref: str  # the registry account
    username: str
    day: str  # ISO date: closed as of, or reopened on


@dataclass
class AccountsReport:
    in_source: int = 0
    matched: int = 0
    closed: list[AccountChange] = field(default_factory=list)
    still_missing: int = 0  # closed by an earlier sync, still not back
    reopened: list[AccountChange] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)  # usernames the registry does not have
    closed_elsewhere: list[str] = field(default_factory=list)  # registry says closed; source has it


@dataclass
class SourceResult:
    source: str
    kind: str
    name: str  # the source as people recognise it: `source billing, dataset 'billing' (...)`
    outcome: str = Outcome.OK
    counts: dict[str, dict[str, int]] = field(default_factory=dict)  # importer's, per type
    refused: list[Line] = field(default_factory=list)
    problems: list[Line] = field(default_factory=list)
    error: str = ""  # why the source could not be read
    accounts: AccountsReport | None = None

    @property
    def exit_code(self) -> int:
        """0 ok; 1 records refused or the source unreadable; 2 its rows have problems."""
        return {Outcome.OK: 0, Outcome.REFUSED: 1, Outcome.UNAVAILABLE: 1}.get(self.outcome, 2)

    def summary(self) -> str:
        """One line for the daily job's failure and the log."""
        if self.outcome == Outcome.UNAVAILABLE:
            return self.error
        if self.outcome == Outcome.PROBLEMS:
            first = str(self.problems[0]) if self.problems else ""
            return ngettext(
                "%(source)s: nothing imported, %(n)d problem: %(first)s",
                "%(source)s: nothing imported, %(n)d problems: %(first)s",
                len(self.problems),
            ) % {
                "source": self.name,
                "n": len(self.problems),
                "first": first,
            }
        if self.outcome == Outcome.REFUSED:
            return ngettext(
                "%(source)s: %(n)d record refused: gallra deleted it; %(first)s",
                "%(source)s: %(n)d records refused: gallra deleted them; %(first)s",
                len(self.refused),
            ) % {
                "source": self.name,
                "n": len(self.refused),
                "first": self.refused[0],
            }
        return _("%(source)s: ok") % {"source": self.name}

    def numbers(self) -> dict:
        """Counts only, never a value: for SourceRun and the JSON output's totals."""
        out: dict = {
            "records": self.counts,
            "refused": len(self.refused),
            "problems": len(self.problems),
        }
        if self.accounts is not None:
            a = self.accounts
            out["accounts"] = {
                "in_source": a.in_source,
                "matched": a.matched,
                "closed": len(a.closed),
                "still_missing": a.still_missing,
                "reopened": len(a.reopened),
                "unknown": len(a.unknown),
            }
        return out

    def as_dict(self) -> dict:
        out = {
            "source": self.source,
            "kind": self.kind,
            "name": self.name,
            "outcome": str(self.outcome),
            "exit": self.exit_code,
            **self.numbers(),
            "refused": [str(r) for r in self.refused],
            "problems": [str(p) for p in self.problems],
            "error": self.error,
        }
        if self.accounts is not None:
            a = self.accounts
            out["accounts"] |= {
                "closed_accounts": [vars(c) for c in a.closed],
                "reopened_accounts": [vars(c) for c in a.reopened],
                "unknown_usernames": a.unknown,
                "closed_in_registry_but_in_source": a.closed_elsewhere,
            }
        return out
