"""Settings: defaults < file < environment < flags; the file is private; keys never shown whole."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from os1.config import Settings, default_home, load_settings, set_config_value
from os1.errors import ConfigError


def test_home_follows_os1_home_then_xdg(tmp_path: Path) -> None:
    assert default_home({"OS1_HOME": str(tmp_path)}) == tmp_path
    assert default_home({"XDG_DATA_HOME": str(tmp_path)}) == tmp_path / "os1"


def test_precedence_file_env_flags(tmp_path: Path) -> None:
    env = {"OS1_HOME": str(tmp_path)}
    settings = load_settings(env)
    assert settings.model == "embedded"
    set_config_value(settings, "model", "openai:from-file")
    assert load_settings(env).model == "openai:from-file"
    assert load_settings({**env, "OS1_MODEL": "openai:from-env"}).model == "openai:from-env"
    assert load_settings({**env, "OS1_MODEL": "x:y"}, {"model": "gguf:flag"}).model == "gguf:flag"


def test_config_file_is_private_and_typed(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    updated = set_config_value(settings, "openai_api_key", "sk-very-secret-1234")
    set_config_value(updated, "max_reply_tokens", "99")
    mode = stat.S_IMODE(settings.config_path.stat().st_mode)
    assert mode == 0o600
    loaded = load_settings({"OS1_HOME": str(tmp_path)})
    assert loaded.max_reply_tokens == 99
    assert "sk-very-secret-1234" not in repr(loaded)
    assert loaded.public()["openai_api_key"] == "****1234"


def test_bad_settings_get_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="Unknown setting"):
        set_config_value(Settings(home=tmp_path), "colour", "blue")
    with pytest.raises(ConfigError, match="must be a number"):
        set_config_value(Settings(home=tmp_path), "max_reply_tokens", "lots")
    (tmp_path / "config.toml").write_text("model = [unclosed")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings({"OS1_HOME": str(tmp_path)})
