"""Errors of the scoring capability (stable codes, one clear message each)."""

from __future__ import annotations

from revloop.errors import ConfigError, RevloopError


class RulesFileError(ConfigError):
    """A scoring rules file that cannot be used: the message names the file, line, rule and
    field, and says what was expected."""

    code = "scoring_rules_invalid"

    def __init__(self, path: str, problems: list[str]) -> None:
        self.path = path
        self.problems = list(problems)
        if len(problems) == 1:
            message = f"{path}: {problems[0]}"
        else:
            message = f"{path}: {len(problems)} problems:\n" + "\n".join(
                f"  - {p}" for p in problems)
        super().__init__(message)


class ScoringError(RevloopError):
    """Scoring cannot proceed with this store or request (no data, no label, no model)."""

    code = "scoring_error"


class ModelNotFoundError(ScoringError):
    """No trained version of the requested model is stored."""

    code = "scoring_model_not_found"
