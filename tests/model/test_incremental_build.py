"""Incremental builds: only what an import changed is rebuilt, and the marts equal a full
build's; anything the record does not cover rebuilds everything."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from revloop import facade
from revloop.model import tables
from revloop.model.build import COUNT_ORDER
from revloop.settings import Settings
from revloop.store import Store, connect
from tests.model.world import write_world

SETTINGS = Settings()


def _build(store: Store, **kw: bool) -> tuple[list[str], list[str]]:
    ran: list[str] = []
    notices: list[str] = []
    store.on_notice = notices.append  # type: ignore[method-assign]
    facade.build_model(store, SETTINGS, step=ran.append, **kw)
    return ran, notices


def _marts(store: Store) -> dict[str, list[tuple[object, ...]]]:
    out = {}
    for name in COUNT_ORDER:
        t: pa.Table = store.to_arrow(name)
        out[name] = sorted(tuple(str(v) for v in row.values()) for row in t.to_pylist())
    return out


def _more_touches(folder: Path) -> Path:
    path = folder / "touchpoints_more.csv"
    path.write_text("touchpoint_id,occurred_at,account_id,contact_id,anonymous_id,touch_type,"
                    "channel\nt-7,2024-03-02T10:00:00,,c-2,,webinar,events\n", encoding="utf-8")
    return path


@pytest.fixture
def built(tmp_path: Path) -> tuple[Store, list[Path]]:
    store = connect(f"duckdb:///{tmp_path / 'inc.duckdb'}")
    files = write_world(tmp_path / "files")
    facade.import_files(store, "canonical", files, settings=SETTINGS)
    ran, notices = _build(store)
    assert len(ran) > 30 and notices == []  # the first build is a full one, silently
    return store, files


def test_nothing_changed_rebuilds_nothing(built: tuple[Store, list[Path]]) -> None:
    store, files = built
    before = _marts(store)
    facade.import_files(store, "canonical", files, settings=SETTINGS)  # duplicates only
    ran, notices = _build(store)
    assert ran == []
    assert notices == ["incremental build: 0 of 38 tables rebuilt (nothing changed since the "
                       "last build); `revloop build --full` rebuilds all"]
    assert _marts(store) == before
    store.close()


def test_only_what_an_import_changed_is_rebuilt(built: tuple[Store, list[Path]],
                                                tmp_path: Path) -> None:
    store, files = built
    extra = _more_touches(tmp_path)
    facade.import_files(store, "canonical", [extra], settings=SETTINGS)
    ran, notices = _build(store)
    assert {tables.staging(tables.TOUCHPOINTS), tables.TOUCHPOINTS,
            tables.INT_ANONYMOUS_IDENTITIES, tables.DATA_ISSUES} <= set(ran)
    untouched = {tables.staging(tables.OPPORTUNITIES), tables.OPPORTUNITIES, tables.ACCOUNTS,
                 tables.staging(tables.CONTACTS), tables.STAGE_TRANSITIONS}
    assert not untouched & set(ran), untouched & set(ran)
    assert "changed since the last build: touchpoints" in notices[0]
    # the same marts as a full build from the same files on a new store
    with connect(f"duckdb:///{tmp_path / 'full.duckdb'}") as fresh:
        facade.import_files(fresh, "canonical", [*files, extra], settings=SETTINGS)
        facade.build_model(fresh, SETTINGS)
        assert _marts(store) == _marts(fresh)
    assert store.count(tables.TOUCHPOINTS) == 7
    store.close()


def test_other_settings_or_full_rebuild_everything(built: tuple[Store, list[Path]]) -> None:
    store, _ = built
    ran, notices = _build(store, full=True)
    assert len(ran) == 38 and notices == []
    ran: list[str] = []
    facade.build_model(store, Settings(corporate_currency="EUR"), step=ran.append)
    assert len(ran) == 38  # the build options are part of what the marts were built from
    store.close()


def test_a_missing_table_is_rebuilt(built: tuple[Store, list[Path]]) -> None:
    store, _ = built
    store.con.execute(f"DROP TABLE {tables.CAMPAIGNS}")  # type: ignore[attr-defined]
    ran, _ = _build(store)
    assert ran[0] == tables.CAMPAIGNS and tables.OPPORTUNITIES not in ran  # and what reads it
    store.close()


def test_every_file_of_one_command_counts(built: tuple[Store, list[Path]],
                                          tmp_path: Path) -> None:
    # the files of one command share its import id (a log row each): all of them count
    store, _ = built
    users = tmp_path / "users_more.csv"
    users.write_text("user_id,name,role,team_id\nu-9,Nina,rep,\n", encoding="utf-8")
    facade.import_files(store, "canonical", [_more_touches(tmp_path), users],
                        settings=SETTINGS)
    ran, notices = _build(store)
    assert {tables.TOUCHPOINTS, tables.USERS} <= set(ran)
    assert "changed since the last build: touchpoints, users" in notices[0]
    assert store.count(tables.USERS) == 2
    store.close()
