"""The build's steps: a valid, deterministic plan from declared inputs, and the same tables."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path
from typing import Any

import ibis
import pandas as pd
import pytest

import revloop.model
from revloop.ingest.adapters import get_adapter
from revloop.ingest.pipeline import run_import
from revloop.model import tables
from revloop.model.build import COUNT_ORDER, build
from revloop.model.steps import SOURCES, BuildOptions, Inputs, PlanError, Step, plan, registry
from revloop.schema import ENTITIES
from revloop.store import Store
from revloop.store.base import STAGED_PREFIX
from tests.model.test_build import OPTIONS
from tests.model.world import write_world

MODEL_DIR = Path(revloop.model.__file__).parent


def _step(name: str, *inputs: str) -> Step:
    def build(inputs: Inputs, options: BuildOptions) -> ibis.Table:  # pragma: no cover
        raise AssertionError("never run")

    return Step(name=name, inputs=inputs, build=build, doc=name)


# -- the plan ------------------------------------------------------------------------------


def test_plan_is_a_topological_order_of_the_declared_inputs() -> None:
    done: set[str] = set()
    for step in plan():
        missing = [t for t in step.inputs if t not in SOURCES and t not in done]
        assert not missing, f"{step.name} runs before {missing}"
        done.add(step.name)


def test_every_table_is_written_by_exactly_one_step() -> None:
    names = [step.name for step in registry()]
    assert len(names) == len(set(names))
    assert sorted(step.name for step in plan()) == sorted(names)
    expected = {
        *(tables.staging(e.name) for e in ENTITIES),
        tables.INT_CONTACT_CONVERSIONS, tables.INT_CONTACT_MERGES, tables.INT_CONTACT_ACCOUNTS,
        tables.INT_ANONYMOUS_IDENTITIES, *tables.MARTS,
    }
    assert set(names) == expected
    assert not set(names) & SOURCES


def test_the_plan_is_deterministic_and_follows_the_listed_order_on_ties() -> None:
    assert plan() == plan()
    steps = [_step("c", "a"), _step("b", "raw_x"), _step("a", "raw_x"), _step("d", "b", "c")]
    assert [s.name for s in plan(steps, sources={"raw_x"})] == ["b", "a", "c", "d"]
    steps = [_step("a", "raw_x"), _step("c", "a"), _step("b", "raw_x"), _step("d", "b", "c")]
    assert [s.name for s in plan(steps, sources={"raw_x"})] == ["a", "c", "b", "d"]


def test_identity_resolution_runs_in_the_order_of_its_rules() -> None:
    order = [step.name for step in plan()]
    assert order.index(tables.INT_CONTACT_CONVERSIONS) < order.index(tables.INT_CONTACT_MERGES)
    assert order.index(tables.INT_CONTACT_MERGES) < order.index(tables.CONTACTS)
    assert order.index(tables.CONTACTS) < order.index(tables.INT_CONTACT_ACCOUNTS)
    assert order[-1] == tables.DATA_ISSUES


def test_a_cycle_is_a_clear_error() -> None:
    steps = [_step("a", "raw_x", "c"), _step("b", "a"), _step("c", "b")]
    with pytest.raises(PlanError, match=r"cycle .*: (a → b → c → a|b → c → a → b|c → a → b → c)"):
        plan(steps, sources={"raw_x"})
    with pytest.raises(PlanError, match="cycle"):
        plan([_step("a", "a")], sources=())


def test_an_input_nobody_writes_is_a_clear_error() -> None:
    with pytest.raises(PlanError, match=r"step 'b' reads 'nowhere', which no step writes"):
        plan([_step("a", "raw_x"), _step("b", "a", "nowhere")], sources={"raw_x"})


def test_a_table_written_twice_or_a_written_source_is_a_clear_error() -> None:
    with pytest.raises(PlanError, match=r"table 'a' is written by two steps"):
        plan([_step("a", "raw_x"), _step("a", "raw_x")], sources={"raw_x"})
    with pytest.raises(PlanError, match=r"step 'raw_x' writes a raw table"):
        plan([_step("raw_x")], sources={"raw_x"})


# -- steps read only their declared inputs -------------------------------------------------


def test_step_functions_take_their_inputs_and_the_options_only() -> None:
    for step in registry():
        params = list(inspect.signature(step.build).parameters)
        assert params == ["inputs", "options"], (step.name, params)
        assert step.doc and "\n" not in step.doc, step.name
        assert isinstance(step.inputs, tuple), step.name


def test_no_step_module_can_reach_the_store() -> None:
    for path in sorted(MODEL_DIR.rglob("*.py")):
        if path.name in ("build.py", "history.py", "incremental.py"):
            continue  # the runner, its log and its plan: the places that read the store
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                # the engine-neutral expression helpers build expressions; they open nothing
                module = node.module or ""
                assert module == "revloop.store.queries" or not module.startswith(
                    "revloop.store"), path
            elif isinstance(node, ast.Name | ast.arg):
                name = node.id if isinstance(node, ast.Name) else node.arg
                assert name != "store", f"{path.name}:{node.lineno} names a store"
            elif isinstance(node, ast.Attribute):
                assert node.attr != "table", f"{path.name}:{node.lineno} calls .table"


# -- the build on the DuckDB world ---------------------------------------------------------


def _recording(store: Store, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record the tables the build materialises (it stages each as ``_next_<name>``)."""
    written: list[str] = []
    replace = store.replace_table

    def recorded(name: str, expr: Any) -> None:
        written.append(name.removeprefix(STAGED_PREFIX))
        replace(name, expr)

    monkeypatch.setattr(store, "replace_table", recorded)
    return written


