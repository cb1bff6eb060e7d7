"""`gallra keys status|rotate|drop-retired`: the master key that wraps every customer's key.

Rotation runs while gallra serves (docs/production.md): `rotate` writes a new master key into
the key file, keeping the old one as retired, then rewraps each customer key in small
transactions (rerun it after a crash: it goes on where it stopped). Running processes read
the key file again when they meet the new master. Once every process has been restarted,
`drop-retired` removes the retired keys that no longer wrap anything.
"""

from __future__ import annotations

from collections import Counter

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from gallra import config
from gallra.evidence.log import append
from gallra.registry import crypto
from gallra.registry.models import CustomerKey


class Command(BaseCommand):
    help = "Show, rotate or tidy the master key that wraps the customers' data keys."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("status", help="which master key wraps how many customer keys")
        sub.add_parser("rotate", help="a new master key, and every customer key rewrapped")
        sub.add_parser("drop-retired", help="forget retired master keys that wrap nothing")

    def handle(self, *args, action, **options):
        path = settings.GALLRA_KEY_FILE
        if action != "status" and not path.exists():
            raise CommandError(
                f"no key file at {path}: a master key given by GALLRA_MASTER_KEY is rotated "
                "where it is kept (docs/production.md)",
                returncode=2,
            )
        keys = crypto.current_keys()
        current = crypto.master_id(keys.master_key)
        if action == "rotate":
            if not CustomerKey.objects.exclude(master=current).exists():
                config.rotate_master_key(path)
                settings.GALLRA_KEYS = config.load_keys(path)
            else:
                self.stdout.write("an earlier rotation was not finished: finishing it")
            done = crypto.rewrap()
            new = crypto.master_id(crypto.master_key())
            append(
                "master_key_rotated",
                actor="keys",
                at=timezone.now(),
                count=done,
                data={"master": new},
            )
            self.stdout.write(f"master key {new}: {done} customer keys rewrapped")
        elif action == "drop-retired":
            used = set(CustomerKey.objects.values_list("master", flat=True))
            keep = {k for k in keys.retired_master_keys if crypto.master_id(k) in used}
            dropped = config.drop_retired_master_keys(path, keep)
            settings.GALLRA_KEYS = config.load_keys(path)
            self.stdout.write(f"{dropped} retired master key(s) removed, {len(keep)} still in use")
        counts = Counter(CustomerKey.objects.values_list("master", flat=True))
        retired = [crypto.master_id(k) for k in settings.GALLRA_KEYS.retired_master_keys]
        self.stdout.write(f"current master key {crypto.master_id(crypto.master_key())}")
        for master, n in sorted(counts.items()):
            state = "current" if master == crypto.master_id(crypto.master_key()) else "retired"
            self.stdout.write(f"  {master} ({state}): {n} customer keys")
        for master in retired:
            if master not in counts:
                self.stdout.write(f"  {master} (retired): wraps nothing; `drop-retired` removes it")
