"""Markov-chain attribution of order 1–4, solved exactly (absorbing chain, removal effects).

**States.** For order ``k`` a state is the tuple of the last ``min(t, k)`` channels seen after
``t`` touches: a journey ``a > b > c`` of order 2 walks START → (a) → (a, b) → (b, c) → CONV or
NULL. Order 1 is the usual channel graph. Transition probabilities are path counts: every
journey adds 1 to each transition it makes (an aggregated path adds conversions + nulls), and
its last state moves to CONV ``conversions`` times and to NULL ``nulls`` times.

**Conversion probability.** With Q the transitions between transient states (START included)
and r the one-step conversion probability, x = (I − Q)⁻¹ r is the probability of converting
from each state; P(conv) = x[START]. Value works the same way with r_v = value absorbed per
visit, giving the expected value per journey.

**Removal effect** (Anderl et al. 2016). Removing channel c sends every transition into a state
whose *latest* channel is c to NULL. For order > 1 this removes every state that contains c:
such a state can only be entered through one whose latest channel is c. RE_c = 1 −
P(conv without c) / P(conv). Credits are RE_c / Σ RE × total conversions (value: the value
removal effects × total value), so they sum exactly to the totals.

**Solving.** One LU of the chain and, for all removals together, the Woodbury identity on its
inverse (the rows of the removed states are replaced by identity rows) when the chain is small;
one sparse LU per channel otherwise. No random walks anywhere.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from revloop.analytics.attribution.credits import (
    AttributionModel,
    Credits,
    Prepared,
    fsum,
    reconcile,
)
from revloop.analytics.attribution.errors import AttributionError
from revloop.analytics.attribution.paths import (
    FloatArray,
    IntArray,
    Journeys,
    distinct_paths,
    weighted_count,
)

#: Chains up to this many transient states are solved densely with the Woodbury identity.
DENSE_MAX_STATES = 2500
#: Transitions are counted into a dense states × states array up to this many cells.
_DENSE_PAIRS = 1 << 22


class MarkovChain(Prepared):
    """The state graph of fixed paths; ``solve`` for any outcomes of those paths.

    Every touch knows its state and the transition that entered it, so the counts for given
    outcomes are one weighted ``bincount`` over the touches.
    """

    def __init__(self, journeys: Journeys, order: int) -> None:
        self.journeys = journeys
        self.order = order
        n_ch = len(journeys.channels)
        has = journeys.has_touches
        base = n_ch + 1
        pos = journeys.position
        if order == 1:
            # states are the channels themselves (code + 1; 0 is START)
            state = journeys.touches.astype(np.int64) + 1
            self.state_keys = np.arange(1, base, dtype=np.int64)
        else:
            if base ** order >= 2 ** 62:
                raise AttributionError(f"too many channels ({n_ch}) for a Markov chain of "
                                       f"order {order}; use a lower order",
                                       code="markov_too_large")
            # state key: the last `order` channels as base-(n+1) digits, latest lowest
            key = np.zeros(journeys.n_touches, dtype=np.int64)
            for lag in range(order):
                ok = pos >= lag
                digit = np.zeros(journeys.n_touches, dtype=np.int64)
                digit[ok] = journeys.touches[np.flatnonzero(ok) - lag].astype(np.int64) + 1
                key += digit * base ** lag
            self.state_keys, inv = np.unique(key, return_inverse=True)
            state = inv.reshape(-1).astype(np.int64) + 1
        self.n_states = len(self.state_keys) + 1
        #: latest channel of every state (-1 for START)
        self.latest = np.concatenate(([-1], (self.state_keys % base) - 1)).astype(np.int64)
        prev = np.empty_like(state)
        prev[1:] = state[:-1]
        prev[pos == 0] = 0
        s = self.n_states
        pair = prev * s + state
        self.dense = s * s <= _DENSE_PAIRS
        if self.dense:
            self.pair_index = pair
            self.pairs = np.zeros(0, dtype=np.int64)
        else:
            self.pairs, inv_pair = np.unique(pair, return_inverse=True)
            self.pair_index = inv_pair.reshape(-1).astype(np.int64)
        self.journey_of_touch = journeys.journey_of_touch
        self.last_state = np.zeros(journeys.n_journeys, dtype=np.int64)
        self.last_state[has] = state[journeys.offsets[1:][has] - 1]
        self.has = has

    def state_labels(self) -> list[str]:
        """Readable state names: ``(start)``, ``email``, ``email>webinar`` …"""
        names = self.journeys.channels
        base = len(names) + 1
        labels = ["(start)"]
        for k in self.state_keys:
            digits = []
            v = int(k)
            for _ in range(self.order):
                d = v % base
                v //= base
                if d:
                    digits.append(names[d - 1])
            labels.append(">".join(reversed(digits)))
        return labels

    def transition_counts(self, conversions: FloatArray, nulls: FloatArray,
                          value: FloatArray) -> tuple[Any, FloatArray, FloatArray, FloatArray]:
        """(transient transition counts — a dense array for small chains, else CSR —, and
        the conversions, nulls and value absorbed at each state)."""
        s = self.n_states
        through = np.where(self.has, conversions + nulls, 0.0)[self.journey_of_touch]
        q: Any
        if self.dense:
            q = weighted_count(self.pair_index, through, s * s).reshape(s, s)
        else:
            from scipy import sparse

            counts = weighted_count(self.pair_index, through, len(self.pairs))
            q = sparse.csr_matrix((counts, (self.pairs // s, self.pairs % s)), shape=(s, s))
        last = self.last_state[self.has]
        conv = weighted_count(last, conversions[self.has], s)
        null = weighted_count(last, nulls[self.has], s)
        val = weighted_count(last, value[self.has], s)
        return q, conv, null, val

    def solve(self, conversions: FloatArray, nulls: FloatArray,
              value: FloatArray) -> dict[str, Any]:
        """P(conv), expected value and the removal effects of every channel."""
        q, conv, null, val = self.transition_counts(conversions, nulls, value)
        out_total = np.asarray(q.sum(axis=1)).reshape(-1) + conv + null
        with np.errstate(divide="ignore", invalid="ignore"):
            inv_total = np.where(out_total > 0, 1.0 / out_total, 0.0)
        rhs = np.column_stack((conv * inv_total, val * inv_total))
        n_ch = len(self.journeys.channels)
        if self.n_states <= DENSE_MAX_STATES:
            dense_q = q if isinstance(q, np.ndarray) else q.toarray()
            base, removed = _solve_dense(dense_q * inv_total[:, None], rhs, self.latest, n_ch)
        else:
            from scipy import sparse

            p = sparse.diags(inv_total) @ sparse.csr_matrix(q)
            base, removed = _solve_sparse(p.tocsr(), rhs, self.latest, n_ch)
        with np.errstate(divide="ignore", invalid="ignore"):
            re = np.where(base > 0, 1.0 - removed / base, 0.0)  # (n_ch, 2)
        # rounding can leave -1e-17 on channels that change nothing
        re = np.clip(re, 0.0, 1.0)
        return {"p_conversion": float(base[0]), "expected_value": float(base[1]),
                "removal_conversions": re[:, 0], "removal_value": re[:, 1],
                "p_without": removed[:, 0]}

    def credit(self, conversions: FloatArray, nulls: FloatArray,
               value: FloatArray) -> tuple[FloatArray, FloatArray]:
        sol = self.solve(conversions, nulls, value)
        total_c = fsum(conversions[self.has])
        total_v = fsum(value[self.has])
        return (_split(sol["removal_conversions"], total_c),
                _split(sol["removal_value"], total_v))


def _split(effects: FloatArray, total: float) -> FloatArray:
    s = fsum(effects)
    if s <= 0 or total == 0:
        return np.zeros_like(effects)
    return reconcile(effects / s * total, total)


def _removed_sets(latest: IntArray, n_ch: int) -> list[IntArray]:
    order = np.argsort(latest, kind="stable")
    bounds = np.searchsorted(latest[order], np.arange(n_ch + 1))
    return [order[bounds[c]:bounds[c + 1]] for c in range(n_ch)]


def _solve_dense(p: NDArray[np.float64], rhs: FloatArray, latest: IntArray,
                 n_ch: int) -> tuple[FloatArray, FloatArray]:
    """x = (I − P)⁻¹ rhs, and x[START] with each channel's states turned into NULL.

    Removing the states R replaces their rows of M = I − P by identity rows:
    M' = M + E_R P_R and rhs' = rhs with rows R zeroed. With N = M⁻¹ and y = N rhs'
    (= x − N[:, R] rhs_R), Woodbury gives
    x'[0] = y[0] − N[0, R] (I + P_R N[:, R])⁻¹ (P_R y).
    """
    s = p.shape[0]
    m = np.eye(s) - p
    n_inv = np.linalg.inv(m)
    x = n_inv @ rhs
    removed = np.zeros((n_ch, rhs.shape[1]))
    for c, r in enumerate(_removed_sets(latest, n_ch)):
        if len(r) == 0:
            removed[c] = x[0]
            continue
        nr = n_inv[:, r]  # (s, k)
        y = x - nr @ rhs[r]  # (s, 2)
        pr = p[r]  # (k, s)
        small = np.eye(len(r)) + pr @ nr
        corr = np.linalg.solve(small, pr @ y)  # (k, 2)
        removed[c] = y[0] - n_inv[0, r] @ corr
    return x[0], removed


def _solve_sparse(p: Any, rhs: FloatArray, latest: IntArray,
                  n_ch: int) -> tuple[FloatArray, FloatArray]:
    """The same as :func:`_solve_dense` with one sparse LU per removed channel."""
    from scipy import sparse
    from scipy.sparse import linalg as splinalg

    s = p.shape[0]
    eye = sparse.identity(s, format="csc")
    x = splinalg.splu((eye - p).tocsc()).solve(rhs)
    removed = np.zeros((n_ch, rhs.shape[1]))
    for c, r in enumerate(_removed_sets(latest, n_ch)):
        if len(r) == 0:
            removed[c] = x[0]
            continue
        keep = np.ones(s)
        keep[r] = 0.0
        pk = sparse.diags(keep) @ p
        rk = rhs * keep[:, None]
        removed[c] = splinalg.splu((eye - pk).tocsc()).solve(rk)[0]
    return x[0], removed


class Markov(AttributionModel):
    """Markov-chain attribution of order 1–4 with exact removal effects.

    Fitted: ``credits_``, ``removal_effects_`` (conversions), ``value_removal_effects_``,
    ``conversion_probability_`` (P(conv) from START), ``expected_value_`` (per journey),
    ``n_states_``, ``chain_`` (the state graph; ``chain_.state_labels()``).
    """

    name = "markov"
    data_driven = True

    def __init__(self, order: int = 1) -> None:
        self.order = order

    @property
    def label(self) -> str:
        return self.name if self.order == 1 else f"markov_{self.order}"

    def _check_order(self) -> None:
        if self.order not in (1, 2, 3, 4):
            raise AttributionError(f"Markov order must be 1 to 4, got {self.order}",
                                   code="bad_order")

    def prepare(self, journeys: Journeys) -> Prepared:
        self._check_order()
        # replicates re-solve the chain many times: build it once on the distinct paths
        distinct, inverse = distinct_paths(journeys)
        return _MarkovOnJourneys(MarkovChain(distinct, self.order), journeys, inverse)

    def _credit(self, journeys: Journeys) -> Credits:
        self._check_order()
        chain = MarkovChain(journeys, self.order)
        d = journeys
        sol = chain.solve(d.conversions, d.nulls, d.value)
        total_c = fsum(d.conversions[chain.has])
        total_v = fsum(d.value[chain.has])
        self.chain_ = chain
        self.removal_effects_ = sol["removal_conversions"]
        self.value_removal_effects_ = sol["removal_value"]
        self.conversion_probability_ = sol["p_conversion"]
        self.expected_value_ = sol["expected_value"]
        self.n_states_ = chain.n_states
        details = {
            "order": self.order,
            "states": chain.n_states,
            "conversion_probability": sol["p_conversion"],
            "expected_value": sol["expected_value"],
            "removal_effects": dict(zip(d.channels, map(float, sol["removal_conversions"]),
                                        strict=True)),
            "value_removal_effects": dict(zip(d.channels, map(float, sol["removal_value"]),
                                              strict=True)),
        }
        return Credits(self.label, d.channels, _split(sol["removal_conversions"], total_c),
                       _split(sol["removal_value"], total_v), total_c, total_v, details)

    def transition_matrix(self) -> tuple[list[str], FloatArray]:
        """Labels (states, then ``(conversion)``, ``(null)``) and the fitted transition
        probabilities, rows = from, for inspection and plots."""
        chain = self.chain_
        d = chain.journeys
        q, conv, null, _ = chain.transition_counts(d.conversions, d.nulls, d.value)
        q = q if isinstance(q, np.ndarray) else q.toarray()
        dense = np.hstack((q, conv[:, None], null[:, None]))
        totals = dense.sum(axis=1, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            probs = np.where(totals > 0, dense / totals, 0.0)
        return [*chain.state_labels(), "(conversion)", "(null)"], probs


class _MarkovOnJourneys(Prepared):
    """The chain of the distinct paths, fed with outcomes of the original journeys."""

    def __init__(self, chain: MarkovChain, journeys: Journeys, inverse: IntArray) -> None:
        self.chain = chain
        self.journeys = journeys
        self.row_key = inverse
        self.inverse = inverse
        self.k = chain.journeys.n_journeys

    def credit(self, conversions: FloatArray, nulls: FloatArray,
               value: FloatArray) -> tuple[FloatArray, FloatArray]:
        inv, k = self.inverse, self.k
        return self.chain.credit(weighted_count(inv, conversions, k),
                                 weighted_count(inv, nulls, k),
                                 weighted_count(inv, value, k))