def _frame(store: Store, name: str, columns: list[str]) -> list[tuple[Any, ...]]:
    df = store.table(name).to_pandas()[columns]
    df = df.astype(object).where(df.notna(), None)
    return sorted(df.itertuples(index=False, name=None), key=lambda r: tuple(map(str, r)))


@pytest.fixture
def built(duck: Store, tmp_path: Path,
          monkeypatch: pytest.MonkeyPatch) -> tuple[Store, dict[str, int], list[str], list[str]]:
    assert run_import(duck, get_adapter("canonical"), write_world(tmp_path / "world")).reconciles
    written = _recording(duck, monkeypatch)
    reported: list[str] = []
    counts = build(duck, OPTIONS, reported.append)
    return duck, counts, reported, written


def test_one_materialisation_per_step_in_plan_order(built: Any) -> None:
    _, _, reported, written = built
    order = [step.name for step in plan()]
    assert reported == order
    assert written == order
    assert len(written) == 38  # 36 as before the build was split into steps, + currency_rates


def test_mart_counts_as_before(built: Any) -> None:
    _, counts, _, _ = built
    # the keys and their order are what the build has always returned (the CLI prints them),
    # currency_rates added in schema version 3
    assert list(counts.items()) == [
        ("accounts", 3), ("contacts", 4), ("touchpoints", 6), ("stage_transitions", 5),
        ("opportunity_contacts", 2), ("campaign_members", 0), ("opportunities", 2),
        ("currency_rates", 0), ("campaigns", 0), ("campaign_spend", 0), ("content", 0),
        ("users", 1), ("teams", 0), ("quotas", 0), ("intent_signals", 0),
        ("technographics", 0), ("opportunity_enhanced", 2), ("data_issues", 2),
    ]
    assert tuple(counts) == COUNT_ORDER
    assert sorted(COUNT_ORDER) == sorted(tables.MARTS)


def test_identity_tables_as_before(built: Any) -> None:
    store = built[0]
    ts = pd.Timestamp
    assert _frame(store, tables.INT_CONTACT_CONVERSIONS,
                  ["contact_id", "email", "record_type", "step1_id", "converted"]) == [
        ("c-1", "ann@acme.com", "contact", "c-1", False),
        ("c-2", "bob@globex.io", "contact", "c-2", False),
        ("c-3", "carl@gmail.com", "contact", "c-3", False),
        ("c-4", "ann@acme.com", "contact", "c-4", False),
        ("l-1", "ann.lead@acme.com", "lead", "c-1", True),
        ("l-2", "dora@unknown.org", "lead", "l-2", False),
        ("l-3", "bob@globex.io", "lead", "l-3", False),
    ]
    assert store.table(tables.INT_CONTACT_MERGES).columns == (
        "contact_id", "canonical_contact_id", "reason")
    assert _frame(store, tables.INT_CONTACT_MERGES,
                  ["contact_id", "canonical_contact_id", "reason"]) == [
        ("c-1", "c-1", "self"), ("c-2", "c-2", "self"), ("c-3", "c-3", "self"),
        ("c-4", "c-1", "same_email"), ("l-1", "c-1", "converted_lead"),
        ("l-2", "l-2", "self"), ("l-3", "c-2", "same_email"),
    ]
    assert _frame(store, tables.INT_CONTACT_ACCOUNTS,
                  ["contact_id", "email_domain", "account_id"]) == [("c-2", "globex.io", "acc-2")]
    assert _frame(store, tables.INT_ANONYMOUS_IDENTITIES,
                  ["anonymous_id", "identified_at", "contact_id"]) == [
        ("anon-9", ts("2024-01-03 10:00:00"), "c-1")]


def test_contacts_mart_as_before(built: Any) -> None:
    store = built[0]
    columns = store.table(tables.CONTACTS).columns
    entity_columns = next(e for e in ENTITIES if e.name == tables.CONTACTS).column_names
    assert columns == (*entity_columns, "email_domain", "merged_records", "account_match")
    assert _frame(store, tables.CONTACTS, [
        "contact_id", "record_type", "account_id", "email", "first_name", "email_domain",
        "merged_records", "account_match"]) == [
        ("c-1", "contact", "acc-1", "ann@acme.com", "Ann", "acme.com", 2, "source"),
        ("c-2", "contact", "acc-2", "bob@globex.io", "Bob", "globex.io", 1, "email_domain"),
        ("c-3", "contact", None, "carl@gmail.com", "Carl", "gmail.com", 0, None),
        ("l-2", "lead", None, "dora@unknown.org", "Dora", "unknown.org", 0, None),
    ]


def test_an_account_comes_from_a_merged_record_before_the_email_domain(
        duck: Store, tmp_path: Path) -> None:
    paths = write_world(tmp_path / "world")
    contacts = next(p for p in paths if p.name == "contacts.csv")
    with contacts.open("a", encoding="utf-8") as f:
        # Eve's lead had Initech's account; her contact, on Globex's domain, has none
        f.write("l-4,lead,acc-3,eve@globex.io,Eve,2024-01-01T09:00:00,c-5\n"
                "c-5,contact,,eve@globex.io,Eve,2024-02-01T09:00:00,\n")
    assert run_import(duck, get_adapter("canonical"), paths).reconciles
    build(duck, OPTIONS)
    rows = _frame(duck, tables.CONTACTS, ["contact_id", "account_id", "account_match",
                                          "merged_records"])
    assert ("c-5", "acc-3", "merged_record", 1) in rows
    assert ("c-2", "acc-2", "email_domain", 1) in rows
    assert _frame(duck, tables.INT_CONTACT_ACCOUNTS, ["contact_id"]) == [("c-2",)]
