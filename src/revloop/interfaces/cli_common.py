"""What every command module of the CLI shares: consoles, the store, errors, JSON, progress.

Command modules (``cli_*.py``) each expose ``register(app)`` and use only these helpers and
the facade, so a capability's commands live beside nothing else's.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from revloop import facade
from revloop.errors import RevloopError
from revloop.store import Store

# Piped output (CI logs, `| less`) gets room for the tables instead of rich's 80 columns.
out = Console() if sys.stdout.isatty() else Console(width=120)
err = Console(stderr=True)
state: dict[str, Any] = {"db": None, "debug": False}

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document instead of text.")]
T = TypeVar("T")


def run(fn: Callable[[], T]) -> T:
    """Run a command body; turn errors into one clear line and a non-zero exit."""
    try:
        return fn()
    except (typer.Exit, typer.Abort):
        raise
    except RevloopError as exc:
        if state["debug"]:
            raise
        err.print(f"[bold red]error:[/] {exc.message}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        err.print("[bold red]interrupted[/]: nothing was written by the unfinished step")
        raise typer.Exit(130) from None
    except Exception as exc:
        if state["debug"]:
            raise
        err.print(f"[bold red]error:[/] {type(exc).__name__}: {exc} (run with --debug for the "
                  "traceback)", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None


@contextmanager
def open_store(db: str | None = None) -> Iterator[Store]:
    """The store named by ``db``, else by ``--db`` / ``REVLOOP_DB`` / ``revloop.toml``."""
    store = facade.open_store(db or state["db"])
    try:
        yield store
    finally:
        store.close()


def emit_json(doc: Any) -> None:
    """Print one JSON document on stdout."""
    sys.stdout.write(json.dumps(doc, indent=2, default=str) + "\n")


@contextmanager
def progress_bar(quiet: bool) -> Iterator[Progress]:
    """A transient progress display on stderr (off with ``--json`` or when not a terminal)."""
    progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                        TimeElapsedColumn(), console=err, transient=True,
                        disable=quiet or not err.is_terminal)
    with progress:
        yield progress


def show_path(path: Path | str) -> str:
    """A path as the user would like to read it (relative to the working directory if under)."""
    p = Path(path)
    try:
        return str(p.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(p)


def print_reconciliation(result: facade.ImportResult) -> None:
    """The reconciliation table of an import, its notices and its verdict."""
    table = Table(title=f"Import {result.import_id} ({result.source})", title_justify="left")
    for col in ("entity", "read", "stored", "new", "updated", "duplicates", "quarantined",
                "flagged orphans"):
        table.add_column(col, justify="left" if col == "entity" else "right")
    for name, c in result.entities.items():
        orphans = ", ".join(f"{k}: {v:,}" for k, v in c.orphans.items())
        table.add_row(name, f"{c.read:,}", f"{c.stored:,}", f"{c.inserted:,}", f"{c.updated:,}",
                      f"{c.duplicates:,}", f"{c.quarantined:,}", orphans)
    out.print(table)
    for f in result.files:
        for notice in f.notices:
            out.print(f"[yellow]note[/] {f.path}: {notice}")
    verdict = "reconciles" if result.reconciles else "[bold red]DOES NOT reconcile[/]"
    out.print(f"read {result.total('read'):,} = stored {result.total('stored'):,} + duplicates "
              f"{result.total('duplicates'):,} + quarantined {result.total('quarantined'):,}: "
              f"{verdict}")
    if result.total("quarantined"):
        out.print("See why: [bold]revloop quarantine list[/]")
