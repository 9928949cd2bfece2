"""One typed settings object: ``REVLOOP_*`` environment variables over ``revloop.toml``."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from revloop.errors import ConfigError

DEFAULT_FREE_MAIL_DOMAINS: tuple[str, ...] = (
    "gmail.com", "googlemail.com", "yahoo.com", "yahoo.co.uk", "yahoo.fr", "ymail.com",
    "hotmail.com", "hotmail.co.uk", "hotmail.fr", "outlook.com", "live.com", "msn.com",
    "aol.com", "icloud.com", "me.com", "mac.com", "protonmail.com", "proton.me",
    "gmx.com", "gmx.de", "gmx.net", "web.de", "mail.com", "mail.ru", "yandex.ru",
    "yandex.com", "qq.com", "163.com", "126.com", "sina.com", "zoho.com", "fastmail.com",
    "hey.com", "tutanota.com", "uol.com.br", "bol.com.br", "terra.com.br", "rediffmail.com",
)


def _toml_path() -> Path:
    return Path.cwd() / "revloop.toml"


class _TomlSource(PydanticBaseSettingsSource):
    """Reads the ``[revloop]`` table (or the top level) of ``./revloop.toml`` if present."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        path = _toml_path()
        if not path.exists():
            return {}
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
        section = data.get("revloop", data)
        return {k: v for k, v in section.items() if k in Settings.model_fields}


class Settings(BaseSettings):
    """Everything configurable. Environment variables win over ``revloop.toml``."""

    model_config = SettingsConfigDict(env_prefix="REVLOOP_", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    db: str = Field(default="duckdb:///revloop.duckdb", description="Store URL")
    free_mail_domains: tuple[str, ...] = DEFAULT_FREE_MAIL_DOMAINS
    max_field_bytes: int = Field(default=1 << 20, ge=1024)
    batch_rows: int = Field(default=250_000, ge=1)
    spark_master: str = "local[2]"
    spark_warehouse: str = "./spark-warehouse"

    @field_validator("free_mail_domains", mode="before")
    @classmethod
    def _split_domains(cls, value: Any) -> Any:
        items = value.split(",") if isinstance(value, str) else value
        return tuple(str(d).strip().lower() for d in items if str(d).strip())

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Settings:
        # A shared deployment must not silently write to a file next to the working directory.
        if self.environment == "production" and self.db.startswith("duckdb:///revloop.duckdb"):
            raise ValueError(
                "REVLOOP_DB must be set explicitly when REVLOOP_ENVIRONMENT=production")
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return init_settings, env_settings, _TomlSource(settings_cls)


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment and ``revloop.toml``, with explicit overrides on top."""
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc
