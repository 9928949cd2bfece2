"""The design the tools enforce: layers, runners, no engine branches above the store."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from revloop.analytics.contract import Request, Result
from revloop.facade.runners import RUNNERS

SRC = Path(__file__).resolve().parents[1] / "src" / "revloop"
ENGINE_BRANCH = re.compile(
    r"""\.engine\s*(==|!=|\bin\b|\bnot in\b)|["'](duckdb|postgres|spark)["']\s*(==|!=)""")


def _modules() -> list[Path]:
    return sorted(p for p in SRC.rglob("*.py") if "__pycache__" not in p.parts)


def test_nothing_above_the_store_branches_on_the_engine() -> None:
    offenders = []
    for path in _modules():
        if path.is_relative_to(SRC / "store"):
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if ENGINE_BRANCH.search(line):
                offenders.append(f"{path.relative_to(SRC)}:{n}: {line.strip()}")
    assert not offenders, "engine branches above store/ (use revloop.store.queries):\n" + \
        "\n".join(offenders)


def test_every_package_has_an_init_so_the_layer_contracts_see_it() -> None:
    missing = [str(d.relative_to(SRC)) for d in {p.parent for p in _modules()}
               if not (d / "__init__.py").exists()]
    assert not missing


def test_import_linter_analyses_every_module() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    proc = subprocess.run([str(lint)], capture_output=True, text=True, check=False,
                          cwd=SRC.parents[1])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    analysed = int(re.search(r"Analyzed (\d+) files", proc.stdout).group(1))  # type: ignore[union-attr]
    assert analysed == len(_modules())


def test_every_runner_has_a_typed_request_and_result_with_json_schemas() -> None:
    assert {"funnel", "attribution", "scoring.rules", "scoring.train", "scoring.apply",
            "scoring.evaluate", "scoring.explain"} <= set(RUNNERS)
    for runner in RUNNERS.values():
        assert issubclass(runner.request, Request), runner.name
        assert issubclass(runner.result, Result), runner.name
        request_schema = runner.request.model_json_schema()
        assert request_schema["type"] == "object", runner.name
        result_schema = runner.result.json_schema()
        assert result_schema["type"] == "object" and result_schema["properties"], runner.name


def test_bad_requests_raise_the_capability_error_with_its_code() -> None:
    import pytest

    from revloop.analytics.attribution.errors import AttributionError
    from revloop.analytics.funnel import FunnelRequestError
    from revloop.analytics.scoring.errors import ScoringError

    cases = [("funnel", {"stall_percentile": 0}, FunnelRequestError),
             ("attribution", {"bootstrap": -1}, AttributionError),
             ("attribution", {"surprise": 1}, AttributionError),
             ("scoring.apply", {"models": ["nonsense"]}, ScoringError),
             ("scoring.explain", {"as_of": "soon", "id": "x"}, ScoringError)]
    for name, body, error in cases:
        with pytest.raises(error) as info:
            RUNNERS[name].request.model_validate(body)
        assert info.value.code and info.value.message
