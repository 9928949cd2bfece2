"""Probability calibration of model margins: isotonic (default) or Platt (sigmoid).

Fitted on out-of-fold margins only (cross-fitting), so the calibrator never sees a margin
the model produced on its own training rows. Serialised as plain numbers (no pickle).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

METHODS = ("isotonic", "sigmoid", "none")


def _sigmoid(x: NDArray[np.float64]) -> NDArray[np.float64]:
    out: NDArray[np.float64] = 1.0 / (1.0 + np.exp(-x))
    return out


class Calibrator:
    """Margin → probability. ``fit`` learns ``x_``/``y_`` (isotonic knots) or ``a_``/``b_``."""

    def __init__(self, method: str = "isotonic") -> None:
        if method not in METHODS:
            raise ValueError(f"calibration {method!r}; expected one of {', '.join(METHODS)}")
        self.method = method

    def fit(self, margin: NDArray[np.float64], y: NDArray[np.float64]) -> Calibrator:
        """Learn the mapping from out-of-fold margins and outcomes."""
        m = np.asarray(margin, dtype=np.float64)
        t = np.asarray(y, dtype=np.float64)
        if self.method == "isotonic":
            from sklearn.isotonic import IsotonicRegression

            iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(m, t)
            self.x_ = np.asarray(iso.X_thresholds_, dtype=np.float64)
            self.y_ = np.asarray(iso.y_thresholds_, dtype=np.float64)
        elif self.method == "sigmoid":
            from sklearn.linear_model import LogisticRegression

            lr = LogisticRegression(C=1e6, max_iter=1000).fit(m.reshape(-1, 1), t.astype(int))
            self.a_ = float(lr.coef_[0, 0])
            self.b_ = float(lr.intercept_[0])
        return self

    def predict(self, margin: NDArray[np.float64]) -> NDArray[np.float64]:
        """Calibrated probabilities (monotone non-decreasing in the margin)."""
        m = np.asarray(margin, dtype=np.float64)
        if self.method == "isotonic":
            out: NDArray[np.float64] = np.interp(m, self.x_, self.y_)
            return out
        if self.method == "sigmoid":
            return _sigmoid(self.a_ * m + self.b_)
        return _sigmoid(m)

    def to_dict(self) -> dict[str, Any]:
        """Plain numbers for storage."""
        if self.method == "isotonic":
            return {"method": "isotonic", "x": self.x_.tolist(), "y": self.y_.tolist()}
        if self.method == "sigmoid":
            return {"method": "sigmoid", "a": self.a_, "b": self.b_}
        return {"method": "none"}

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> Calibrator:
        """The inverse of :meth:`to_dict`."""
        cal = cls(str(doc["method"]))
        if cal.method == "isotonic":
            cal.x_ = np.asarray(doc["x"], dtype=np.float64)
            cal.y_ = np.asarray(doc["y"], dtype=np.float64)
        elif cal.method == "sigmoid":
            cal.a_, cal.b_ = float(doc["a"]), float(doc["b"])
        return cal
