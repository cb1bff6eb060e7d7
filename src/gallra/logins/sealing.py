"""What an address and a user name become before anything is stored.

* The address is truncated to its network (IPv4 /24, IPv6 /48 by default; the policy's
  `[logins]` prefixes), looked up for its country in iptocc's offline registry data, and
  sealed whole with AES-256-GCM under this process's sealing key for the event's month.
  An IPv6 address that carries an IPv4 address (6to4, Teredo, NAT64, IPv4-mapped, ...) is
  truncated as that IPv4 address: its /48 would keep the whole IPv4 (2002:c633:644d::/48
  is 198.51.100.77).
* A user name that is no registry account becomes an HMAC-SHA256 pseudonym under the
  month's pseudonym key: an unkeyed hash of a name could be reversed by trying names.
"""

from __future__ import annotations

import hmac
import os
import re
import socket
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.db import IntegrityError, transaction
from django.utils.translation import ngettext
from iptocc import country_code

from gallra.logins import escrow as escrow_keys
from gallra.logins.models import DestroyedMonth, Escrow, MonthKey, SealingKey
from gallra.registry import crypto

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
# Attackers repeat addresses and names: the caches below keep the most recent of them, a fixed
# number whatever the number of distinct ones (about 15 MB per process).
ADDRESSES = 20_000
NAMES = 20_000
_HOSTNAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?")


class NoEscrow(Exception):
    """Nothing can be sealed before the escrow key exists."""


class BadAddress(ValueError):
    """Not an IP address (nor, from PAM's rhost, a host name)."""


class MissingKey(Exception):
    """A worker met a month whose key its parent had not made yet (`Keys`)."""


def month_of(at: datetime) -> date:
    return date(at.year, at.month, 1)  # `at` in UTC


def sealing_label(month: date) -> bytes:
    return f"login-sealing-key:{month:%Y-%m}".encode()


def _month_label(month: date) -> bytes:
    return f"login-pseudonym-key:{month:%Y-%m}".encode()


_ZERO = bytes(12)
_NAT64_LOCAL = bytes.fromhex("0064ff9b0001")  # 64:ff9b:1::/48 (RFC 8215)


def embedded_ipv4(packed: bytes) -> bytes | None:
    """The IPv4 address (4 bytes) an IPv6 address (16 bytes) carries, or None.

    Where the IPv4 sits (RFC 4291, 3056, 4380, 6052, 8215, 5214, 2765):

    * IPv4-mapped `::ffff:a.b.c.d` and IPv4-translated `::ffff:0:a.b.c.d`: the last 32 bits;
    * IPv4-compatible `::a.b.c.d` (deprecated): the last 32 bits, except 0.0.0.0/8 (`::`,
      `::1` are no IPv4 address);
    * 6to4 `2002:AABB:CCDD::/48`: bits 16-47;
    * Teredo `2001:0::/32`: the client's address, the last 32 bits inverted (bits 32-63 are
      the Teredo server's);
    * NAT64 `64:ff9b::/96`, and `64:ff9b:1::/48` used as `64:ff9b:1::a.b.c.d`: the last 32
      bits;
    * ISATAP, interface id `0000:5efe:a.b.c.d` or `0200:5efe:a.b.c.d`: the last 32 bits.
    """
    if packed[:12] == _ZERO:
        return packed[12:] if packed[12] else None
    if packed[:10] == _ZERO[:10] and packed[10:12] == b"\xff\xff":
        return packed[12:]
    if packed[:8] == _ZERO[:8] and packed[8:12] == b"\xff\xff\0\0":
        return packed[12:]
    if packed[:2] == b"\x20\x02":
        return packed[2:6]
    if packed[:4] == b"\x20\x01\0\0":
        return bytes(b ^ 0xFF for b in packed[12:])
    if packed[:12] == b"\0\x64\xff\x9b" + _ZERO[:8]:
        return packed[12:]
    if packed[:6] == _NAT64_LOCAL and packed[6:12] == _ZERO[:6]:
        return packed[12:]
    if packed[8] in (0, 2) and packed[9:12] == b"\0\x5e\xfe":
        return packed[12:]
    return None


