"""The opportunities mart converts every amount at the rate in force on its close date."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from revloop import facade
from revloop.model import tables
from revloop.settings import Settings
from revloop.store import connect
from tests.money_world import RATES, WON, write_money_world


def _hand_rate(currency: str, day: dt.date) -> float | None:
    """Independent of the mart: a plain scan of the rate list."""
    if currency == "USD":
        return 1.0
    dated = sorted((r for r in RATES if r[0] == currency and r[2] is not None),
                   key=lambda r: r[2])
    for i, (_, rate, start, end) in enumerate(dated):
        stop = end or (dated[i + 1][2] if i + 1 < len(dated) else dt.date.max)
        if start <= day < stop:
            return rate
    standing = [r[1] for r in RATES if r[0] == currency and r[2] is None]
    return standing[0] if standing else None


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("money")
    url = f"duckdb:///{folder / 'store.duckdb'}"
    with connect(url) as store:
        facade.import_files(store, "canonical", write_money_world(folder / "files"))
        facade.build_model(store)
    return url


def test_amounts_convert_at_the_dated_rate_of_the_close_date(built: str) -> None:
    with connect(built) as store:
        rows = store.table(tables.OPPORTUNITIES).to_pyarrow().to_pylist()
    assert {r["corporate_currency"] for r in rows} == {"USD"}
    for r in rows:
        rate = _hand_rate(r["currency"], r["close_date"])
        assert rate is not None, r["opportunity_id"]
        assert r["fx_rate"] == pytest.approx(rate), r["opportunity_id"]
        assert r["amount_corporate"] == pytest.approx(r["amount"] / rate), r["opportunity_id"]


def test_won_revenue_in_the_corporate_currency_by_hand(built: str) -> None:
    with connect(built) as store:
        rows = store.table(tables.OPPORTUNITIES).to_pyarrow().to_pylist()
    won = sum(r["amount_corporate"] for r in rows if r["is_won"])
    # by hand, from the fixture's table (see tests/money_world.py)
    assert won == pytest.approx(WON)


def test_transitions_convert_at_the_deal_rate(built: str) -> None:
    with connect(built) as store:
        t = store.table(tables.STAGE_TRANSITIONS).to_pyarrow().to_pylist()
        fx = {r["opportunity_id"]: r["fx_rate"] for r in
              store.table(tables.OPPORTUNITIES).to_pyarrow().to_pylist()}
    for r in t:
        if r["amount"] is not None:
            assert r["amount_corporate"] == pytest.approx(r["amount"] / fx[r["entity_id"]])


def test_no_corporate_currency_converts_nothing(tmp_path: Path) -> None:
    url = f"duckdb:///{tmp_path / 'store.duckdb'}"
    files = [f for f in write_money_world(tmp_path / "files") if "currency_rates" not in f.name]
    with connect(url) as store:
        facade.import_files(store, "canonical", files)
        facade.build_model(store)
        rows = store.table(tables.OPPORTUNITIES).to_pyarrow().to_pylist()
    assert {r["corporate_currency"] for r in rows} == {None}
    assert all(r["amount_corporate"] is None for r in rows)


def test_the_setting_names_the_corporate_currency(tmp_path: Path) -> None:
    url = f"duckdb:///{tmp_path / 'store.duckdb'}"
    files = [f for f in write_money_world(tmp_path / "files") if "currency_rates" not in f.name]
    with connect(url) as store:
        facade.import_files(store, "canonical", files)
        facade.build_model(store, settings=Settings(corporate_currency="usd"))
        rows = store.table(tables.OPPORTUNITIES).to_pyarrow().to_pylist()
    by_currency = {r["currency"]: r["amount_corporate"] for r in rows}
    assert {r["corporate_currency"] for r in rows} == {"USD"}
    assert by_currency["MXN"] is None and by_currency["USD"] is not None  # no MXN rate


def test_another_corporate_currency_converts_through_the_rates_base(tmp_path: Path) -> None:
    # the rates are quoted per USD; the setting asks for MXN: MXN / USD via each day's rates
    url = f"duckdb:///{tmp_path / 'store.duckdb'}"
    with connect(url) as store:
        facade.import_files(store, "canonical", write_money_world(tmp_path / "files"))
        facade.build_model(store, settings=Settings(corporate_currency="MXN"))
        rows = store.table(tables.OPPORTUNITIES).to_pyarrow().to_pylist()
    assert {r["corporate_currency"] for r in rows} == {"MXN"}
    for r in rows:
        own, mxn = _hand_rate(r["currency"], r["close_date"]), _hand_rate("MXN", r["close_date"])
        assert own is not None and mxn is not None
        expected = r["amount"] / own * mxn  # into USD, then into MXN on the same day
        assert r["amount_corporate"] == pytest.approx(expected), r["opportunity_id"]
    by_id = {r["opportunity_id"]: r["amount_corporate"] for r in rows}
    assert by_id["o2"] == pytest.approx(170_000.0)  # already MXN
    assert by_id["o1"] == pytest.approx(10_000 * 17.0)  # USD on 2024-02-10, 17 MXN per USD
    assert by_id["o8"] == pytest.approx(37_500 / 3.75 * 18.0)  # PEN → USD → MXN (2024-09-09)
