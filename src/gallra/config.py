"""Where gallra keeps its data and secrets, read from the environment once.

The embedded default is a data directory (`./gallra-data`, or `GALLRA_DATA`) holding
an SQLite database, the provider's policy file and the key file. Production sets
`GALLRA_DATABASE_URL` to a PostgreSQL URL; the key file stays in the data directory
or its keys come from the environment.
"""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

KEY_FILE_NAME = "keys.json"
ENV_FILE_NAME = "env"  # settings kept in the data directory (load_env_file)
ENV_LINE = re.compile(r"(?:export\s+)?(GALLRA_[A-Z0-9_]+)=(.*)")
POLICY_FILE_NAME = "policy.toml"
DEFAULT_POLICY = Path(__file__).parent / "policies" / "jufcorp.toml"

# Each secret the key file holds, and the environment variable that may supply it instead.
KEY_NAMES = {
    "django_secret_key": "GALLRA_SECRET_KEY",
    "master_key": "GALLRA_MASTER_KEY",  # wraps the per-customer keys (AES-256-GCM)
    "pseudonym_key": "GALLRA_PSEUDONYM_KEY",  # keyed hashes that stand in for users (P13)
}


class ConfigError(Exception):
    """The environment or data directory is not usable; the message says how to fix it."""


def data_dir() -> Path:
    return Path(os.environ.get("GALLRA_DATA", "gallra-data")).resolve()


def read_env_file(path: Path) -> dict[str, str]:
    """Settings in a file of NAME=value lines, a format that a shell and systemd's
    EnvironmentFile= read too: blank lines and comments (#) skipped, quotes around a value
    removed."""
    if not path.is_file():
        return {}
    try:
        text = path.read_text()
    except OSError as exc:  # one line for `gallra serve` to refuse to start with, no traceback
        raise ConfigError(
            f"{path}: cannot be read ({exc.strerror}): it must be readable by the user gallra "
            "runs as, and by no other"
        ) from exc
    found = {}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        match = ENV_LINE.fullmatch(line)
        if match is None or match[1] == "GALLRA_DATA":  # the file cannot move its own folder
            raise ConfigError(f"{path}:{number}: not a gallra setting (GALLRA_NAME=value)")
        value = match[2]
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        found[match[1]] = value
    return found


def load_env_file(data: Path) -> dict[str, str]:
    """The data directory's own settings (`$GALLRA_DATA/env`), for each one the environment
    does not set: the environment wins. `gallra demo` declares its server's country and its
    backup repository there; docs/production.md keeps every setting there, so that the server,
    cron and a shell read the same (`gallra check` says which ones it read)."""
    found = read_env_file(data / ENV_FILE_NAME)
    for name, value in found.items():
        os.environ.setdefault(name, value)
    return found


def policy_path() -> Path:
    """The provider's policy: `GALLRA_POLICY`, else the data directory's copy, else JufCorp's."""
    if os.environ.get("GALLRA_POLICY"):
        return Path(os.environ["GALLRA_POLICY"])
    # absolute(), not resolve(): asked on every request that reads the policy, and resolving
    # symlinks costs a system call per path component.
    local = Path(os.environ.get("GALLRA_DATA", "gallra-data")).absolute() / POLICY_FILE_NAME
    return local if local.exists() else DEFAULT_POLICY


def sqlite_settings(name: str) -> dict:
    """SQLite as gallra needs it, the default database and a `sqlite:///` URL alike: WAL (the
    web pages read while a command writes), transactions that take the write lock at once
    (no deadlock between two that both read first), and a writer waiting its turn."""
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": name,
        "OPTIONS": {
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL;",
            # Seconds a writer waits for another's transaction: sqlite3's 5 were too
            # short under 40 parallel logins, each hashing a password with Argon2.
            "timeout": 30,
        },
    }


