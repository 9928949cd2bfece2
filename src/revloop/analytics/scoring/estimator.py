"""The predictive scorer: gradient boosting (LightGBM) + cross-fitted calibration + reasons.

``GradientBoostedScorer`` follows the scikit-learn conventions: ``__init__`` stores the
parameters, ``fit`` learns, fitted attributes end in ``_``. On the aggregated feature frame
(one row per record) it

1. encodes categorical features as integer codes (levels seen at least
   ``min_category_count`` times, at most ``max_categories``; the rest share one "other" code;
   missing stays missing) and lets LightGBM split on them natively;
2. cross-fits the calibration: ``calibration_folds`` boosters each predict the fold they did
   not see; the calibrator (isotonic by default) maps those out-of-fold margins to
   probabilities; the final booster is trained on every row;
3. turns a record into a 0–100 **score**: the percentile of its margin among the
   out-of-fold margins of the training rows (mid-rank for ties), so 90 means "higher than
   90% of the records the model learnt from", whatever the base rate;
4. explains every record with LightGBM's exact TreeSHAP contributions (``pred_contrib``):
   one value per feature in log-odds, which with the expected value add up to the model's
   margin; the calibrated probability is a non-decreasing function of that margin.
"""

from __future__ import annotations

import contextlib
import json
import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from revloop.analytics.scoring.calibration import Calibrator
from revloop.analytics.scoring.folds import grouped_stratified_splits

NUMERIC = "numeric"
CATEGORICAL = "categorical"


@dataclass(frozen=True)
class FeatureSpec:
    """One model feature: its column, kind, family and the words a reason uses for it."""

    name: str
    kind: str  # numeric | categorical
    family: str  # profile | firmographic | technographic | engagement | intent | history | deal
    label: str
    monotone: int = 0  # +1: the score may only rise with the value (engagement counts)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Reason:
    """One of a record's top contributions."""

    feature: str
    label: str
    value: Any
    contribution: float  # log-odds

    @property
    def text(self) -> str:
        """``Lead Origin is "Lead Add Form" (+2.10)``."""
        return f"{self.label} = {_shown(self.value)} ({self.contribution:+.2f})"

    def to_dict(self) -> dict[str, Any]:
        return {"feature": self.feature, "label": self.label, "value": self.value,
                "contribution": round(self.contribution, 4), "text": self.text}


def _lightgbm() -> Any:
    import lightgbm

    return lightgbm