class Network:
    """Truncates addresses to the policy's prefixes, with a cache of the ADDRESSES most
    recently met: attackers repeat."""

    def __init__(self, ipv4_prefix: int = 24, ipv6_prefix: int = 48) -> None:
        self.v4_mask = (0xFFFFFFFF << (32 - ipv4_prefix)) & 0xFFFFFFFF
        self.v6_mask = ((1 << 128) - 1) ^ ((1 << (128 - ipv6_prefix)) - 1)
        self.v4_prefix, self.v6_prefix = ipv4_prefix, ipv6_prefix
        self._cached = lru_cache(maxsize=ADDRESSES)(self._of)

    def of(self, address: str, hostname_ok: bool = False) -> tuple[str, str, bytes]:
        """(network, country, the address in canonical text as bytes) or BadAddress."""
        return self._cached(address, hostname_ok)

    def _of(self, address: str, hostname_ok: bool) -> tuple[str, str, bytes]:
        text = address.split("%", 1)[0]  # an IPv6 zone index says nothing about the sender
        try:
            packed = socket.inet_pton(socket.AF_INET, text)
            canonical = socket.inet_ntop(socket.AF_INET, packed)
        except OSError:
            try:
                packed = socket.inet_pton(socket.AF_INET6, text)
            except OSError:
                if hostname_ok and _HOSTNAME.fullmatch(address) and not address[-1].isdigit():
                    return "", "", address.lower().encode()
                raise BadAddress(address) from None
            canonical = socket.inet_ntop(socket.AF_INET6, packed)
            if packed[:12] == b"\0" * 10 + b"\xff\xff":  # ::ffff:203.0.113.5 is IPv4
                packed = packed[12:]
                canonical = socket.inet_ntop(socket.AF_INET, packed)
            else:
                packed = embedded_ipv4(packed) or packed
        if len(packed) == 4:
            number = int.from_bytes(packed, "big") & self.v4_mask
            net = f"{socket.inet_ntop(socket.AF_INET, number.to_bytes(4, 'big'))}/{self.v4_prefix}"
            country = country_code(socket.inet_ntop(socket.AF_INET, packed))
        else:
            prefix, mask = self.v6_prefix, self.v6_mask
            if packed[:6] == _NAT64_LOCAL and prefix > 48:
                # NAT64 with a prefix of its own inside 64:ff9b:1::/48: where the IPv4 sits
                # depends on that prefix's length (RFC 6052), so nothing after /48 is kept.
                prefix, mask = 48, ((1 << 128) - 1) ^ ((1 << 80) - 1)
            number = int.from_bytes(packed, "big") & mask
            net = f"{socket.inet_ntop(socket.AF_INET6, number.to_bytes(16, 'big'))}/{prefix}"
            country = country_code(canonical)
        return net, country or "", canonical.encode()


class Sealer:
    """Seals addresses and keys user names for the months it meets, one key each.

    A sealing key exists in the clear only inside this object; what is stored is the key
    wrapped to the escrow public key. A month whose keys were destroyed takes nothing new:
    its events would be anonymous already, and are refused as out of the reveal period.
    """

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.escrow = Escrow.current()
        if self.escrow is None:
            raise NoEscrow(
                "there is no escrow key yet: run `gallra logins escrow init` first (it prints "
                "the key shares for the people who will keep them)"
            )
        self._sealing: dict[date, tuple[int, AESGCM, bytes]] = {}
        self._pseudonym: dict[date, bytes] = {}
        self._names = lru_cache(maxsize=NAMES)(self._keyed_name)
        self._counter = 0
        self._prefix = os.urandom(4)
        self.destroyed = set(DestroyedMonth.objects.values_list("month", flat=True))

    def seal(self, month: date, address: bytes, aad: bytes) -> tuple[bytes, int]:
        """(nonce + ciphertext, sealing key id).

        Call outside the transaction that stores the event: a new key is committed at once,
        so that no event can outlive a rolled-back key (a key without events is harmless).
        """
        found = self._sealing.get(month)
        if found is None:
            found = self._sealing[month] = self._new_sealing_key(month)
        key_id, aead, _ = found
        # A fresh random key per process and month: a counter nonce never repeats under it.
        self._counter += 1
        nonce = self._prefix + self._counter.to_bytes(8, "big")
        return nonce + aead.encrypt(nonce, address, aad), key_id

    def _new_sealing_key(self, month: date) -> tuple[int, AESGCM, bytes]:
        data_key = AESGCM.generate_key(256)
        ephemeral, wrapped = escrow_keys.wrap(
            data_key, bytes(self.escrow.public_key), sealing_label(month)
        )
        row = SealingKey.objects.create(
            month=month,
            escrow=self.escrow,
            ephemeral_public=ephemeral,
            wrapped=wrapped,
            created=self.now,
        )
        return row.pk, AESGCM(data_key), data_key

    def pseudonym(self, month: date, username: str) -> str:
        return self._names(month, username)  # attackers try the same names again and again

    def _keyed_name(self, month: date, username: str) -> str:
        key = self._pseudonym.get(month)
        if key is None:
            key = self._pseudonym[month] = month_key(month, create=True)
        return keyed_name(key, username)

    def reserve(self, count: int) -> int:
        """The first of `count` nonce counters no one else will use, for a worker (`Keys`)."""
        start = self._counter + 1
        self._counter += count
        return start

    def keys(self) -> tuple[dict[date, tuple[int, bytes]], dict[date, bytes], bytes]:
        """What a worker process needs to seal and key names as this object does (`Keys`)."""
        sealing = {month: (key_id, key) for month, (key_id, _, key) in self._sealing.items()}
        return sealing, dict(self._pseudonym), self._prefix