def database_settings(url: str | None, data: Path) -> dict:
    """Django DATABASES['default'] from `GALLRA_DATABASE_URL`, or SQLite in the data directory."""
    if not url:
        return sqlite_settings(str(data / "gallra.sqlite3"))
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        return sqlite_settings(unquote(parts.path) or ":memory:")
    if parts.scheme not in ("postgres", "postgresql"):
        raise ConfigError(
            f"GALLRA_DATABASE_URL: unsupported scheme {parts.scheme!r} "
            "(use postgresql://user@host:port/name or sqlite:///path)"
        )
    options = dict(parse_qsl(parts.query))
    # pg_stat_activity and pg_locks then say which gallra process holds what (docs/jobs.md).
    options.setdefault("application_name", f"gallra {os.getpid()}")
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": unquote(parts.path.lstrip("/")),
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname or "",
        "PORT": str(parts.port or ""),
        "OPTIONS": options,
    }


@dataclass(frozen=True)
class Keys:
    django_secret_key: str
    master_key: bytes
    pseudonym_key: bytes
    # Master keys replaced by `gallra keys rotate`: they still open keys not yet rewrapped.
    retired_master_keys: tuple[bytes, ...] = ()


def _decode_key(name: str, value: str) -> bytes:
    try:
        raw = base64.b64decode(value, validate=True)
    except ValueError as exc:
        raise ConfigError(f"{name}: not base64") from exc
    if len(raw) != 32:
        raise ConfigError(f"{name}: must be 32 bytes (base64), got {len(raw)}")
    return raw


def new_key_file_content() -> dict[str, str]:
    return {
        "django_secret_key": secrets.token_urlsafe(50),
        "master_key": base64.b64encode(secrets.token_bytes(32)).decode(),
        "pseudonym_key": base64.b64encode(secrets.token_bytes(32)).decode(),
    }


def create_key_file(path: Path) -> bool:
    """Write a new key file with mode 0600; never overwrite one (that would lose every secret)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w") as f:
        json.dump(new_key_file_content(), f, indent=2)
        f.write("\n")
    return True


def load_keys(path: Path) -> Keys | None:
    """Keys from the environment, else from the key file; None when neither has them yet."""
    stored: dict[str, str] = {}
    if path.exists():
        try:
            stored = json.loads(path.read_text())
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{path}:{exc.lineno}: key file is not valid JSON") from exc
    values = {name: os.environ.get(env) or stored.get(name) for name, env in KEY_NAMES.items()}
    if not all(values.values()):
        return None
    retired = stored.get("retired_master_keys", [])
    if not isinstance(retired, list):
        raise ConfigError(f"{path}: retired_master_keys must be a list of base64 keys")
    return Keys(
        django_secret_key=values["django_secret_key"],
        master_key=_decode_key("master_key", values["master_key"]),
        pseudonym_key=_decode_key("pseudonym_key", values["pseudonym_key"]),
        retired_master_keys=tuple(_decode_key("retired_master_keys", k) for k in retired),
    )


def rotate_master_key(path: Path) -> None:
    """Give the key file a new master key; the old one is kept as retired until dropped.

    Written to a temporary file and renamed, so a crash leaves the old file or the new one.
    """
    stored = json.loads(path.read_text())
    stored["retired_master_keys"] = [
        stored["master_key"],
        *[k for k in stored.get("retired_master_keys", []) if k != stored["master_key"]],
    ]
    stored["master_key"] = base64.b64encode(secrets.token_bytes(32)).decode()
    _replace(path, stored)


def drop_retired_master_keys(path: Path, keep: set[bytes]) -> int:
    """Remove retired master keys not in `keep` (still wrapping a key); returns how many."""
    stored = json.loads(path.read_text())
    retired = stored.get("retired_master_keys", [])
    kept = [k for k in retired if base64.b64decode(k) in keep]
    stored["retired_master_keys"] = kept
    _replace(path, stored)
    return len(retired) - len(kept)


def _replace(path: Path, content: dict) -> None:
    temporary = path.with_name(path.name + ".new")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(content, f, indent=2)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(temporary, path)