class GradientBoostedScorer:
    """Calibrated gradient-boosted scorer with percentile scores and per-record reasons."""

    def __init__(self, *, n_estimators: int = 300, learning_rate: float = 0.05,
                 num_leaves: int = 15, max_depth: int = -1, min_child_samples: int = 20,
                 feature_fraction: float = 0.8, bagging_fraction: float = 1.0,
                 lambda_l2: float = 5.0, calibration: str = "isotonic",
                 calibration_folds: int = 5, max_categories: int = 50,
                 min_category_count: int = 10, random_state: int = 0, n_jobs: int = 1) -> None:
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.max_depth = max_depth
        self.min_child_samples = min_child_samples
        self.feature_fraction = feature_fraction
        self.bagging_fraction = bagging_fraction
        self.lambda_l2 = lambda_l2
        self.calibration = calibration
        self.calibration_folds = calibration_folds
        self.max_categories = max_categories
        self.min_category_count = min_category_count
        self.random_state = random_state
        self.n_jobs = n_jobs

    def get_params(self) -> dict[str, Any]:
        """The constructor parameters (scikit-learn style)."""
        return {k: getattr(self, k) for k in (
            "n_estimators", "learning_rate", "num_leaves", "max_depth", "min_child_samples",
            "feature_fraction", "bagging_fraction", "lambda_l2", "calibration",
            "calibration_folds", "max_categories", "min_category_count", "random_state",
            "n_jobs")}

    # ------------------------------------------------------------------ encoding

    def _learn_encoding(self, X: pd.DataFrame, specs: list[FeatureSpec]) -> None:
        self.categories_: dict[str, list[str]] = {}
        kept = []
        for spec in specs:
            col = X[spec.name] if spec.name in X.columns else pd.Series(dtype=object)
            if spec.kind == CATEGORICAL:
                counts = col.dropna().astype(str).value_counts()
                counts = counts[counts >= self.min_category_count]
                levels = sorted(counts.index[: self.max_categories].tolist(),
                                key=lambda v: (-int(counts[v]), v))
                if not levels:
                    continue  # nothing frequent enough to learn from
                self.categories_[spec.name] = levels
            else:
                values = pd.to_numeric(col, errors="coerce")
                if values.notna().sum() == 0 or (values.nunique(dropna=True) < 2 and \
                        values.isna().sum() == 0):
                    continue  # constant or empty: nothing to learn
            kept.append(spec)
        self.specs_: list[FeatureSpec] = kept

    def _matrix(self, X: pd.DataFrame) -> NDArray[np.float64]:
        out = np.full((len(X), len(self.specs_)), np.nan, dtype=np.float64)
        for j, spec in enumerate(self.specs_):
            if spec.name not in X.columns:
                continue
            col = X[spec.name]
            if spec.kind == CATEGORICAL:
                levels = self.categories_[spec.name]
                codes = {v: float(i) for i, v in enumerate(levels)}
                text = col.astype("string")
                mapped = text.map(codes).astype("float64").fillna(float(len(levels)))
                out[:, j] = np.where(text.isna().to_numpy(), np.nan, mapped.to_numpy())
            else:
                out[:, j] = pd.to_numeric(col, errors="coerce").to_numpy(dtype=np.float64,
                                                                          na_value=np.nan)
        return out

    def _params(self) -> dict[str, Any]:
        mono = [s.monotone if s.kind == NUMERIC else 0 for s in self.specs_]
        params: dict[str, Any] = {
            "objective": "binary", "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves, "max_depth": self.max_depth,
            "min_data_in_leaf": self.min_child_samples,
            "feature_fraction": self.feature_fraction, "lambda_l2": self.lambda_l2,
            "seed": self.random_state, "deterministic": True, "force_row_wise": True,
            "num_threads": self.n_jobs, "verbose": -1, "min_data_per_group": 20,
            "cat_smooth": 10.0, "max_cat_to_onehot": 4,
        }
        if self.bagging_fraction < 1.0:
            params.update(bagging_fraction=self.bagging_fraction, bagging_freq=1)
        if any(mono):
            params["monotone_constraints"] = mono
        return params

    def _train(self, M: NDArray[np.float64], y: NDArray[np.float64]) -> Any:
        lgb = _lightgbm()
        cats = [j for j, s in enumerate(self.specs_) if s.kind == CATEGORICAL]
        data = lgb.Dataset(M, label=y, feature_name=[f"f{j}" for j in range(M.shape[1])],
                           categorical_feature=cats, free_raw_data=True,
                           params={"verbose": -1})
        return lgb.train(self._params(), data, num_boost_round=self.n_estimators)

    # ------------------------------------------------------------------ fit / predict

    def fit(self, X: pd.DataFrame, y: Any, specs: list[FeatureSpec],
            groups: Any = None) -> GradientBoostedScorer:
        """Learn the encoding, the cross-fitted calibration and the final booster.

        ``groups`` (e.g. the account or deal id of each row) keeps every row of a group in
        the same calibration fold: rows of one entity seen at several snapshots share their
        outcome, and letting a fold model see a sibling row would make the out-of-fold
        margins optimistic and the calibration wrong.
        """
        target = np.asarray(y, dtype=np.float64)
        if len(np.unique(target)) < 2:
            raise ValueError("the training rows have only one outcome; need both")
        self._learn_encoding(X, list(specs))
        if not self.specs_:
            raise ValueError("no usable feature (every candidate is constant or empty)")
        M = self._matrix(X)
        self.n_rows_ = len(target)
        self.base_rate_ = float(target.mean())
        oof = np.zeros(len(target), dtype=np.float64)
        splits = self.calibration_splits(target, groups)
        if self.calibration != "none" and splits:
            for tr, te in splits:
                booster = self._train(M[tr], target[tr])
                oof[te] = booster.predict(M[te], raw_score=True)
            self.calibrator_ = Calibrator(self.calibration).fit(oof, target)
        else:
            self.calibrator_ = Calibrator("none")
        self.booster_ = self._train(M, target)
        if self.calibrator_.method == "none":
            oof = self.booster_.predict(M, raw_score=True)
        self.oof_margin_ = oof
        self.oof_probability_ = self.calibrator_.predict(oof)
        self.reference_ = np.quantile(oof, np.linspace(0.0, 1.0, 1001))
        gains = self.booster_.feature_importance(importance_type="gain")
        total = float(np.sum(gains)) or 1.0
        self.importance_ = {s.name: float(g) / total for s, g in zip(self.specs_, gains,
                                                                      strict=True)}
        return self

    def calibration_splits(self, y: NDArray[np.float64], groups: Any = None) -> list[
            tuple[NDArray[np.int64], NDArray[np.int64]]]:
        """The (train, held-out) row indices of the calibration folds (stratified; grouped
        when ``groups`` is given); empty when there are too few rows of a class."""
        target = np.asarray(y).astype(int)
        if groups is not None:
            return grouped_stratified_splits(target, np.asarray(groups), self.calibration_folds,
                                             self.random_state)
        from sklearn.model_selection import StratifiedKFold

        folds = min(self.calibration_folds, int(min(target.sum(), len(target) - target.sum())))
        if folds < 2:
            return []
        return list(StratifiedKFold(folds, shuffle=True, random_state=self.random_state
                                    ).split(np.zeros(len(target)), target))

    def decision_function(self, X: pd.DataFrame) -> NDArray[np.float64]:
        """Raw margins (log-odds of the uncalibrated booster)."""
        out: NDArray[np.float64] = np.asarray(
            self.booster_.predict(self._matrix(X), raw_score=True), dtype=np.float64)
        return out

    def predict_probability(self, X: pd.DataFrame) -> NDArray[np.float64]:
        """Calibrated probability of the outcome, one per row."""
        return self.calibrator_.predict(self.decision_function(X))

    def predict_proba(self, X: pd.DataFrame) -> NDArray[np.float64]:
        """scikit-learn style: columns P(no), P(yes)."""
        p = self.predict_probability(X)
        return np.column_stack([1.0 - p, p])

    def score_from_margin(self, margin: NDArray[np.float64]) -> NDArray[np.float64]:
        """0–100: percentile of margins among the training rows' out-of-fold margins.

        Margins, not calibrated probabilities, so that isotonic plateaus do not tie whole
        blocks of records; the probability is a non-decreasing function of the margin, so
        the two orders agree.
        """
        ref = self.reference_
        m = np.asarray(margin, dtype=np.float64)
        lo = np.searchsorted(ref, m, side="left")
        hi = np.searchsorted(ref, m, side="right")
        out: NDArray[np.float64] = np.round(100.0 * (lo + hi) / (2.0 * len(ref)), 1)
        return out

    def predict_score(self, X: pd.DataFrame) -> NDArray[np.float64]:
        """0–100 scores (see :meth:`score_from_margin`)."""
        return self.score_from_margin(self.decision_function(X))

    def predict_all(self, X: pd.DataFrame) -> tuple[NDArray[np.float64], NDArray[np.float64],
                                                     NDArray[np.float64]]:
        """Margins, calibrated probabilities and 0–100 scores in one pass."""
        margin = self.decision_function(X)
        return margin, self.calibrator_.predict(margin), self.score_from_margin(margin)

    def contributions(self, X: pd.DataFrame) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Per-feature TreeSHAP contributions (n × features) and the expected value (n)."""
        raw = np.asarray(self.booster_.predict(self._matrix(X), pred_contrib=True),
                         dtype=np.float64)
        return raw[:, :-1], raw[:, -1]

    def reasons(self, X: pd.DataFrame, k: int = 3) -> list[list[Reason]]:
        """The ``k`` largest contributions (by size, with their sign) of every row."""
        contrib, _ = self.contributions(X)
        order = np.argsort(-np.abs(contrib), axis=1, kind="stable")[:, :k]
        # each feature column read once; only the cells a reason shows are converted
        columns = [X[s.name].to_numpy(dtype=object) if s.name in X.columns else None
                   for s in self.specs_]

        def value(i: int, j: int) -> Any:
            col = columns[j]
            return None if col is None else _plain(col[i], self.specs_[j].kind)

        return [[Reason(self.specs_[j].name, self.specs_[j].label, value(i, j),
                        float(contrib[i, j])) for j in order[i]] for i in range(len(X))]

    def reason_columns(self, X: pd.DataFrame, k: int = 3) -> tuple[list[list[str]],
                                                                    list[str]]:
        """What :meth:`reasons` gives, already as the stored text: ``k`` lists of reason
        texts (one per row) and one JSON list per row, character for character the
        ``Reason.text`` and ``json.dumps([r.to_dict() …], default=str)`` of each row.

        Built per (feature, value) rather than per cell: a store's contacts share few
        distinct values, and the per-cell objects took longer than TreeSHAP itself."""
        n = len(X)
        if n == 0:
            return [[] for _ in range(k)], []
        contrib, _ = self.contributions(X)
        width = min(k, contrib.shape[1])
        order = np.argsort(-np.abs(contrib), axis=1, kind="stable")[:, :width]
        texts: list[list[str]] = []
        cells: list[list[str]] = []
        for r in range(width):
            j = order[:, r]
            c = contrib[np.arange(n), j].tolist()
            shown = np.empty(n, dtype=object)
            value = np.empty(n, dtype=object)
            for f in np.unique(j).tolist():
                rows = np.flatnonzero(j == f)
                spec = self.specs_[f]
                col = X[spec.name].to_numpy(dtype=object) if spec.name in X.columns else None
                raw = [None] * len(rows) if col is None else col[rows].tolist()
                memo: dict[tuple[type, Any], tuple[str, str]] = {}
                shown_f, value_f = [], []
                for v in raw:
                    key = (type(v), v)  # 1 and 1.0 are one dict key, not one text
                    try:
                        hit = memo[key]
                    except (KeyError, TypeError):  # TypeError: an unhashable value
                        plain = _plain(v, spec.kind)
                        hit = (_shown(plain), json.dumps(plain, default=str))
                        with contextlib.suppress(TypeError):
                            memo[key] = hit
                    shown_f.append(hit[0])
                    value_f.append(hit[1])
                shown[rows] = shown_f
                value[rows] = value_f
            labels = [self.specs_[f].label for f in j.tolist()]
            names = [json.dumps(self.specs_[f].name) for f in j.tolist()]
            text = [f"{lab} = {sh} ({x:+.2f})" for lab, sh, x in zip(labels, shown, c,
                                                                      strict=True)]
            texts.append(text)
            cells.append([
                f'{{"feature": {nm}, "label": {json.dumps(lab)}, "value": {val}, '
                f'"contribution": {round(x, 4)!r}, "text": {json.dumps(t)}}}'
                for nm, lab, val, x, t in zip(names, labels, value, c, text, strict=True)])
        while len(texts) < k:
            texts.append([])
        rows_json = ["[" + ", ".join(parts) + "]" for parts in zip(*cells, strict=True)]
        return texts, rows_json

    # ------------------------------------------------------------------ storage

    def to_payload(self) -> dict[str, Any]:
        """Everything needed to score again, as JSON-ready plain data (no pickle)."""
        return {
            "format": 1, "params": self.get_params(),
            "specs": [s.to_dict() for s in self.specs_], "categories": self.categories_,
            "booster": self.booster_.model_to_string(),
            "calibrator": self.calibrator_.to_dict(), "reference": self.reference_.tolist(),
            "base_rate": self.base_rate_, "n_rows": self.n_rows_,
            "importance": self.importance_,
        }

    @classmethod
    def from_payload(cls, doc: dict[str, Any]) -> GradientBoostedScorer:
        """The inverse of :meth:`to_payload`."""
        if doc.get("format") != 1:
            raise ValueError(f"unknown model format {doc.get('format')!r}")
        model = cls(**doc["params"])
        model.specs_ = [FeatureSpec(**s) for s in doc["specs"]]
        model.categories_ = {k: list(v) for k, v in doc["categories"].items()}
        model.booster_ = _lightgbm().Booster(model_str=doc["booster"])
        model.calibrator_ = Calibrator.from_dict(doc["calibrator"])
        model.reference_ = np.asarray(doc["reference"], dtype=np.float64)
        model.base_rate_ = float(doc["base_rate"])
        model.n_rows_ = int(doc["n_rows"])
        model.importance_ = {k: float(v) for k, v in doc["importance"].items()}
        return model

    def to_json(self) -> str:
        """:meth:`to_payload` as JSON text."""
        return json.dumps(self.to_payload())


def _shown(value: Any) -> str:
    """A reason's value as its text shows it."""
    if value is None:
        return "unknown"
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.3g}"
    return f'"{value}"'


def _plain(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if value is pd.NA or value is pd.NaT:
        return None
    if kind == NUMERIC:
        try:
            return float(value)
        except (TypeError, ValueError):
            return None
    return str(value)
