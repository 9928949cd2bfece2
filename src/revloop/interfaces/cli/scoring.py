"""CLI commands of lead and account scoring: ``revloop score rules | train | apply | evaluate |
explain``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from revloop.interfaces.cli.common import (
    JsonOpt,
    emit_json,
    open_store,
    out,
    report_files,
    run,
    show_path,
)
from revloop.interfaces.cli.lazy import lazy_module

if TYPE_CHECKING:
    from revloop.facade import scoring
else:
    scoring = lazy_module("revloop.facade.scoring")

score_app = typer.Typer(
    help="Lead and account scoring: rule-based lead scores from a rules file (`rules`), "
    "predictive models (`train`, `apply`, `evaluate`) and why a record scores what it does "
    "(`explain`). See docs/scoring.md.",
    no_args_is_help=True,
)

RulesOpt = Annotated[Path, typer.Option(
    "--rules", "-r", help="Rules file (see examples/scoring.yaml).")]
AsOfOpt = Annotated[str | None, typer.Option(
    "--as-of", help="Score as of this date/time (YYYY-MM-DD = the start of that day); only "
    "rows before it count. Default: the day after the latest activity in the store.")]


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.add_typer(score_app, name="score")


def _fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


# ----------------------------------------------------------------------------- rules

@score_app.command("rules")
def rules_cmd(
    rules: RulesOpt = Path("scoring.yaml"),
    as_of: AsOfOpt = None,
    check: Annotated[bool, typer.Option(
        "--check", help="Only validate the rules file; score nothing.")] = False,
    top: Annotated[int, typer.Option("--top", help="Show this many top contacts.")] = 10,
    no_store: Annotated[bool, typer.Option(
        "--no-store", help="Do not write lead_scores / lead_score_log / lead_score_groups.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Rule-based lead scores from a rules file: fit + decayed engagement, caps, groups, MQL
    threshold. Stores lead_scores, lead_score_log (every rule that fired, when) and
    lead_score_groups."""
    if check:
        summary = run(lambda: scoring.check_rules(scoring.CheckRulesRequest(rules=str(rules))),
                      as_json)
        if as_json:
            emit_json(summary.to_json())
            return
        out.print(f"[bold]{show_path(summary.path)}[/] is valid: {len(summary.rules)} rules in "
                  f"{len(summary.groups)} groups, MQL threshold "
                  f"{_fmt(summary.mql_threshold, 0)}")
        _print_rule_list(summary.rules)
        return

    def body() -> scoring.RulesResult:
        with open_store() as store:
            return scoring.run_rules(store, scoring.RulesRequest.model_validate(dict(
                rules=rules, as_of=as_of, persist=not no_store, top=top)))
    result = run(body, as_json)
    if as_json:
        emit_json(result.to_json())
    else:
        _print_rules(result)


def _print_rules(result: scoring.RulesResult) -> None:
    out.print(f"Rules [bold]{result.rules_name}[/] ({show_path(result.rules_file)}, "
              f"{result.rules_hash}) as of {result.as_of:%Y-%m-%d %H:%M}: "
              f"{result.contacts:,} contacts, [bold]{result.mqls:,}[/] MQLs at threshold "
              f"{_fmt(result.mql_threshold, 0)}, {result.events:,} rule firings")
    table = Table(title="Rules", title_justify="left")
    for col in ("rule", "kind", "group", "points", "fired", "contacts", "points now"):
        table.add_column(col, justify="left" if col in ("rule", "kind", "group") else "right")
    for r in result.by_rule:
        table.add_row(r.rule, r.kind, r.group, _fmt(r.points, 0), _fmt(r.fired),
                      _fmt(r.contacts), _fmt(r.effective_points))
    out.print(table)
    if result.top:
        top_table = Table(title=f"Top {len(result.top)} contacts", title_justify="left")
        for col in ("contact", "account", "score", "fit", "engagement", "MQL", "rules fired"):
            top_table.add_column(col, justify="left" if col in ("contact", "account") else
                                 "right")
        for c in result.top:
            top_table.add_row(c["contact_id"], c["account_id"] or "", _fmt(c["score"]),
                              _fmt(c["fit_score"]), _fmt(c["engagement_score"]),
                              _fmt(c["is_mql"]), _fmt(c["rules_fired"]))
        out.print(top_table)
    if result.stored:
        out.print(f"Stored: {', '.join(result.stored)}. Why a contact scores what it does: "
                  "[bold]revloop score explain ID[/]")


