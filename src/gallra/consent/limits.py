"""How much one client may post to the decision endpoint.

The endpoint is open to everyone, so without a limit anyone could grow the decision table
without end. A client is its IPv4 address, or its IPv6 /64 (one household or server gets a
whole /64, so counting single IPv6 addresses would count nothing); it is held only as a keyed
digest, in memory, never stored. A real visitor makes a decision or two; the limits
(GALLRA_CONSENT_RATE, default 60 a minute and 1,000 a day) leave room for a whole office
behind one address. What is refused is answered 429, and the banner keeps the visitor's
choice in their cookie all the same.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import threading
import time

from django.conf import settings

MAX_CLIENTS = 100_000  # digests held at once (about 10 MB); beyond it the oldest are forgotten


def client_key(address: str) -> bytes:
    """A keyed digest of the client's network (the address is never kept)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        network = address[:64]
    else:
        if ip.version == 6 and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        network = str(ip) if ip.version == 4 else str(ipaddress.ip_network(f"{ip}/64", False))
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, b"consent-client:" + network.encode(), hashlib.sha256).digest()[:16]


class ClientLimit:
    """Counts per client in a minute window and a day window (fixed windows, in memory)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        # digest -> [minute window start, count in it, day window start, count in it]
        self.counts: dict[bytes, list[float]] = {}

    def over(self, address: str, *, now: float | None = None) -> bool:
        """Count one post from `address`; True when it is over either limit."""
        rate = settings.GALLRA_CONSENT_RATE
        if rate is None:
            return False
        per_minute, per_day = rate
        now = time.monotonic() if now is None else now
        key = client_key(address)
        with self.lock:
            entry = self.counts.get(key)
            if entry is None:
                if len(self.counts) >= MAX_CLIENTS:
                    self._forget(now)
                entry = self.counts[key] = [now, 0, now, 0]
            if now - entry[0] >= 60:
                entry[0], entry[1] = now, 0
            if now - entry[2] >= 86400:
                entry[2], entry[3] = now, 0
            entry[1] += 1
            entry[3] += 1
            return entry[1] > per_minute or entry[3] > per_day

    def _forget(self, now: float) -> None:
        """Drop clients whose day is over; if that is not enough, the oldest half."""
        self.counts = {k: v for k, v in self.counts.items() if now - v[2] < 86400}
        if len(self.counts) >= MAX_CLIENTS:
            keep = list(self.counts.items())[len(self.counts) // 2 :]
            self.counts = dict(keep)

    def clear(self) -> None:
        with self.lock:
            self.counts.clear()


clients = ClientLimit()
