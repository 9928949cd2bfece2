"""The runner contract every analytics capability follows.

A capability is a **runner**: a typed, validated request in, a typed result out::

    result = run(store, request, context)      # request: a Request, result: a Result

* :class:`Request` — a frozen pydantic model. Constructing one (or ``model_validate``) checks
  it; anything wrong raises the capability's :class:`~revloop.errors.RevloopError` subclass
  with a stable code (never pydantic's ``ValidationError``), so the CLI, the REST API and the
  pages report the same one-line message. Loosely typed input (dates as text, paths, lists)
  goes through ``model_validate``. Its JSON schema is the API's request body.
* :class:`Result` — a dataclass whose fields are plain, JSON-able types (no NumPy arrays, no
  Ibis expressions). ``to_json()`` is its JSON document (what ``--json`` prints and the API
  returns), ``json_schema()`` describes that document (the API's OpenAPI response schema),
  ``tables()`` gives its sections as Arrow tables (Parquet/CSV exports).
* :class:`RunContext` — what a run may need besides the request: the settings and a progress
  hook. Runners never read the environment or print.

The facade lists every runner (``revloop.facade.runners``); the interfaces call them through it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, TypeVar

import pyarrow as pa
from pydantic import (
    BaseModel,
    ConfigDict,
    ModelWrapValidatorHandler,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from revloop.errors import RevloopError
from revloop.settings import Settings, load_settings

ProgressHook = Callable[[str], None]


def _quiet(_step: str) -> None:
    """The progress hook of a run nobody watches."""


@dataclass(frozen=True)
class RunContext:
    """What a runner may use besides its request."""

    settings: Settings = field(default_factory=load_settings)
    progress: ProgressHook = _quiet


class RequestError(RevloopError):
    """A request that does not validate (the capability's own error class is raised when the
    request names one)."""

    code = "bad_request"


class Request(BaseModel):
    """Base of every analytics request: frozen, unknown fields refused, domain errors."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: The error raised for a request that does not validate (a RevloopError subclass whose
    #: constructor takes the message; its ``code`` is kept).
    error: ClassVar[type[RevloopError]] = RequestError

    @model_validator(mode="wrap")
    @classmethod
    def _domain_errors(cls, data: Any, handler: ModelWrapValidatorHandler[Any]) -> Any:
        # constructing, model_validate() and the API's body parsing all come through here
        try:
            return handler(data)
        except ValidationError as exc:
            raise cls.error(describe_validation_error(exc)) from None


def describe_validation_error(exc: ValidationError) -> str:
    """The first problem of a pydantic error as one line: ``field: what is wrong``."""
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "request"
    return f"{where}: {first['msg']}"


class Result:
    """Mixin of every analytics result (a dataclass of JSON-able fields)."""

    def to_json(self) -> dict[str, Any]:
        """The result as one JSON-ready document (datetimes as ISO 8601 text)."""
        doc: dict[str, Any] = _adapter(type(self)).dump_python(self, mode="json")
        return doc

    @classmethod
    def json_schema(cls) -> dict[str, Any]:
        """JSON Schema of :meth:`to_json`'s document (the API's response schema)."""
        schema: dict[str, Any] = _adapter(cls).json_schema(mode="serialization")
        return schema

    def tables(self) -> dict[str, pa.Table]:
        """The result's sections as Arrow tables (one file each in an export)."""
        return {}


_ARROW: dict[str, pa.DataType] = {
    "str": pa.string(), "str | None": pa.string(), "int": pa.int64(),
    "int | None": pa.int64(), "float": pa.float64(), "float | None": pa.float64(),
    "bool": pa.bool_(), "bool | None": pa.bool_(),
    "dt.datetime": pa.timestamp("us"), "dt.datetime | None": pa.timestamp("us"),
    "dt.date": pa.date32(), "dt.date | None": pa.date32(),
}


def rows_table(rows: list[Any], cls: type) -> pa.Table:
    """Dataclass rows as an Arrow table with a stable schema, also when empty: one column
    per scalar field (lists, dicts and nested rows are left to the JSON form)."""
    columns = [f for f in dataclasses.fields(cls) if str(f.type) in _ARROW]
    schema = pa.schema([pa.field(f.name, _ARROW[str(f.type)]) for f in columns])
    return pa.Table.from_pylist([{f.name: getattr(r, f.name) for f in columns} for r in rows],
                                schema=schema)


_ADAPTERS: dict[type, TypeAdapter[Any]] = {}


def _adapter(cls: type) -> TypeAdapter[Any]:
    """One TypeAdapter per result class (building one walks the whole type)."""
    if cls not in _ADAPTERS:
        _ADAPTERS[cls] = TypeAdapter(cls)
    return _ADAPTERS[cls]


Req = TypeVar("Req", bound=Request)
Res = TypeVar("Res", bound=Result)


@dataclass(frozen=True)
class Runner(Generic[Req, Res]):
    """One analytics capability as the interfaces see it.

    ``run`` takes the store (None for runners that need none), the request and the context.
    ``writes`` says whether a run stores anything (the API maps it to POST; read-only stores
    refuse it).
    """

    name: str
    summary: str
    request: type[Req]
    result: type[Res]
    run: Callable[[Any, Req, RunContext], Res]
    writes: bool = False
    needs_store: bool = True


def naive_utc(value: dt.datetime | None) -> dt.datetime | None:
    """``value`` as a naive UTC datetime (how the store keeps instants)."""
    if value is not None and value.tzinfo is not None:
        return value.astimezone(dt.UTC).replace(tzinfo=None)
    return value
