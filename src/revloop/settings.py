"""One typed settings object: ``REVLOOP_*`` environment variables over ``revloop.toml``."""

from __future__ import annotations

import difflib
import json
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

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
        section = {_field(k): v for k, v in section.items()}
        known = {*Settings.model_fields, "revloop", "funnel"}
        unknown = sorted(k for k in section if k not in known)
        if unknown:  # a typo must not be silently ignored
            hints = [f"{k!r}" + (f" (did you mean {m[0]!r}?)" if (m := difflib.get_close_matches(
                k, sorted(known), n=1)) else "") for k in unknown]
            raise ConfigError(f"{path}: unknown setting {', '.join(hints)}; the settings are "
                              f"{', '.join(sorted(_shown(k) for k in Settings.model_fields))}")
        values = {k: v for k, v in section.items() if k in Settings.model_fields}
        # The funnel's stage definitions may sit in a top-level [funnel] table even when the
        # other settings are under [revloop].
        for table in ("funnel", "import"):
            field = _field(table)
            if field not in values and isinstance(data.get(table), dict):
                values[field] = data[table]
        return values


def _field(name: str) -> str:
    """The settings field of a ``revloop.toml`` table (``import`` is a Python keyword)."""
    return "import_" if name == "import" else name


def _shown(field: str) -> str:
    return field.removesuffix("_")


class FunnelSettings(BaseModel):
    """The ``[funnel]`` table: waterfall stages, exits, value maps and defaults of the report.

    Only shapes are checked here; ``revloop.analytics.funnel.stages`` validates the meaning
    (unknown stages, alias cycles, values mapped twice) and says what is wrong.
    """

    model_config = ConfigDict(extra="forbid")

    stages: list[str] = Field(
        default_factory=lambda: ["inquiry", "mql", "sal", "sql", "opportunity", "won"],
        description="The waterfall in order; the last one is won")
    exits: list[str] = Field(
        default_factory=lambda: ["lost", "disqualified", "recycled"],
        description="Exits (with a reason); at equal timestamps the first listed wins")
    post_sale: list[str] = Field(
        default_factory=lambda: ["renewal", "expansion", "churn"],
        description="Events after won")
    labels: dict[str, str] = Field(default_factory=dict, description="Display names")
    values: dict[str, str] = Field(
        default_factory=dict, description="Source value -> stage, exit, post-sale event, "
        "another source value (an alias) or 'ignore'; on top of the built-in maps")
    entity_values: dict[str, dict[str, str]] = Field(
        default_factory=dict, description="Per entity_type (lead, contact, account, "
        "opportunity) maps that win over `values`")
    builtin_values: bool = Field(
        default=True, description="Use the built-in maps (generator, Salesforce, HubSpot, "
        "the example mappings)")
    post_sale_opportunity_types: list[str] = Field(
        default_factory=lambda: ["renewal", "expansion"],
        description="Opportunity types whose won is a post-sale event of that name")
    window_days: float | None = Field(
        default=None, gt=0, description="Stage → next stage conversion window (none: any)")
    won_window_days: float | None = Field(
        default=None, gt=0, description="Stage → won conversion window (none: any)")
    reentry: Literal["first", "cycle"] = "first"
    cohort: Literal["week", "month", "quarter"] = "month"
    compare: Literal["week", "month", "quarter"] = "month"
    stall_percentile: int = Field(default=90, ge=1, le=99)
    segments: dict[str, int] = Field(
        default_factory=lambda: {"smb": 0, "mid_market": 100, "enterprise": 1000},
        description="Account segments by employee count: name -> lowest employee count")
    opportunities_count_for_people: bool = Field(
        default=False, description="Lead level: a person's opportunities' transitions count "
        "for the person (contact roles and converted leads)")


class SalesforceImportSettings(BaseModel):
    """``[import.salesforce]``: what a Salesforce org customised that the mapping must know."""

    model_config = ConfigDict(extra="forbid")

    loss_reason_fields: list[str] | None = Field(
        default=None, min_length=1, description="Opportunity fields tried in order for the "
        "lost reason; replaces the built-in list (LossReason__c, Loss_Reason__c, …)")
    lead_statuses: dict[str, str] = Field(
        default_factory=dict, description="Lead Status value -> stage or exit, on top of the "
        "built-in map (matched trimmed and case-insensitively)")


class ImportSettings(BaseModel):
    """The ``[import]`` table: per-source options of the importers."""

    model_config = ConfigDict(extra="forbid")

    salesforce: SalesforceImportSettings = Field(default_factory=SalesforceImportSettings)


class Settings(BaseSettings):
    """Everything configurable. Environment variables win over ``revloop.toml``."""

    model_config = SettingsConfigDict(env_prefix="REVLOOP_", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    db: str = Field(default="duckdb:///revloop.duckdb", description="Store URL")
    # NoDecode: the environment gives a comma list, split by the validator below
    free_mail_domains: Annotated[tuple[str, ...], NoDecode] = DEFAULT_FREE_MAIL_DOMAINS
    max_field_bytes: int = Field(default=1 << 20, ge=1024)
    batch_rows: int = Field(default=250_000, ge=1)
    spark_warehouse: str = "./spark-warehouse"
    # Amounts in other currencies are converted into this one at the rate in force on the
    # record's date; None: the corporate currency of the imported rates (CurrencyType).
    corporate_currency: str | None = Field(default=None, pattern=r"^[A-Za-z]{3}$")
    funnel: FunnelSettings = Field(default_factory=FunnelSettings)
    # `[import]` in revloop.toml (`import` is a keyword, hence the underscore)
    import_: ImportSettings = Field(default_factory=ImportSettings)

    @field_validator("free_mail_domains", mode="before")
    @classmethod
    def _split_domains(cls, value: Any) -> Any:
        if isinstance(value, str):  # "a.com,b.com" or a JSON list
            value = json.loads(value) if value.lstrip().startswith("[") else value.split(",")
        items = value
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
    except ValidationError as exc:
        raise ConfigError(_describe(exc)) from None
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


def _describe(exc: ValidationError) -> str:
    """The first problem of the settings as one line naming where to fix it."""
    first = exc.errors()[0]
    loc = [str(p) for p in first["loc"]]
    if not loc:
        return first["msg"].removeprefix("Value error, ")
    name = _shown(loc[0])
    loc[0] = name
    where = f"REVLOOP_{name.upper()} or {name} in revloop.toml"
    if len(loc) > 1:
        where = f"{'.'.join(loc)} in revloop.toml"
    value = first.get("input")
    shown = f", got {value!r}" if isinstance(value, str | int | float) else ""
    return f"setting {name} ({where}): {first['msg']}{shown}"
