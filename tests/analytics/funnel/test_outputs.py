"""Exports, charts and the HTML report of a funnel result."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from revloop.facade import funnel
from revloop.store import Store
from tests.analytics.funnel.test_report import built


@pytest.fixture
def result(duck: Store, tmp_path: Path) -> funnel.FunnelResult:
    store = built(duck, tmp_path)
    return funnel.run(store, funnel.build_request(level="lead", by=("channel", "owner")))


def test_json_round_trip(result: funnel.FunnelResult) -> None:
    doc = json.loads(json.dumps(result.to_json()))
    assert doc["as_of"] == "2024-04-01T00:00:00"
    assert [r["stage"] for r in doc["funnel"]] == result.stages
    assert doc["funnel"][0]["entered"] == 10
    assert doc["cohorts"][0]["cohort"] == "2024-01-01"
    assert {r["value"] for r in doc["cuts"]["owner"]} == {"u1", "u2"}


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_export_writes_every_section(result: funnel.FunnelResult, tmp_path: Path,
                                     fmt: str) -> None:
    paths = funnel.export(result, tmp_path / "out", fmt)
    names = {p.name for p in paths}
    for section in ("funnel", "velocity", "time_in_stage", "stalled", "cohorts", "cuts",
                    "leakage", "status", "post_sale", "unmapped"):
        assert f"{section}.{fmt}" in names
    read = pq.read_table if fmt == "parquet" else pacsv.read_csv
    table = read(tmp_path / "out" / f"funnel.{fmt}")
    assert table.column("stage").to_pylist() == result.stages
    assert table.column("entered").to_pylist() == [r.entered for r in result.funnel]
    cohorts = read(tmp_path / "out" / f"cohorts.{fmt}").to_pylist()
    assert cohorts[0]["reached_won"] == result.cohorts[0].reached["won"]
    stalled = read(tmp_path / "out" / f"stalled.{fmt}")
    assert stalled.num_rows == len(result.stalled) == result.stalled_total == 4
    assert json.loads((tmp_path / "out" / "report.json").read_text())["level"] == "lead"


def test_export_refuses_unknown_format(result: funnel.FunnelResult, tmp_path: Path) -> None:
    with pytest.raises(funnel.FunnelRequestError, match="use parquet or csv"):
        funnel.export(result, tmp_path, "xlsx")


def test_charts_png_and_svg(result: funnel.FunnelResult, tmp_path: Path) -> None:
    paths = funnel.charts(result, tmp_path / "charts")
    stems = {p.stem for p in paths}
    assert stems == {"funnel", "velocity", "cohorts", "cut_channel", "cut_owner"}
    for p in paths:
        data = p.read_bytes()
        if p.suffix == ".png":
            assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000
        else:
            root = ET.fromstring(data)
            assert root.tag.endswith("svg")
    with pytest.raises(funnel.FunnelRequestError, match="use png or svg"):
        funnel.charts(result, tmp_path, ["gif"])


def test_html_report_is_self_contained(result: funnel.FunnelResult, tmp_path: Path) -> None:
    path = funnel.write_html(result, tmp_path / "report.html")
    html = path.read_text()
    assert html.startswith("<!DOCTYPE html>")
    assert html.count("<svg") >= 5  # funnel, velocity, cohorts and two cuts, inline
    # nothing is fetched: every link is an embedded data: URI (the heat map's image)
    urls = re.findall(r"(?:src|href)\s*=\s*[\"']([^\"'#][^\"']*)", html)
    assert urls and all(u.startswith("data:image/png;base64,") for u in urls)
    assert not re.search(r"<script|<link|@import|url\(http", html)
    for text in ("Leakage", "Revenue-cycle status", "weird_status", "Sam Sdr", "By channel"):
        assert text in html


def test_empty_range_still_renders(duck: Store, tmp_path: Path) -> None:
    store = built(duck, tmp_path)
    import datetime as dt

    res = funnel.run(store, funnel.build_request(start=dt.datetime(2030, 1, 1)))
    assert all(r.entered == 0 for r in res.funnel) and res.cohorts == []
    assert len(funnel.charts(res, tmp_path / "c", ["png"])) == 3
    assert "<svg" in funnel.write_html(res, tmp_path / "e.html").read_text()