def _print_rule_list(rules: list[scoring.RuleInfo]) -> None:
    table = Table()
    for col in ("rule", "kind", "group", "points", "counts", "cap", "half-life", "when"):
        table.add_column(col, overflow="fold")
    for r in rules:
        table.add_row(
            r.name, r.kind, r.group, _fmt(r.points, 0), "once" if r.once else "every time",
            _fmt(r.cap, 0), "—" if r.half_life_days is None else f"{r.half_life_days:g} d",
            escape(f" {r.match.upper()} ".join(r.conditions) or "any touch"))
    out.print(table)


# ----------------------------------------------------------------------------- models

ModelsArg = Annotated[list[str] | None, typer.Argument(
    help="Models: contact, opportunity, account-fit, engagement, intent, in-market, accounts "
    "(the four account models) or all (default).")]
OptRulesOpt = Annotated[Path | None, typer.Option(
    "--rules", "-r", help="Rules file: its models:, stages: and fit_buckets: sections, and the "
    "MQL baseline (default: ./scoring.yaml when it exists).")]
ExcludeOpt = Annotated[list[str] | None, typer.Option(
    "--exclude", "-x", help="Leave this feature or custom attribute out (repeatable), e.g. "
    "--exclude Tags --exclude 'Lead Quality'.")]
TargetOpt = Annotated[list[str] | None, typer.Option(
    "--target", help="contact model outcome stage(s) (default: customer).")]
CutoffOpt = Annotated[str | None, typer.Option(
    "--cutoff", help="Learn only from what was known before this date (YYYY-MM-DD).")]
HorizonOpt = Annotated[int | None, typer.Option(
    "--horizon-days", help="In-market horizon in days (default 90).")]


def _pct(value: Any) -> str:
    return "—" if value is None else f"{100 * value:.1f}%"


def _num(value: Any, digits: int = 4) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