class Keys:
    """A `Sealer` inside a worker process, with the keys its parent had made when it sent the
    work. A month without its key raises MissingKey: the parent makes the key (keys are made
    only in the parent, which holds the database) and does that work itself.

    Each piece of work comes with a range of nonce counters of its own (`Sealer.reserve`):
    under one key no two processes use the same nonce.
    """

    def __init__(self, destroyed: set[date]) -> None:
        self.destroyed = destroyed
        self._sealing: dict[date, tuple[int, AESGCM]] = {}
        self._raw: dict[date, bytes] = {}
        self._pseudonym: dict[date, bytes] = {}
        self._names = lru_cache(maxsize=NAMES)(self._keyed_name)
        self._prefix = b""
        self._counter = 0

    def update(self, keys: tuple, counter: int) -> None:
        sealing, pseudonym, self._prefix = keys
        for month, (key_id, key) in sealing.items():
            if self._raw.get(month) != key:
                self._sealing[month], self._raw[month] = (key_id, AESGCM(key)), key
        self._pseudonym = pseudonym
        self._counter = counter - 1

    def seal(self, month: date, address: bytes, aad: bytes) -> tuple[bytes, int]:
        found = self._sealing.get(month)
        if found is None:
            raise MissingKey(month)
        key_id, aead = found
        self._counter += 1
        nonce = self._prefix + self._counter.to_bytes(8, "big")
        return nonce + aead.encrypt(nonce, address, aad), key_id

    def pseudonym(self, month: date, username: str) -> str:
        return self._names(month, username)

    def _keyed_name(self, month: date, username: str) -> str:
        key = self._pseudonym.get(month)
        if key is None:
            raise MissingKey(month)
        return keyed_name(key, username)


def keyed_name(key: bytes, username: str) -> str:
    """The pseudonym of a user name under a month's key."""
    return hmac.digest(key, username.encode("utf-8", "surrogateescape"), "sha256")[:16].hex()


def month_key(month: date, create: bool = False) -> bytes | None:
    """The month's pseudonym key, made on first use; None once destroyed (or not made)."""
    row = MonthKey.objects.filter(month=month).first()
    if row is None and create:
        key = os.urandom(32)
        master, wrapped = crypto.wrap_key(key, _month_label(month))
        try:
            with transaction.atomic():
                MonthKey.objects.create(month=month, wrapped=wrapped, master=master)
            return key
        except IntegrityError:  # another process made it first
            row = MonthKey.objects.get(month=month)
    if row is None:
        return None
    if not row.master:
        _name_masters([row])
    # Under a master key rotated since this process started, too: crypto reads the key file.
    return crypto.unwrap_key(row.master, row.wrapped, _month_label(row.month))


def _name_masters(rows: list[MonthKey]) -> None:
    """Keys made before their master was kept: find and store it (the one that opens them)."""
    for row in rows:
        row.master = crypto.wrapping_master(row.wrapped, _month_label(row.month)) or ""
        if row.master:
            MonthKey.objects.filter(pk=row.pk, master="").update(master=row.master)


def month_key_counts() -> dict[str, int]:
    """How many month keys each master key wraps (for `gallra keys`)."""
    _name_masters(list(MonthKey.objects.filter(master="")))
    found = Counter(MonthKey.objects.exclude(master="").values_list("master", flat=True))
    return dict(found)


def rewrap_month_keys(batch: int = 500) -> int:
    """Rewrap every month key not under the current master key; safe to rerun. Returns count.

    A key no known master key opens (its master was dropped before this was kept) stays.
    """
    _name_masters(list(MonthKey.objects.filter(master="")))
    current = crypto.master_id(crypto.master_key())
    done = 0
    while True:
        with transaction.atomic():
            rows = list(
                MonthKey.objects.select_for_update()
                .exclude(master=current)
                .exclude(master="")
                .order_by("pk")[:batch]
            )
            for row in rows:
                label = _month_label(row.month)
                key = crypto.unwrap_key(row.master, row.wrapped, label)
                row.master, row.wrapped = crypto.wrap_key(key, label)
            MonthKey.objects.bulk_update(rows, ["master", "wrapped"])
        done += len(rows)
        if len(rows) < batch:
            return done


def _month_keys(n: int) -> str:
    return ngettext("%(n)s login pseudonym key", "%(n)s login pseudonym keys", n) % {"n": n}


MONTH_KEYS = crypto.WrappedKeys(
    "login_month_keys", month_key_counts, rewrap_month_keys, _month_keys
)


def pseudonym_for(month: date, username: str, create: bool = False) -> str | None:
    """What `username` became in `month`; None when the month has no key (or it was destroyed).

    `create` makes the month's key if it has none and was never destroyed.
    """
    if create and DestroyedMonth.objects.filter(month=month).exists():
        create = False
    key = month_key(month, create=create)
    if key is None:
        return None
    return keyed_name(key, username)


def aad_for(at: datetime, network: str) -> bytes:
    """What a sealed address is bound to: its event's time (in microseconds) and network."""
    micros = (at - _EPOCH) // _MICROSECOND
    return f"{micros}|{network}".encode()
