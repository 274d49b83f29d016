"""The config cache is replaced atomically, private to its owner, and loads on start."""

import stat

import pytest

from bot import config_cache


def test_saved_config_loads_back_and_is_owner_only(tmp_path):
    path = tmp_path / "cache" / "config.json"
    assert config_cache.load(path) is None
    config_cache.save(path, {"desired_state": "run", "template": {"version": 3}})
    assert config_cache.load(path) == {"desired_state": "run", "template": {"version": 3}}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_failed_write_leaves_the_previous_config_intact(tmp_path):
    path = tmp_path / "config.json"
    config_cache.save(path, {"version": 1})
    circular: dict = {}
    circular["self"] = circular
    with pytest.raises(ValueError):
        config_cache.save(path, circular)
    assert config_cache.load(path) == {"version": 1}
    assert list(tmp_path.iterdir()) == [path]  # no temp file left behind


def test_corrupt_cache_is_reported_not_returned(tmp_path):
    path = tmp_path / "config.json"
    path.write_text("{not json")
    with pytest.raises(config_cache.ConfigCacheError):
        config_cache.load(path)


def test_remove_leaves_nothing_behind(tmp_path):
    path = tmp_path / "config.json"
    config_cache.save(path, {"a": 1})
    config_cache.remove(path)
    config_cache.remove(path)
    assert not path.exists()
