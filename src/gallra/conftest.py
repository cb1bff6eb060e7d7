"""Shared test set-up: every test runs with fresh keys, never a real key file."""

import pytest

from gallra import config


@pytest.fixture(autouse=True)
def gallra_keys(settings, tmp_path):
    content = config.new_key_file_content()
    key_file = tmp_path / "keys.json"
    key_file.write_text(__import__("json").dumps(content))
    settings.GALLRA_KEY_FILE = key_file
    settings.GALLRA_KEYS = config.load_keys(key_file)
    return settings.GALLRA_KEYS
