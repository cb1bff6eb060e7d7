"""A real restic repository in a temporary folder, and a policy that backs up a home folder."""

import pytest

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
    return tmp_path / "repository"


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
