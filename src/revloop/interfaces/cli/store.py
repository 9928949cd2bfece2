"""CLI commands of the store: ``init``, ``import``, ``build``, ``status``, ``schema`` and
``quarantine list | export``."""

from __future__ import annotations

import sys
import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from revloop import facade
from revloop.interfaces.cli.common import (
    JsonOpt,
    RawOpt,
    emit_json,
    err,
    open_store,
    out,
    print_reconciliation,
    progress_bar,
    run,
)

quarantine_app = typer.Typer(help="Rows that could not be stored, with the reason.",
                             no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.command()(init)
    app.command("import")(import_)
    app.command("build")(build_)
    app.command()(status)
    app.command()(schema)
    app.add_typer(quarantine_app, name="quarantine")


class Source(StrEnum):
    canonical = "canonical"
    salesforce = "salesforce"
    hubspot = "hubspot"
    mapped = "mapped"


class Layout(StrEnum):
    fivetran = "fivetran"
    airbyte = "airbyte"


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
    run(body, as_json)


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
    encoding: Annotated[str | None, typer.Option(
        help="Text encoding of the files (default: detected per file).")] = None,
    layout: Annotated[Layout | None, typer.Option(
        "--layout", help="The files are an ELT tool's tables (salesforce/hubspot), "
        "not the CRM's own export (default: told from the file names and headers).")] = None,
    date_format: Annotated[str | None, typer.Option(
        "--date-format", help="strptime format of every date column, e.g. %m/%d/%Y "
        "(default: detected per file and column).")] = None,
    dayfirst: Annotated[bool | None, typer.Option(
        "--dayfirst/--monthfirst", help="How slashed dates such as 02/03/2024 are ordered "
        "(default: decided per file from the values; ambiguous files are refused).")] = None,
    all_or_nothing: Annotated[bool, typer.Option(
        "--all-or-nothing", help="Import every file or none: one file that cannot be "
        "imported stops them all (default: each file lands on its own).")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Import files and print the reconciliation (read = stored + duplicates + quarantined).

    Each file lands on its own (a file that cannot be imported is reported with its reason,
    the others are stored); re-importing a file stores nothing new. Exit code: 0 when every
    file landed; 4 when some files were not imported (listed); 3 when the import does not
    reconcile; 2 when the only file, or --all-or-nothing, could not be imported."""
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
                encoding=encoding, layout=layout.value if layout else None,
                date_format=date_format, dayfirst=dayfirst, all_or_nothing=all_or_nothing,
                progress=hook,
            )
    result = run(body, as_json)
    if as_json:
        emit_json(result.to_dict())
    else:
        print_reconciliation(result)
    if result.not_imported:
        err.print(f"[bold red]{escape('error[files_not_imported]')}:[/] "
                  f"{len(result.not_imported)} of "
                  f"{len(result.not_imported) + len(result.files)} files were not imported: "
                  + ", ".join(Path(f.path).name for f in result.not_imported), highlight=False,
                  soft_wrap=True)
    if not result.reconciles:  # never a success exit for an import that does not add up
        err.print(f"[bold red]{escape('error[import_does_not_reconcile]')}:[/] read ≠ stored + "
                  "duplicates + quarantined for "
                  + ", ".join(n for n, c in result.entities.items() if not c.reconciles),
                  highlight=False)
        raise typer.Exit(3)
    if result.not_imported:
        raise typer.Exit(4)


def build_(
    as_json: JsonOpt = False,
    full: Annotated[bool, typer.Option(
        "--full", help="Rebuild every table, not only those whose inputs an import changed "
        "since the last build.")] = False,
) -> None:
    """Rebuild the model: staging → identity resolution → marts (and data issues).

    Only the tables downstream of what imports changed since the last build are rebuilt;
    --full rebuilds all of them."""
    def body() -> dict[str, int]:
        with open_store() as store, progress_bar(as_json) as progress:
            task = progress.add_task("build", total=None)
            return facade.build_model(
                store, step=lambda name: progress.update(task, description=f"build: {name}",
                                                         advance=1), full=full)
    counts = run(body, as_json)
    if as_json:
        emit_json({"marts": counts})
        return
    table = Table(title="Marts", title_justify="left")
    table.add_column("mart")
    table.add_column("rows", justify="right")
    for name, n in counts.items():
        table.add_row(name, f"{n:,}")
    out.print(table)


def status(as_json: JsonOpt = False) -> None:
    """What the store holds: raw rows, marts, quarantine, latest imports."""
    def body() -> facade.StoreStatus:
        with open_store() as store:
            return facade.status(store)
    st = run(body, as_json)
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


def schema(as_json: JsonOpt = False,
           markdown: Annotated[bool, typer.Option(help="Print docs/schema.md.")] = False) -> None:
    """The canonical schema (entities, columns, types, keys)."""
    if markdown:
        sys.stdout.write(facade.schema_markdown())
        return
    if as_json:
        emit_json({e.name: {"key": list(e.key), "columns": {
            c.name: {"type": c.type.value, "required": c.required, "references": c.references}
            for c in e.columns}} for e in facade.ENTITIES})
        return
    for e in facade.ENTITIES:
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
    rows = run(body, as_json)
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
    raw: RawOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Write the quarantine to CSV or Parquet for fixing and re-importing."""
    def body() -> int:
        with open_store() as store:
            return facade.quarantine_export(store, path, entity=entity, import_id=import_id,
                                            raw=raw)
    n = run(body, as_json)
    if as_json:
        emit_json({"path": str(path), "rows": n})
    else:
        out.print(f"Wrote {n:,} quarantined rows to {path}")
