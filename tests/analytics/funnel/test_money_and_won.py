"""Amounts in the corporate currency, refused when they cannot be; one definition of won."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

import revloop.facade.funnel as funnel_facade
from revloop import facade
from revloop.analytics.money import CurrencyError, corporate_money
from revloop.store import connect
from tests.money_world import WON, write_money_world


def _store(tmp_path: Path, drop_rates: bool = False) -> str:
    url = f"duckdb:///{tmp_path / 'store.duckdb'}"
    files = write_money_world(tmp_path / "files")
    if drop_rates:
        files = [f for f in files if "currency_rates" not in f.name]
    with connect(url) as store:
        facade.import_files(store, "canonical", files)
        facade.build_model(store)
    return url


def test_won_amount_is_the_hand_computed_corporate_sum(tmp_path: Path) -> None:
    url = _store(tmp_path)
    with connect(url) as store:
        quarters = [funnel_facade.run(store, funnel_facade.build_request(
            level="opportunity", as_of=dt.datetime(*day), compare="quarter"))
            for day in ((2024, 1, 1), (2024, 4, 1), (2024, 7, 1), (2024, 10, 1))]
    r = quarters[-1]
    assert r.currency == "USD"
    assert "MXN: 4 deals" in r.money_note and "close date" in r.money_note
    won = [next(row for row in q.status.rows if row.name == "won") for q in quarters]
    # Q4 2023: o5 40,000 MXN at the standing 20 → 2,000; Q1 2024: o1 10,000 USD + o2 170,000
    # MXN at 17 → 20,000; Q2: o3 165,000 MXN at 16.5 + o6 7.8M COP at 3,900 → 12,000;
    # Q3: o8 37,500 PEN at 3.75 → 10,000
    assert [(w.count_now, w.amount_now) for w in won] == [
        (1, pytest.approx(2_000)), (2, pytest.approx(20_000)), (2, pytest.approx(12_000)),
        (1, pytest.approx(10_000))]
    assert sum(w.amount_now for w in won) == pytest.approx(WON)


def test_amounts_in_several_currencies_without_rates_are_refused(tmp_path: Path) -> None:
    url = _store(tmp_path, drop_rates=True)
    with connect(url) as store, pytest.raises(CurrencyError) as info:
        corporate_money(store)
    assert info.value.code == "mixed_currencies"
    for text in ("COP (2 deals)", "MXN (4 deals)", "PEN (1 deal)", "USD (1 deal)",
                 "corporate_currency", "currency_rates.csv"):
        assert text in info.value.message, text


def test_the_funnel_counts_without_adding_amounts_it_cannot_convert(tmp_path: Path) -> None:
    # the counts stand without rates; the amounts are left out (never a sum of MXN and USD)
    url = _store(tmp_path, drop_rates=True)
    with connect(url) as store:
        r = funnel_facade.run(store, funnel_facade.build_request(level="opportunity"))
    assert r.currency is None
    assert r.money_note.startswith("amounts left out (counts only)")
    assert "MXN (4 deals)" in r.money_note
    won = next(row for row in r.funnel if row.stage == "won")
    assert won.observed == 6  # o1, o2, o3, o5, o6, o8
    status = next(row for row in r.status.rows if row.name == "won")
    assert status.amount_now is None


def test_the_cli_says_which_currency_and_lists_reversals(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from revloop.interfaces.cli import app

    url = f"duckdb:///{tmp_path / 'store.duckdb'}"
    with connect(url) as store:
        facade.import_files(store, "canonical", _reversal_world(tmp_path / "files"))
        facade.build_model(store)
    res = CliRunner().invoke(app, ["--db", url, "funnel", "--level", "opportunity"])
    assert res.exit_code == 0, res.output
    assert "Won, then not won: 1 deals" in res.output and "r1" in res.output
    assert "amounts in USD" in res.output


def _reversal_world(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    opps = folder / "opportunities.csv"
    opps.write_text(
        "opportunity_id,amount,currency,stage,created_at,close_date,is_closed,is_won\n"
        "r1,100,USD,Closed Lost,2024-01-01 09:00:00,2024-02-01,true,false\n"  # won, then lost
        "r2,200,USD,Closed Won,2024-01-01 09:00:00,2024-02-10,true,true\n"  # no won in history
        "r3,300,USD,Closed Won,2024-01-01 09:00:00,2024-02-15,true,true\n", encoding="utf-8")
    history = folder / "stage_transitions.csv"
    history.write_text(
        "entity_type,entity_id,to_stage,occurred_at\n"
        "opportunity,r1,Qualification,2024-01-01 09:00:00\n"
        "opportunity,r1,Closed Won,2024-01-20 10:00:00\n"
        "opportunity,r1,Closed Lost,2024-01-25 10:00:00\n"
        "opportunity,r2,Qualification,2024-01-01 09:00:00\n"
        "opportunity,r3,Qualification,2024-01-01 09:00:00\n"
        "opportunity,r3,Closed Won,2024-02-15 12:00:00\n", encoding="utf-8")
    return [opps, history]


def test_the_current_state_decides_won(tmp_path: Path) -> None:
    url = f"duckdb:///{tmp_path / 'store.duckdb'}"
    with connect(url) as store:
        facade.import_files(store, "canonical", _reversal_world(tmp_path / "files"))
        facade.build_model(store)
        r = funnel_facade.run(store, funnel_facade.build_request(
            level="opportunity", as_of=dt.datetime(2024, 3, 1), compare="quarter"))
        is_won = store.table("opportunities").is_won.sum().execute()
    assert r.stage("won").entered == 2 == is_won  # r2 and r3, as the deals' is_won says
    assert [(v.opportunity_id, v.won_at, v.stage_now) for v in r.won_reversals] == [
        ("r1", dt.datetime(2024, 1, 20, 10), "Closed Lost")]
    lost = next(row for row in r.status.rows if row.name == "lost")
    assert lost.count_now == 1  # r1 counted once, as lost