@score_app.command("train")
def train_cmd(
    models: ModelsArg = None,
    rules: OptRulesOpt = None,
    cutoff: CutoffOpt = None,
    exclude: ExcludeOpt = None,
    target: TargetOpt = None,
    horizon_days: HorizonOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Train predictive models and store a new version of each, with its model card."""
    def body() -> scoring.TrainResult:
        with open_store() as store:
            return scoring.train(store, scoring.TrainRequest.model_validate(dict(
                models=models or ["all"], rules=rules, cutoff=cutoff, exclude=exclude or (),
                target_stages=target or (), horizon_days=horizon_days)))
    result = run(body, as_json)
    if as_json:
        emit_json(result.to_json())
        return
    table = Table(title="Trained models", title_justify="left")
    for col in ("model", "rows", "positives", "features", "AUC (out of fold)", "PR-AUC",
                "top-decile lift", "top features"):
        table.add_column(col, justify="left" if col in ("model", "top features") else "right",
                         overflow="fold")
    for card in result.trained:
        m = card["metrics_out_of_fold"]
        top = ", ".join(f["label"] for f in card["features"][:3])
        table.add_row(card["model_id"], _fmt(card["rows"]), _fmt(card["positives"]),
                      _fmt(len(card["features"])), _num(m["auc"]), _num(m["pr_auc"]),
                      _num(m["lift_top_decile"], 2), escape(top))
    out.print(table)
    for name, why in result.skipped.items():
        out.print(f"[yellow]skipped[/] {name}: {escape(why)}")
    if result.trained:
        out.print("Score with [bold]revloop score apply[/]; cards: [bold]revloop score models "
                  "--json[/]")


@score_app.command("models")
def models_cmd(as_json: JsonOpt = False) -> None:
    """Stored model versions, newest first, with their data window and metrics."""
    def body() -> scoring.ModelsResult:
        with open_store() as store:
            return scoring.list_models(store)
    result = run(body, as_json)
    if as_json:
        emit_json(result.to_json())
        return
    if not result.models:
        out.print("No trained model in this store: run [bold]revloop score train[/].")
        return
    table = Table()
    for col in ("model", "created", "rows", "AUC (out of fold)", "window"):
        table.add_column(col, overflow="fold")
    for r in result.models:
        card = r.card
        window = card.get("data_window", {})
        shown = ", ".join(f"{k}: {v}" for k, v in window.items()
                          if k in ("cutoff", "closed_before", "horizon_days", "rows"))
        table.add_row(r.model_id, str(r.created_at), _fmt(card.get("rows")),
                      _num(card.get("metrics_out_of_fold", {}).get("auc")), escape(shown))
    out.print(table)


@score_app.command("apply")
def apply_cmd(
    models: ModelsArg = None,
    as_of: AsOfOpt = None,
    rules: OptRulesOpt = None,
    top: Annotated[int, typer.Option("--top", help="Show this many top records.")] = 10,
    no_store: Annotated[bool, typer.Option(
        "--no-store", help="Do not write contact_scores / opportunity_scores / "
        "account_scores.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Score contacts, open deals and accounts with the latest model versions: probability,
    0–100 score, bucket, top-3 reasons; buying stage and 6QA for accounts."""
    def body() -> scoring.ApplyResult:
        with open_store() as store:
            return scoring.apply(store, scoring.ApplyRequest.model_validate(dict(
                models=models or ["all"], as_of=as_of, rules=rules, persist=not no_store,
                top=top)))
    result = run(body, as_json)
    if as_json:
        emit_json(result.to_json())
        return
    out.print(f"Scored as of {result.as_of:%Y-%m-%d %H:%M}")
    for key, scored in (("contact_id", result.contact_fit),
                        ("opportunity_id", result.opportunity_win)):
        if scored is not None:
            _print_scored(key, scored)
    if result.accounts is not None:
        _print_accounts(result.accounts)
    for name, why in result.skipped.items():
        out.print(f"[yellow]skipped[/] {name}: {escape(why)}")
    if result.stored:
        out.print(f"Stored: {', '.join(result.stored)}")


def _print_scored(key: str, r: scoring.ScoredModel) -> None:
    buckets = ", ".join(f"{k}: {v:,}" for k, v in r.buckets.items())
    table = Table(title=f"{r.model}: {r.rows:,} scored ({buckets})", title_justify="left")
    for col in ("id", "score", "probability", "bucket", "top reasons"):
        table.add_column(col, overflow="fold")
    for rec in r.top:
        table.add_row(str(rec[key]), _fmt(rec["score"]), _pct(rec["probability"]),
                      rec["bucket"], escape("; ".join(x["text"] for x in rec["reasons"])))
    out.print(table)


def _print_accounts(acc: scoring.ScoredAccounts) -> None:
    stages = ", ".join(f"{k}: {v:,}" for k, v in (acc.buying_stages or {}).items())
    out.print(f"Accounts: {acc.rows:,} scored; 6QA: {_fmt(acc.six_qa)}; "
              f"stages: {stages or '—'}")
    table = Table(title="Top accounts", title_justify="left")
    cols = [c for c in scoring.ACCOUNT_MODELS if f"{c}_score" in (acc.top[0] if acc.top else {})]
    table.add_column("account")
    for c in cols:
        table.add_column(c.replace("_", " "), justify="right")
    for c in ("stage", "6QA", "why (in-market)"):
        table.add_column(c, overflow="fold")
    for rec in acc.top:
        why = rec.get("in_market_reasons") or []
        table.add_row(str(rec["account_id"]), *[_fmt(rec[f"{c}_score"]) for c in cols],
                      str(rec.get("buying_stage", "—")), _fmt(rec.get("is_6qa")),
                      escape("; ".join(x["text"] for x in why)))
    out.print(table)


@score_app.command("evaluate")
def evaluate_cmd(
    model: Annotated[str, typer.Argument(
        help="contact (k-fold CV), opportunity (out of time), or an account model: "
        "account-fit, engagement, intent, in-market, accounts (out-of-time backtest).")
    ] = "contact",
    rules: OptRulesOpt = None,
    folds: Annotated[int, typer.Option("--folds", help="Cross-validation folds.")] = 5,
    cutoff: CutoffOpt = None,
    exclude: ExcludeOpt = None,
    target: TargetOpt = None,
    horizon_days: HorizonOpt = None,
    snapshots: Annotated[int, typer.Option(
        "--snapshots", help="Account backtest: monthly evaluation snapshots.")] = 3,
    plots: Annotated[Path | None, typer.Option(
        "--plots", help="Write reliability and gains plots (PNG, SVG) to this folder.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Evaluate on data the model does not learn from: AUC, PR-AUC, top-decile lift, ECE,
    Brier; against the MQL-threshold baseline; 6QA vs MQL; truth when the store has it."""
    def body() -> tuple[scoring.EvaluateResult, list[Path]]:
        with open_store() as store:
            result = scoring.evaluate(store, scoring.EvaluateRequest.model_validate(dict(
                model=model, rules=rules, folds=folds, cutoff=cutoff, exclude=exclude or (),
                target_stages=target or (), horizon_days=horizon_days,
                eval_snapshots=snapshots)))
        return result, scoring.plot_evaluations(result, plots) if plots else []
    result, files = run(body, as_json)
    if as_json:
        emit_json(result.to_json())
    else:
        for ev in result.to_json()["evaluations"]:
            _print_evaluation(ev)
    report_files(files, as_json)


def _print_evaluation(ev: dict[str, Any]) -> None:
    m = ev["metrics"]
    out.print(f"[bold]{ev['model']}[/] — {ev['method']}")
    window = ", ".join(f"{k}: {v}" for k, v in ev["window"].items()
                       if not isinstance(v, list | dict))
    out.print(f"  {escape(window)}")
    table = Table(title_justify="left")
    for col in ("", "rows", "positives", "AUC", "PR-AUC", "lift top 10%", "ECE", "Brier"):
        table.add_column(col, justify="left" if not col else "right")
    table.add_row("model", _fmt(m["n"]), _fmt(m["positives"]), _num(m["auc"]),
                  _num(m["pr_auc"]), _num(m["lift_top_decile"], 2), _num(m["ece"]),
                  _num(m["brier"]))
    base = ev.get("baseline")
    if base:
        r = base["ranking"]
        table.add_row("baseline", _fmt(r["n"]), _fmt(r["positives"]), _num(r["auc"]),
                      _num(r["pr_auc"]), _num(r["lift_top_decile"], 2), "—", "—")
    out.print(table)
    if "auc_mean_of_folds" in m:
        out.print(f"  AUC mean of folds: {m['auc_mean_of_folds']:.4f}; ECE bins: 10 equal-width "
                  "probability bins")
    for note in ev.get("notes", []):
        out.print(f"  {escape(note)}")
    if base:
        out.print(f"  baseline: {escape(base['name'])}")
        flag = base.get("mql_flag")
        if flag:
            out.print(f"  MQL flag: {flag['flagged']:,} flagged, rate {_pct(flag['rate'])}, "
                      f"lift {_num(flag['lift'], 2)}, recall {_pct(flag['recall'])}")
    comp = ev.get("comparison") or {}
    if comp.get("6qa"):
        qa = comp["6qa"]
        out.print(f"  6QA: {qa['flagged']:,} flagged, rate {_pct(qa['rate'])}, lift "
                  f"{_num(qa['lift'], 2)}, recall {_pct(qa['recall'])}; 6QA rate / MQL rate = "
                  f"[bold]{_num(comp.get('6qa_vs_mql_rate_ratio'), 2)}[/]")
        rec = comp.get("recorded_mql")
        if rec:
            out.print(f"  MQLs recorded in the funnel (last 90 days): {rec['flagged']:,} flagged, "
                      f"rate {_pct(rec['rate'])}; 6QA rate / their rate = "
                      f"[bold]{_num(comp.get('6qa_vs_recorded_mql_rate_ratio'), 2)}[/]")
        stages = ", ".join(f"{k} {v['rows']:,} ({_pct(v['rate'])})"
                           for k, v in comp["stages"].items())
        out.print(f"  stages (rows, rate): {stages}")
    truth = ev.get("truth")
    if truth:
        shown = ", ".join(f"{k}: {_num(v, 3) if isinstance(v, float) else v}"
                          for k, v in truth.items() if k != "definition")
        out.print(f"  truth: {escape(shown)}")
    buckets = ", ".join(f"{b['bucket']} {b['rows']:,} ({_pct(b['rate'])})" for b in ev["buckets"])
    out.print(f"  buckets (rows, rate): {buckets}")
    out.print("")


@score_app.command("explain")
def explain_cmd(
    record_id: Annotated[str, typer.Argument(metavar="ID",
                                             help="A contact, account or opportunity id.")],
    as_of: AsOfOpt = None,
    rules: OptRulesOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Why a record scores what it does: every rule that fired (and when), each model's
    score, bucket and top reasons, the buying stage and 6QA of an account."""
    def body() -> scoring.Explanation:
        with open_store() as store:
            return scoring.explain(store, scoring.ExplainRequest.model_validate(dict(
                id=record_id, as_of=as_of, rules=rules)))
    ex = run(body, as_json)
    if as_json:
        emit_json(ex.to_json())
        return
    out.print(f"[bold]{ex.kind} {ex.id}[/] as of {ex.as_of:%Y-%m-%d %H:%M}")
    if ex.rule_score:
        _print_rule_score(ex.rule_score)
    if ex.account:
        out.print(", ".join(f"{k.replace('_', ' ')}: {_fmt(v)}" for k, v in ex.account.items()))
    for name, detail in ex.models.items():
        out.print(f"[bold]{name}[/] ({detail.model}): score {detail.score:.1f}, bucket "
                  f"{detail.bucket}, probability {_pct(detail.probability)}")
        for r in detail.reasons:
            out.print(f"   {escape(r['text'])}")
    if ex.related:
        _print_related(ex.related)
    for note in ex.notes:
        out.print(f"[yellow]note[/] {escape(note)}")


def _print_related(related: list[dict[str, Any]]) -> None:
    table = Table(title="Contacts at the account (rule score)", title_justify="left")
    for col in ("contact", "score", "fit", "engagement", "MQL"):
        table.add_column(col)
    for r in related:
        table.add_row(r["contact_id"], _fmt(r["score"]), _fmt(r["fit_score"]),
                      _fmt(r["engagement_score"]), _fmt(r["is_mql"]))
    out.print(table)


def _print_rule_score(rs: dict[str, Any]) -> None:
    out.print(f"Rule score [bold]{rs['score']:.1f}[/] (fit {rs['fit_score']:.1f}, "
              f"engagement {rs['engagement_score']:.1f}); MQL: {_fmt(rs['is_mql'])} at "
              f"{_fmt(rs['mql_threshold'], 0)}")
    table = Table(title="Rules that fired", title_justify="left")
    for col in ("when", "rule", "kind", "group", "touch", "points", "decay", "now"):
        table.add_column(col, justify="right" if col in ("points", "decay", "now") else "left")
    for e in rs["log"]:
        table.add_row(str(e["occurred_at"] or "—")[:16], e["rule"], e["kind"],
                      e["group_name"], e["touchpoint_id"] or "", _fmt(e["points"]),
                      _fmt(e["decay_factor"], 2), _fmt(e["effective_points"], 2))
    out.print(table)
