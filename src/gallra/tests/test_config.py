"""Settings from the environment (config.py): a `sqlite:///` URL gets the SQLite the default
gets, and the data directory's own settings file fills in what the environment leaves out."""

from __future__ import annotations

import os

import pytest
from django.db.utils import ConnectionHandler

from gallra import config


def test_a_sqlite_url_gets_the_settings_of_the_default_database(tmp_path, django_db_blocker):
    path = tmp_path / "elsewhere.sqlite3"
    from_url = config.database_settings(f"sqlite://{path}", tmp_path)  # sqlite:///tmp/…
    default = config.database_settings(None, tmp_path)
    assert from_url["NAME"] == str(path)
    assert from_url["OPTIONS"] == default["OPTIONS"]
    assert from_url["OPTIONS"]["transaction_mode"] == "IMMEDIATE"

    connection = ConnectionHandler({"default": from_url})["default"]
    try:
        with django_db_blocker.unblock(), connection.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode")
            assert cursor.fetchone()[0] == "wal"  # readers do not wait for a writer
        assert connection.transaction_mode == "IMMEDIATE"  # BEGIN IMMEDIATE: no deadlock
        assert connection.get_connection_params()["timeout"] == 30
    finally:
        connection.close()


def test_the_data_directory_settings_file_fills_in_what_the_environment_does_not_set(
    tmp_path, monkeypatch
):
    (tmp_path / config.ENV_FILE_NAME).write_text(
        "# the demo server\n"
        "\n"
        "GALLRA_SERVER_COUNTRY=SE\n"
        "export GALLRA_BACKUP_REPOSITORY='/srv/backup/gallra'\n"
        'GALLRA_SMTP_HOST="relay.example.se"\n'
    )
    monkeypatch.setenv("GALLRA_SMTP_HOST", "smtp.example.se")
    monkeypatch.delenv("GALLRA_SERVER_COUNTRY", raising=False)
    monkeypatch.delenv("GALLRA_BACKUP_REPOSITORY", raising=False)
    found = config.load_env_file(tmp_path)
    assert found["GALLRA_SMTP_HOST"] == "relay.example.se"  # quotes removed, as a shell does
    assert os.environ["GALLRA_SERVER_COUNTRY"] == "SE"
    assert os.environ["GALLRA_BACKUP_REPOSITORY"] == "/srv/backup/gallra"
    assert os.environ["GALLRA_SMTP_HOST"] == "smtp.example.se"  # the environment wins
    assert config.load_env_file(tmp_path / "nowhere") == {}


@pytest.mark.parametrize("line", ["GALLRA_DATA=/elsewhere", "PATH=/tmp", "country SE"])
def test_the_settings_file_refuses_what_is_not_a_gallra_setting(tmp_path, line):
    (tmp_path / config.ENV_FILE_NAME).write_text(f"# ok\n{line}\n")
    with pytest.raises(config.ConfigError, match=r"env:2: not a gallra setting"):
        config.read_env_file(tmp_path / config.ENV_FILE_NAME)
