"""``revloop`` — the command line. Thin: every command calls the facade."""

from __future__ import annotations

import sys
import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from revloop import __version__, facade
from revloop.interfaces import cli_attribution, cli_funnel, cli_generate, cli_scoring
from revloop.interfaces.cli_common import (
    JsonOpt,
    emit_json,
    open_store,
    out,
    print_reconciliation,
    progress_bar,
    run,
    state,
)
from revloop.settings import load_settings

app = typer.Typer(
    name="revloop",
    help="revloop — one data model, one funnel and one number for marketing, sales and "
    "customer success.\n\nStart with `revloop init`, load data with `revloop import`, then "
    "`revloop build`. The store is ./revloop.duckdb unless --db or REVLOOP_DB says otherwise.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="markdown",
)
quarantine_app = typer.Typer(help="Rows that could not be stored, with the reason.",
                             no_args_is_help=True)
app.add_typer(quarantine_app, name="quarantine")


class Source(StrEnum):
    canonical = "canonical"
    salesforce = "salesforce"
    hubspot = "hubspot"
    mapped = "mapped"


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


@app.command()
def init(as_json: JsonOpt = False) -> None:
    """Create the store and its tables (safe to run again)."""
    def body() -> None:
        with open_store() as store:
            doc = {"url": store.url, "engine": store.engine, "tables": len(store.list_tables())}
        if as_json:
            emit_json(doc)
        else:
            out.print(f"Store ready: [bold]{doc['url']}[/] ({doc['engine']}, "
                      f"{doc['tables']} tables)")
    run(body)


@app.command("import")
def import_(
    source: Annotated[Source, typer.Argument(help="Where the files come from.")],
    paths: Annotated[list[Path], typer.Argument(help="Files to import (CSV, Parquet, JSONL).")],
    mapping: Annotated[Path | None, typer.Option(
        "--mapping", "-m", help="YAML mapping file (for `mapped`).")] = None,
    entity: Annotated[str | None, typer.Option(
        "--entity", "-e", help="Entity/object the files hold, when their names do not say.")
    ] = None,
    sep: Annotated[str | None, typer.Option(
        "--sep", help="CSV delimiter (default: comma; tab for .tsv).")] = None,
    encoding: Annotated[str, typer.Option(help="Text encoding of the files.")] = "utf-8",
    as_json: JsonOpt = False,
) -> None:
    """Import files in one transaction and print the reconciliation
    (read = stored + duplicates + quarantined). Re-importing a file stores nothing new."""
    def body() -> facade.ImportResult:
        with open_store() as store, progress_bar(as_json) as progress:
            tasks: dict[str, Any] = {}
            started = time.perf_counter()

            def hook(file: str, rows: int) -> None:
                if file not in tasks:
                    tasks[file] = progress.add_task(Path(file).name, total=None)
                rate = rows / max(time.perf_counter() - started, 1e-9)
                progress.update(tasks[file], completed=rows,
                                description=f"{Path(file).name}: {rows:,} rows ({rate:,.0f}/s)")

            return facade.import_files(
                store, source.value, paths, mapping=mapping, entity=entity, delimiter=sep,
                encoding=encoding, progress=hook,
            )
    result = run(body)
    if as_json:
        emit_json(result.to_dict())
        return
    print_reconciliation(result)


@app.command("build")
def build_(as_json: JsonOpt = False) -> None:
    """Rebuild the model: staging → identity resolution → marts (and data issues)."""
    def body() -> dict[str, int]:
        with open_store() as store, progress_bar(as_json) as progress:
            task = progress.add_task("build", total=None)
            return facade.build_model(
                store, step=lambda name: progress.update(task, description=f"build: {name}",
                                                         advance=1))
    counts = run(body)
    if as_json:
        emit_json({"marts": counts})
        return
    table = Table(title="Marts", title_justify="left")
    table.add_column("mart")
    table.add_column("rows", justify="right")
    for name, n in counts.items():
        table.add_row(name, f"{n:,}")
    out.print(table)


