"""A real restic repository in a temporary folder, and a policy that backs up a home folder."""

import base64
import hashlib
import json
import os
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.poly1305 import Poly1305

from gallra.backups.restic import restic
from gallra.policy.loading import current_policy


@pytest.fixture
def repository(settings, tmp_path):
    password = tmp_path / "restic-password"
    password.write_text("korrekt häst batteri häftklammer\n")
    password.chmod(0o600)
    settings.GALLRA_BACKUP_REPOSITORY = str(tmp_path / "repository")
    settings.GALLRA_BACKUP_PASSWORD_FILE = str(password)
    settings.GALLRA_DATA = tmp_path / "data"
    settings.GALLRA_DATA.mkdir()
    restic("init")
    cheapen_key(tmp_path / "repository", password)
    return tmp_path / "repository"


def cheapen_key(repository: Path, password_file: Path) -> None:
    """Remake the repository's password key with scrypt N=2^10 instead of the ~0.5 s that
    restic 0.14 calibrates at `init` (it has no option for it) and then spends on every
    command: the tests run restic hundreds of times. restic itself opens the key as ever;
    only the key derivation is cheaper. The format is restic's design document's."""
    password = password_file.read_bytes().rstrip(b"\n")
    [path] = (repository / "keys").iterdir()
    key = json.loads(path.read_bytes())
    master = _open(key, password)
    salt = os.urandom(64)
    cheap = dict(key, N=1024, r=8, p=1, salt=base64.b64encode(salt).decode())
    cheap["data"] = base64.b64encode(_seal(cheap, password, master)).decode()
    content = json.dumps(cheap).encode()
    (repository / "keys" / hashlib.sha256(content).hexdigest()).write_bytes(content)
    path.unlink()


def _user_key(key: dict, password: bytes) -> tuple[bytes, bytes, bytes]:
    """restic's key derivation: scrypt gives the AES key, then the Poly1305-AES k and r."""
    salt = base64.b64decode(key["salt"])
    raw = hashlib.scrypt(
        password, salt=salt, n=key["N"], r=key["r"], p=key["p"], maxmem=1 << 30, dklen=64
    )
    return raw[:32], raw[32:48], raw[48:]


def _mac(k: bytes, r: bytes, nonce: bytes, ciphertext: bytes) -> bytes:
    s = Cipher(algorithms.AES(k), modes.ECB()).encryptor().update(nonce)  # noqa: S305 (one block)
    return Poly1305.generate_tag(r + s, ciphertext)


def _open(key: dict, password: bytes) -> bytes:
    encryption, k, r = _user_key(key, password)
    data = base64.b64decode(key["data"])
    nonce, ciphertext, tag = data[:16], data[16:-16], data[-16:]
    assert _mac(k, r, nonce, ciphertext) == tag, "not restic's key format"
    return Cipher(algorithms.AES(encryption), modes.CTR(nonce)).decryptor().update(ciphertext)


def _seal(key: dict, password: bytes, plaintext: bytes) -> bytes:
    encryption, k, r = _user_key(key, password)
    nonce = os.urandom(16)
    ciphertext = Cipher(algorithms.AES(encryption), modes.CTR(nonce)).encryptor().update(plaintext)
    return nonce + ciphertext + _mac(k, r, nonce, ciphertext)


@pytest.fixture
def homes(tmp_path):
    folder = tmp_path / "home"
    (folder / "anna").mkdir(parents=True)
    return folder


@pytest.fixture
def policy(homes):
    shipped = current_policy()
    backups = shipped.backups.model_copy(update={"directories": [str(homes)]})
    return shipped.model_copy(update={"backups": backups})
