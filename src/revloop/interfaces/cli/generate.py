"""CLI commands of the synthetic company generator."""

from __future__ import annotations

import datetime as dt
import time
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from revloop.interfaces.cli.common import (
    JsonOpt,
    emit_json,
    out,
    print_reconciliation,
    progress_bar,
    run,
    show_path,
    state,
)
from revloop.interfaces.cli.lazy import lazy_module

if TYPE_CHECKING:
    from revloop.facade import generate as gen
else:
    gen = lazy_module("revloop.facade.generate")


class Format(StrEnum):
    parquet = "parquet"
    csv = "csv"


def register(app: typer.Typer) -> None:
    """Add ``revloop generate`` to ``app``."""
    app.command("generate")(generate)


def generate(
    scale: Annotated[float, typer.Option(
        "--scale", "-s", help="Size: 1 ≈ 30k accounts, 300k contacts, 10M touchpoints, 20k "
        "opportunities over two years; 0.01 for a quick look, 10 for benchmarks.")] = 0.01,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same bytes.")
                    ] = 1,
    out_dir: Annotated[Path | None, typer.Option(
        "--out", "-o", help="Write canonical files here (a new or empty folder).")] = None,
    db: Annotated[str | None, typer.Option(
        "--db", help="Also import the company into this store (through the canonical "
        "importer), build the model and store the truth tables.")] = None,
    fmt: Annotated[Format, typer.Option("--format", help="File format.")] = Format.parquet,
    start: Annotated[str | None, typer.Option(
        help="First day of the two-year history (YYYY-MM-DD; default 2024-07-01).")] = None,
    workers: Annotated[int | None, typer.Option(
        help="Processes that simulate blocks of accounts (default: up to 2).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Generate a synthetic B2B company whose causal structure is known (ground truth in
    truth_* tables): files in the canonical import format and/or straight into a store."""
    target_db = db or (state["db"] if out_dir is None else None)

    def body() -> gen.CompanyOutcome:
        first_day = _parse_day(start) if start else None
        with progress_bar(as_json) as progress:
            task = progress.add_task("generating", total=None)
            imports: dict[str, Any] = {}
            started = time.perf_counter()

            def on_block(step: str, done: int, total: int) -> None:
                progress.update(task, description=f"generate: {step}", completed=done,
                                total=total)

            def on_import(file: str, rows: int) -> None:
                if file not in imports:
                    imports[file] = progress.add_task(Path(file).name, total=None)
                rate = rows / max(time.perf_counter() - started, 1e-9)
                progress.update(imports[file], completed=rows,
                                description=f"import {Path(file).name}: {rows:,} rows "
                                f"({rate:,.0f}/s)")

            def on_build(name: str) -> None:
                progress.update(task, description=f"build: {name}")

            return gen.generate_company(
                scale, seed, out=out_dir, db=target_db, fmt=fmt.value, workers=workers,
                start=first_day, progress=on_block, import_progress=on_import,
                build_step=on_build)

    outcome = run(body, as_json)
    if as_json:
        emit_json(outcome.to_dict())
        return
    _print(outcome)


def _parse_day(text: str) -> dt.date:
    from revloop.facade import ConfigError

    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"--start {text!r} is not a date; use YYYY-MM-DD") from None


def _print(outcome: gen.CompanyOutcome) -> None:
    g = outcome.generated
    p = outcome.profile
    where = " and ".join(w for w in (outcome.out and show_path(outcome.out), outcome.db) if w)
    out.print(f"Generated company (scale {g.config['scale']}, seed {g.config['seed']}) in "
              f"{g.seconds:.1f} s → [bold]{where}[/]")
    files = Table(title="Rows written", title_justify="left")
    files.add_column("entity")
    files.add_column("rows", justify="right")
    for name, n in sorted(g.rows.items()):
        files.add_row(name, f"{n:,}")
    out.print(files)
    out.print(
        f"MQL → SQL {p.mql_to_sql:.1%} · win rate {p.win_rate:.1%} · median sales cycle "
        f"{p.median_cycle_days:.0f} days · top 10 % of deals = {p.deal_top_decile_share:.0%} "
        f"of new-business amount · won revenue {p.won_revenue:,.0f}")
    truth = Table(title="Ground truth: what each channel caused (removing it from the world)",
                  title_justify="left")
    for col in ("channel", "touches", "in-market touches", "incremental opps",
                "incremental pipeline", "incremental revenue", "spend"):
        truth.add_column(col, justify="left" if col == "channel" else "right")
    for row in sorted(p.channel_effects, key=lambda r: -r["incremental_opportunities"]):
        truth.add_row(row["channel"], f"{row['touches']:,}", f"{row['in_market_touches']:,}",
                      f"{row['incremental_opportunities']:,}",
                      f"{row['incremental_pipeline']:,.0f}",
                      f"{row['incremental_revenue']:,.0f}", f"{row['spend']:,.0f}")
    out.print(truth)
    if outcome.imported is not None:
        print_reconciliation(outcome.imported)
        out.print(f"Model built ({len(outcome.marts)} marts); truth tables stored: "
                  + ", ".join(f"{k} ({v:,})" for k, v in outcome.truth_tables.items()))
