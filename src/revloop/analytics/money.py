"""Money in aggregates: one currency, or a refusal that says what is missing.

Every analytic that adds amounts (the funnel, attribution, scoring features, forecasts) reads
``amount_corporate`` from the marts (see :mod:`revloop.model.marts.money`) and calls
:func:`corporate_money` first: it returns the currency the sums are in, with the deals that
were converted into it; or, when some deal's amount could not be converted, raises
:class:`CurrencyError` naming the currencies and how to add their rates — never a silent sum
of MXN and USD.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from revloop.errors import RevloopError
from revloop.model import tables
from revloop.store import Store
from revloop.store.queries import flag_as_int, trim


class CurrencyError(RevloopError):
    """Amounts in several currencies that cannot be converted into one."""

    code = "mixed_currencies"


@dataclass(frozen=True)
class Money:
    """The currency of every amount in a result, and what was converted into it."""

    currency: str | None  # None: the deals name no currency
    converted: dict[str, int] = field(default_factory=dict)  # currency → deals converted
    #: why amounts were left out of a result that reports counts only (the refusal)
    left_out: str | None = None

    @property
    def adds_amounts(self) -> bool:
        """Whether amounts may be added (False: counts only)."""
        return self.left_out is None

    def describe(self) -> str:
        """One line for reports: ``amounts in USD (MXN: 12 deals, COP: 3 converted at the
        rate in force on their close date)``."""
        if self.left_out is not None:
            return f"amounts left out (counts only): {self.left_out}"
        if self.currency is None:
            return "amounts as recorded (no currency named)"
        if not self.converted:
            return f"amounts in {self.currency}"
        parts = ", ".join(f"{c}: {n:,} deal{'s' if n != 1 else ''}"
                          for c, n in sorted(self.converted.items()))
        return (f"amounts in {self.currency} ({parts} converted at the rate in force on "
                "their close date)")


def counts_only_if_mixed(store: Store) -> Money:
    """:func:`corporate_money`, or — when amounts cannot be added — a :class:`Money` saying
    why, for results whose counts stand without amounts (the funnel)."""
    try:
        return corporate_money(store)
    except CurrencyError as exc:
        return Money(None, left_out=exc.message)


def corporate_money(store: Store) -> Money:
    """The currency the store's amounts add up in; :class:`CurrencyError` when they cannot."""
    if tables.OPPORTUNITIES not in store.list_tables():  # no marts yet: said elsewhere
        return Money(None)
    opps = store.table(tables.OPPORTUNITIES)
    if "amount_corporate" not in opps.columns:
        raise CurrencyError("the marts were built by an older revloop, before amounts were "
                            "converted into one currency: run `revloop build`")
    o = opps.filter(opps.amount.notnull())
    rows = (o.group_by(currency=trim(o.currency).upper(), corporate=o.corporate_currency)
            .agg(deals=o.count(), missing=flag_as_int(o.amount_corporate.isnull()).sum())
            .to_pyarrow().to_pylist())
    missing = {r["currency"] or "(none)": int(r["missing"]) for r in rows if r["missing"]}
    corporate = next((r["corporate"] for r in rows if r["corporate"]), None)
    if missing:
        raise CurrencyError(_refusal(missing, corporate))
    converted = {r["currency"]: int(r["deals"]) for r in rows
                 if r["currency"] and r["currency"] != corporate}
    return Money(corporate, converted)


def _refusal(missing: dict[str, int], corporate: str | None) -> str:
    listed = ", ".join(f"{c} ({n:,} deal{'s' if n != 1 else ''})"
                       for c, n in sorted(missing.items()))
    if corporate is None:
        return (f"the deals are in several currencies — {listed} — and no corporate currency "
                "is set, so their amounts cannot be added: set corporate_currency in "
                "revloop.toml (or REVLOOP_CORPORATE_CURRENCY), import the exchange rates "
                "(Salesforce DatedConversionRate/CurrencyType, or a CSV of currency, rate, "
                "start_date as `revloop import canonical currency_rates.csv`) and run "
                "`revloop build`")
    return (f"no exchange rate into {corporate} for {listed} on their close dates, so their "
            "amounts cannot be added: import the rates (Salesforce DatedConversionRate/"
            "CurrencyType, or a CSV of currency, rate, start_date as `revloop import canonical "
            "currency_rates.csv`) and run `revloop build`")
