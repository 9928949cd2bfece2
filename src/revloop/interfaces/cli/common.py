"""What every command module of the CLI shares: consoles, the store, errors, JSON, progress.

Command modules each expose ``register(app)`` and use only these helpers and the facade, so a
capability's commands live beside nothing else's. Errors print as one line,
``error[<code>]: <message>``, with the stable code of the error; with ``--json`` the same code
and message also go to stdout as ``{"error": {"code": …, "message": …}}``.
"""

from __future__ import annotations

import errno
import json
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from revloop import facade
from revloop.facade import RevloopError

if TYPE_CHECKING:
    from revloop.facade import Store

# Piped output (CI logs, `| less`) gets room for the tables instead of rich's 80 columns.
out = Console() if sys.stdout.isatty() else Console(width=120)
err = Console(stderr=True)
state: dict[str, Any] = {"db": None, "debug": False, "signal": None}

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document instead of text.")]
RawOpt = Annotated[bool, typer.Option(
    "--raw", help="Write CSV text exactly as stored: cells starting with = + - @ are otherwise "
    "prefixed with ' so that spreadsheets do not run them as formulas.")]
T = TypeVar("T")


def run(fn: Callable[[], T], as_json: bool = False) -> T:
    """Run a command body; turn errors into one clear line (and, with ``--json``, an error
    document on stdout) and a non-zero exit: 2 for revloop's own errors, 1 for the
    unexpected, 130 for an interrupt."""
    try:
        return fn()
    except (typer.Exit, typer.Abort):
        raise
    except RevloopError as exc:
        if state["debug"]:
            raise
        fail(exc.code, exc.message, as_json, 2)
    except KeyboardInterrupt:
        _stopped(as_json)
    except Exception as exc:
        if _is_interrupt(exc):  # an engine turned Ctrl-C into an error of its own
            _stopped(as_json)
        if state["debug"]:
            raise
        if _code_of(exc) == "disk_full":  # the engine's own files hit a full disk
            fail("disk_full", f"the disk is full or a file-size limit was reached "
                 f"({type(exc).__name__}: {exc}); the store keeps its last complete state. "
                 "Free space and run the command again", as_json, 2)
        fail(_code_of(exc), f"{type(exc).__name__}: {exc} (run with --debug for the "
             "traceback)", as_json, 1)


def _stopped(as_json: bool) -> NoReturn:
    signum = state.get("signal") or signal.SIGINT
    name = "terminated" if signum == signal.SIGTERM else "interrupted"
    fail(name, "stopped; nothing of the unfinished step was written", as_json,
         128 + int(signum))


def _is_interrupt(exc: BaseException) -> bool:
    return type(exc).__name__ == "InterruptException" or "interrupted" in str(exc).lower()


def _code_of(exc: BaseException) -> str:
    """A stable code for an error no revloop code anticipated (disk full is common enough to
    name)."""
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT):
        return "disk_full"
    text = str(exc)  # engines (DuckDB's checkpoint, PostgreSQL) report it in words
    if any(s in text for s in ("No space left", "File too large", "Disk quota exceeded")):
        return "disk_full"
    return "internal_error"


def install_signal_handlers() -> None:
    """SIGTERM stops a command the way Ctrl-C does: the open transaction rolls back, temporary
    files are removed, and the exit code says which signal it was."""

    def stop(signum: int, _frame: object) -> None:
        state["signal"] = signum
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)


def fail(code: str, message: str, as_json: bool = False, exit_code: int = 2) -> NoReturn:
    """Report an error the way every command does, and exit."""
    if as_json:
        emit_json({"error": {"code": code, "message": message}})
    err.print(f"[bold red]{escape(f'error[{code}]')}:[/] {escape(message)}", highlight=False,
              soft_wrap=True)
    raise typer.Exit(exit_code)


@contextmanager
def open_store(db: str | None = None) -> Iterator[Store]:
    """The store named by ``db``, else by ``--db`` / ``REVLOOP_DB`` / ``revloop.toml``."""
    store = facade.open_store(db or state["db"], on_notice=notice)
    try:
        yield store
    finally:
        store.close()


def notice(message: str) -> None:
    """A note from the store while it works (a wait, a migration), on stderr."""
    err.print(f"[yellow]note[/] {escape(message)}", highlight=False, soft_wrap=True)


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


def report_files(files: list[Path], as_json: bool) -> None:
    """Say which files a command wrote (on stderr with ``--json``, whose stdout is the
    result document alone)."""
    console = err if as_json else out
    for f in files:
        console.print(f"wrote {show_path(f)}", highlight=False)


def show_path(path: Path | str) -> str:
    """A path as the user would like to read it (relative to the working directory if under)."""
    p = Path(path)
    try:
        return str(p.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(p)


def _print_files(result: facade.ImportResult) -> None:
    """Which files landed (when there were several, or some did not) and why others did
    not."""
    if len(result.files) + len(result.not_imported) < 2 and not result.not_imported:
        return
    for f in result.files:
        rows = f"{f.rows:,} row{'' if f.rows == 1 else 's'}"
        out.print(f"[green]imported[/] {escape(f.path)}: {rows} "
                  f"({', '.join(f.entities) or 'nothing to import'})", highlight=False)
    for bad in result.not_imported:
        out.print(f"[bold red]not imported[/] {escape(bad.path)}: "
                  f"{escape(f'error[{bad.code}]')} {escape(bad.message)}", highlight=False)


def print_reconciliation(result: facade.ImportResult) -> None:
    """The reconciliation table of an import, its notices, the files imported and not
    imported (with the reason), and its verdict."""
    if result.files:
        _print_table(result)
    for f in result.files:
        for notice in f.notices:
            out.print(f"[yellow]note[/] {escape(f.path)}: {escape(notice)}", highlight=False)
    _print_files(result)
    if not result.files:
        return
    verdict = "reconciles" if result.reconciles else "[bold red]DOES NOT reconcile[/]"
    out.print(f"read {result.total('read'):,} = stored {result.total('stored'):,} + duplicates "
              f"{result.total('duplicates'):,} + quarantined {result.total('quarantined'):,}: "
              f"{verdict}")
    if result.total("quarantined"):
        out.print("See why: [bold]revloop quarantine list[/]")


def _print_table(result: facade.ImportResult) -> None:
    table = Table(title=f"Import {result.import_id} ({result.source})", title_justify="left")
    for col in ("entity", "read", "stored", "new", "updated", "duplicates", "quarantined",
                "flagged orphans"):
        table.add_column(col, justify="left" if col == "entity" else "right")
    for name, c in result.entities.items():
        orphans = ", ".join(f"{k}: {v:,}" for k, v in c.orphans.items())
        table.add_row(name, f"{c.read:,}", f"{c.stored:,}", f"{c.inserted:,}", f"{c.updated:,}",
                      f"{c.duplicates:,}", f"{c.quarantined:,}", orphans)
    out.print(table)
