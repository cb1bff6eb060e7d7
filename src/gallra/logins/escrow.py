"""The escrow key: what lets an authority's request be answered, and nothing else.

An X25519 key pair is made once. gallra keeps the public half, to which every sealing key
is wrapped; the private half is split with Shamir's secret sharing over GF(2^8) into
`shares` pieces of which any `threshold` rebuild it, and fewer tell nothing about it. The
shares are printed once and never stored: the CEO and two board members each keep one
offline (P22). Revealing then needs that many people in the room.

A share is one line of text:  gallra-share-1.<set>.<threshold>.<x>.<data>.<check>
where <set> names the escrow key it belongs to and <check> catches a mistyped share.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

PREFIX = "gallra-share-1"
NONCE_BYTES = 12


class ShareError(ValueError):
    """The shares given cannot open the escrow key; the message says why."""


# --- GF(2^8) arithmetic (the AES field, x^8 + x^4 + x^3 + x + 1), by log tables ---------

_EXP = [0] * 512
_LOG = [0] * 256
_x = 1
for _i in range(255):
    _EXP[_i] = _x
    _LOG[_x] = _i
    _x ^= (_x << 1) ^ (0x11B if _x & 0x80 else 0)  # multiply by the generator 3
    _x &= 0xFF
for _i in range(255, 512):
    _EXP[_i] = _EXP[_i - 255]


def _mul(a: int, b: int) -> int:
    return 0 if a == 0 or b == 0 else _EXP[_LOG[a] + _LOG[b]]


def _div(a: int, b: int) -> int:
    return 0 if a == 0 else _EXP[_LOG[a] - _LOG[b] + 255]


def split(secret: bytes, shares: int, threshold: int) -> list[tuple[int, bytes]]:
    """`shares` points (x, y-bytes) of random polynomials of degree threshold-1 per byte."""
    if not 1 <= threshold <= shares <= 255:
        raise ValueError("need 1 <= threshold <= shares <= 255")
    coefficients = [
        [byte] + [secrets.randbelow(256) for _ in range(threshold - 1)] for byte in secret
    ]
    points = []
    for x in range(1, shares + 1):
        y = bytearray()
        for coeffs in coefficients:
            value = 0
            for c in reversed(coeffs):  # Horner
                value = _mul(value, x) ^ c
            y.append(value)
        points.append((x, bytes(y)))
    return points


def combine(points: list[tuple[int, bytes]]) -> bytes:
    """The secret at x = 0, by Lagrange interpolation over the given points."""
    secret = bytearray(len(points[0][1]))
    for i, (xi, yi) in enumerate(points):
        weight = 1
        for j, (xj, _) in enumerate(points):
            if i != j:
                weight = _mul(weight, _div(xj, xj ^ xi))
        for k, byte in enumerate(yi):
            secret[k] ^= _mul(byte, weight)
    return bytes(secret)


# --- shares as text ----------------------------------------------------------------------


def _check(body: str) -> str:
    return hashlib.sha256(body.encode()).hexdigest()[:8]


def share_text(set_id: str, threshold: int, x: int, y: bytes) -> str:
    data = base64.b32encode(y).decode().rstrip("=").lower()
    body = f"{PREFIX}.{set_id}.{threshold}.{x}.{data}"
    return f"{body}.{_check(body)}"


@dataclass(frozen=True)
class Share:
    set_id: str
    threshold: int
    x: int
    y: bytes


def parse_share(text: str, number: int) -> Share:
    """One share as typed or pasted; `number` is its place in the input, for the message."""
    parts = text.strip().split(".")
    if len(parts) != 6 or parts[0] != PREFIX:
        raise ShareError(f"share {number} is not a gallra escrow share (it starts {PREFIX}.)")
    body, check = ".".join(parts[:5]), parts[5]
    if _check(body) != check.lower():
        raise ShareError(f"share {number} is damaged or mistyped (its check {check} fails)")
    _, set_id, threshold, x, data = parts[:5]
    padded = data.upper() + "=" * (-len(data) % 8)
    return Share(set_id, int(threshold), int(x), base64.b32decode(padded))


def private_key_from_shares(texts: list[str], set_id: str, public_key: bytes) -> bytes:
    """The escrow private key, or ShareError naming what is wrong with the shares."""
    shares = [parse_share(t, n) for n, t in enumerate(texts, 1)]
    if not shares:
        raise ShareError("no shares were given (one per line on standard input)")
    for n, share in enumerate(shares, 1):
        if share.set_id != set_id:
            raise ShareError(
                f"share {n} belongs to escrow key {share.set_id}, not to the current one ({set_id})"
            )
    distinct = {s.x: s for s in shares}
    threshold = shares[0].threshold
    if len(distinct) < threshold:
        raise ShareError(
            f"{threshold} different shares are needed and {len(distinct)} were given: "
            "no fewer can reveal anything"
        )
    private = combine([(s.x, s.y) for s in list(distinct.values())[:threshold]])
    derived = X25519PrivateKey.from_private_bytes(private).public_key().public_bytes_raw()
    if derived != bytes(public_key):
        raise ShareError(
            "the shares do not open the escrow key: at least one of them is wrong "
            "(made up, or from another copy of the key)"
        )
    return private


def new_escrow(shares: int, threshold: int) -> tuple[bytes, str, list[str]]:
    """(public key, set id, the share texts). The private key is not returned or kept."""
    private = X25519PrivateKey.generate()
    raw = private.private_bytes_raw()
    set_id = secrets.token_hex(4)
    texts = [share_text(set_id, threshold, x, y) for x, y in split(raw, shares, threshold)]
    public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return public, set_id, texts


# --- wrapping a data key to the escrow public key (ECIES) ----------------------------------


def _kek(shared: bytes, ephemeral: bytes, escrow: bytes, label: bytes) -> AESGCM:
    key = HKDF(SHA256(), 32, salt=ephemeral + escrow, info=b"gallra login sealing|" + label)
    return AESGCM(key.derive(shared))


def wrap(data_key: bytes, escrow_public: bytes, label: bytes) -> tuple[bytes, bytes]:
    """(ephemeral public key, wrapped key). Only the escrow private key unwraps it."""
    ephemeral = X25519PrivateKey.generate()
    ephemeral_public = ephemeral.public_key().public_bytes_raw()
    shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(escrow_public))
    nonce = os.urandom(NONCE_BYTES)
    aead = _kek(shared, ephemeral_public, escrow_public, label)
    return ephemeral_public, nonce + aead.encrypt(nonce, data_key, label)


def unwrap(wrapped: bytes, ephemeral_public: bytes, private: bytes, label: bytes) -> bytes:
    key = X25519PrivateKey.from_private_bytes(private)
    shared = key.exchange(X25519PublicKey.from_public_bytes(bytes(ephemeral_public)))
    escrow_public = key.public_key().public_bytes_raw()
    aead = _kek(shared, bytes(ephemeral_public), escrow_public, label)
    wrapped = bytes(wrapped)
    return aead.decrypt(wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], label)
