"""Stratified k-fold splits that keep every row of a group in one fold, vectorised.

scikit-learn's ``StratifiedGroupKFold`` places groups one at a time in a Python loop (5.9 s
for 510k rows in 30k groups); this does the same job with a few numpy sorts. Groups are
ordered by their share of positive rows (then size, then a seeded random tie-break) and
dealt to the folds in snake order (0…k-1, k-1…0, …), so every fold gets groups of every
outcome mix and sizes that balance out.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

Split = tuple[NDArray[np.int64], NDArray[np.int64]]


def grouped_stratified_splits(y: NDArray[np.int_], groups: NDArray[np.generic], folds: int,
                              random_state: int = 0) -> list[Split]:
    """(train, held-out) row indices of at most ``folds`` folds; fewer when there are fewer
    groups holding each outcome (a fold model must see both), none below two."""
    target = np.asarray(y).astype(np.int64)
    _, inverse = np.unique(np.asarray(groups), return_inverse=True)
    size = np.bincount(inverse)
    positives = np.bincount(inverse, weights=target)
    k = min(folds, int(np.count_nonzero(positives > 0)), int(np.count_nonzero(positives < size)))
    if k < 2:
        return []
    tie = np.random.default_rng(random_state).permutation(len(size))
    order = np.lexsort((tie, -size, -(positives / size)))
    position = np.empty(len(size), dtype=np.int64)
    position[order] = np.arange(len(size))
    block, slot = np.divmod(position, k)
    fold_of_group = np.where(block % 2 == 0, slot, k - 1 - slot)
    fold = fold_of_group[inverse]
    return [(np.flatnonzero(fold != f), np.flatnonzero(fold == f)) for f in range(k)]