@app.command()
def status(as_json: JsonOpt = False) -> None:
    """What the store holds: raw rows, marts, quarantine, latest imports."""
    def body() -> facade.StoreStatus:
        with open_store() as store:
            return facade.status(store)
    st = run(body)
    if as_json:
        emit_json(st.to_dict())
        return
    out.print(f"Store: [bold]{st.url}[/] ({st.engine})")
    table = Table(show_header=True)
    table.add_column("entity")
    table.add_column("raw rows", justify="right")
    table.add_column("mart rows", justify="right")
    for name, n in st.raw.items():
        mart = st.marts.get(name)
        table.add_row(name, f"{n:,}", "—" if mart is None else f"{mart:,}")
    out.print(table)
    out.print(f"Quarantined rows: {st.quarantined:,}"
              + ("" if st.data_issues is None else f" · data issues: {st.data_issues:,}"))
    for imp in st.imports:
        out.print(f"  {imp['finished_at']}  {imp['source']:<10} read {imp['read']:,}  stored "
                  f"{imp['stored']:,}  duplicates {imp['duplicates']:,}  quarantined "
                  f"{imp['quarantined']:,}")


@app.command()
def schema(as_json: JsonOpt = False,
           markdown: Annotated[bool, typer.Option(help="Print docs/schema.md.")] = False) -> None:
    """The canonical schema (entities, columns, types, keys)."""
    from revloop.schema import ENTITIES

    if markdown:
        sys.stdout.write(facade.schema_markdown())
        return
    if as_json:
        emit_json({e.name: {"key": list(e.key), "columns": {
            c.name: {"type": c.type.value, "required": c.required, "references": c.references}
            for c in e.columns}} for e in ENTITIES})
        return
    for e in ENTITIES:
        out.print(f"[bold]{e.name}[/] (key: {', '.join(e.key)}): "
                  + ", ".join(c.name for c in e.columns))


@quarantine_app.command("list")
def quarantine_list(
    entity: Annotated[str | None, typer.Option(help="Only this entity.")] = None,
    import_id: Annotated[str | None, typer.Option("--import", help="Only this import.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many rows (0: all).")] = 50,
    as_json: JsonOpt = False,
) -> None:
    """Quarantined rows: file, line, column, value and the reason."""
    def body() -> list[dict[str, Any]]:
        with open_store() as store:
            return facade.quarantine_rows(store, entity=entity, import_id=import_id,
                                          limit=limit or None)
    rows = run(body)
    if as_json:
        emit_json(rows)
        return
    if not rows:
        out.print("The quarantine is empty.")
        return
    table = Table()
    for col in ("entity", "file", "line", "column", "value", "reason"):
        table.add_column(col, overflow="fold")
    for r in rows:
        value = r["value"] if r["value"] is None or len(r["value"]) < 40 else r["value"][:37] + "…"
        table.add_row(r["entity"], Path(r["source_file"]).name, str(r["line"]),
                      r["column_name"] or "", value or "", r["reason"])
    out.print(table)


@quarantine_app.command("export")
def quarantine_export(
    path: Annotated[Path, typer.Argument(help="Output file: .csv or .parquet.")],
    entity: Annotated[str | None, typer.Option(help="Only this entity.")] = None,
    import_id: Annotated[str | None, typer.Option("--import", help="Only this import.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Write the quarantine to CSV or Parquet for fixing and re-importing."""
    def body() -> int:
        with open_store() as store:
            return facade.quarantine_export(store, path, entity=entity, import_id=import_id)
    n = run(body)
    if as_json:
        emit_json({"path": str(path), "rows": n})
    else:
        out.print(f"Wrote {n:,} quarantined rows to {path}")


# Each capability's commands live in their own module (listed after the store's commands).
for _module in (cli_generate, cli_funnel, cli_attribution, cli_scoring):
    _module.register(app)


def main() -> None:
    """Console-script entry point."""
    load_settings()  # fail early and clearly on a bad revloop.toml / REVLOOP_* value
    app()


if __name__ == "__main__":
    main()
