"""`gallra keys status|rotate|drop-retired`: the master key that wraps every customer's key.

Rotation runs while gallra serves (docs/production.md): `rotate` writes a new master key into
the key file, keeping the old one as retired, then rewraps each customer key in small
transactions (rerun it after a crash: it goes on where it stopped). Running processes read
the key file again when they meet the new master. Once every process has been restarted,
`drop-retired` removes the retired keys that no longer wrap anything.

Not only customer keys: every kind of key wrapped by the master key is registered with
`crypto.register_wrapped_keys` (the logins' monthly pseudonym keys, the outbox's waiting
mail), and rotate, drop-retired and status go over them all.
"""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from gallra import config
from gallra.evidence.log import append
from gallra.policy.command import USAGE, GallraCommand
from gallra.registry import crypto


class Command(GallraCommand):
    help = gettext_lazy("Show, rotate or tidy the master key that wraps the customers' data keys.")
    examples = (
        "gallra keys status",
        "gallra keys status --format json",
        "gallra keys rotate",
        "gallra keys drop-retired",
    )

    def add_arguments(self, parser):
        for name, run, text in (
            ("status", self.status, gettext_lazy("which master key wraps how many keys")),
            (
                "rotate",
                self.rotate,
                gettext_lazy("a new master key, and every key it wraps rewrapped"),
            ),
            (
                "drop-retired",
                self.drop_retired,
                gettext_lazy("forget retired master keys that wrap nothing"),
            ),
        ):
            self.add_format(self.action(parser, name, run, help=text))

    def _key_file(self):
        path = settings.GALLRA_KEY_FILE
        if not path.exists():
            self.fail(
                _(
                    "no key file at %(path)s: a master key given by GALLRA_MASTER_KEY is "
                    "rotated where it is kept (docs/production.md)"
                )
                % {"path": path},
                USAGE,
            )
        return path

    def rotate(self, options: dict) -> None:
        path = self._key_file()
        current = crypto.master_id(crypto.current_keys().master_key)
        if not any(master != current for master in _in_use()):
            config.rotate_master_key(path)
            settings.GALLRA_KEYS = config.load_keys(path)
        elif options["format"] == "text":
            self.stdout.write(_("an earlier rotation was not finished: finishing it"))
        rewrapped = {kind.id: kind.rewrap(500) for kind in crypto.wrapped_keys()}
        done = sum(rewrapped.values())
        new = crypto.master_id(crypto.master_key())
        append(
            "master_key_rotated",
            actor="keys",
            at=timezone.now(),
            count=done,
            data={"master": new, "rewrapped": rewrapped},
        )
        if options["format"] == "text":
            self.stdout.write(
                ngettext(
                    "master key %(id)s: %(n)s key rewrapped",
                    "master key %(id)s: %(n)s keys rewrapped",
                    done,
                )
                % {"id": new, "n": done}
            )
        self.status(options)

    def drop_retired(self, options: dict) -> None:
        path = self._key_file()
        keys = crypto.current_keys()
        used = _in_use()  # a retired key that still wraps anything is kept
        keep = {k for k in keys.retired_master_keys if crypto.master_id(k) in used}
        dropped = config.drop_retired_master_keys(path, keep)
        settings.GALLRA_KEYS = config.load_keys(path)
        if options["format"] == "text":
            self.stdout.write(
                ngettext(
                    "%(n)s retired master key removed, %(kept)s still in use",
                    "%(n)s retired master keys removed, %(kept)s still in use",
                    dropped,
                )
                % {"n": dropped, "kept": len(keep)}
            )
        self.status(options)

    def status(self, options: dict) -> None:
        kinds = crypto.wrapped_keys()
        counts = {kind.id: kind.count() for kind in kinds}
        current = crypto.master_id(crypto.master_key())
        retired = [crypto.master_id(k) for k in settings.GALLRA_KEYS.retired_master_keys]
        if options["format"] == "json":
            self.write_json(
                {
                    "current": current,
                    "customer_keys": dict(sorted(counts["customer_keys"].items())),
                    "wrapped": {
                        kind: dict(sorted(found.items())) for kind, found in counts.items()
                    },
                    "retired": retired,
                }
            )
            return
        self.stdout.write(_("current master key %(id)s") % {"id": current})
        used = sorted({master for found in counts.values() for master, n in found.items() if n})
        for master in used:
            state = _("current") if master == current else _("retired")
            what = ", ".join(
                kind.describe(counts[kind.id][master])
                for kind in kinds
                if counts[kind.id].get(master)
            )
            self.stdout.write(
                "  "
                + _("%(id)s (%(state)s): %(what)s") % {"id": master, "state": state, "what": what}
            )
        for master in retired:
            if master not in used:
                self.stdout.write(
                    "  "
                    + _("%(id)s (retired): wraps nothing; `drop-retired` removes it")
                    % {"id": master}
                )


def _in_use() -> set[str]:
    """The master keys (by id) that wrap anything of any registered kind."""
    return {master for kind in crypto.wrapped_keys() for master, n in kind.count().items() if n}
