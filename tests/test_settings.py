"""Settings from REVLOOP_* variables and revloop.toml."""

from __future__ import annotations

from pathlib import Path

import pytest

from revloop.errors import ConfigError
from revloop.settings import load_settings


def test_env_wins_over_toml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "revloop.toml").write_text(
        '[revloop]\ndb = "duckdb:///from_toml.duckdb"\nmax_field_bytes = 4096\n')
    assert load_settings().db == "duckdb:///from_toml.duckdb"
    assert load_settings().max_field_bytes == 4096
    monkeypatch.setenv("REVLOOP_DB", "postgresql://postgres@127.0.0.1/x")
    assert load_settings().db == "postgresql://postgres@127.0.0.1/x"


def test_free_mail_domains_from_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("REVLOOP_FREE_MAIL_DOMAINS", '["Example.org","mail.test"]')
    assert load_settings().free_mail_domains == ("example.org", "mail.test")
    monkeypatch.setenv("REVLOOP_FREE_MAIL_DOMAINS", "Example.org, mail.test")
    assert load_settings().free_mail_domains == ("example.org", "mail.test")


def test_production_refuses_the_default_store(monkeypatch: pytest.MonkeyPatch,
                                              tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("REVLOOP_ENVIRONMENT", "production")
    with pytest.raises(ConfigError, match="REVLOOP_DB must be set explicitly"):
        load_settings()


def test_bad_toml_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "revloop.toml").write_text("db = \n")
    with pytest.raises(ConfigError, match=r"revloop\.toml: not valid TOML"):
        load_settings()
