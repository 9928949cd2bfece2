"""``revloop`` — the command line. Thin: every command calls the facade.

One module per command group: ``store`` (init, import, build, status, schema, quarantine),
``generate``, ``funnel``, ``attribution``, ``scoring``; ``common`` holds what they share
(consoles, the store, errors with their codes, JSON, progress).
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from revloop import __version__, facade
from revloop.interfaces.cli import attribution, funnel, generate, scoring, store
from revloop.interfaces.cli.common import fail, install_signal_handlers, out, state

app = typer.Typer(
    name="revloop",
    help="revloop — one data model, one funnel and one number for marketing, sales and "
    "customer success.\n\nStart with `revloop init`, load data with `revloop import`, then "
    "`revloop build`. The store is ./revloop.duckdb unless --db or REVLOOP_DB says otherwise.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="markdown",
)


def _version(value: bool) -> None:
    if value:
        out.print(f"revloop {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    db: Annotated[str | None, typer.Option(
        "--db", envvar="REVLOOP_DB", help="Store URL: duckdb:///file.duckdb, "
        "postgresql://user@host/db or spark://local.")] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    state["db"] = db
    state["debug"] = debug


# The store's commands first, then each capability's (the order `--help` lists them in).
for _module in (store, generate, funnel, attribution, scoring):
    _module.register(app)


def main() -> None:
    """Console-script entry point."""
    install_signal_handlers()
    try:
        try:  # fail early and clearly on a bad revloop.toml / REVLOOP_* value
            facade.load_settings()
        except facade.RevloopError as exc:
            fail(exc.code, exc.message, "--json" in sys.argv, 2)
    except typer.Exit as stop:
        sys.exit(stop.exit_code)
    app()
