"""The ``opportunities`` mart: every deal with its amount also in the corporate currency.

An amount keeps its own currency (``amount``, ``currency``); the mart adds
``corporate_currency``, ``fx_rate`` (units of the deal's currency per one unit of the corporate
currency, Salesforce's ``ConversionRate``) and ``amount_corporate`` = ``amount / fx_rate``.
Every aggregate reads ``amount_corporate``, so amounts in different currencies are never added.

* **The corporate currency** is the ``corporate_currency`` setting; else the currency the
  imported rates mark as corporate (Salesforce ``CurrencyType.IsCorporate``); else, when every
  deal that names a currency names the same one, that currency. Otherwise there is none and
  no amount is converted (the analytics then refuse to add them, naming the currencies).
* **The rate** is the dated rate in force on the deal's close date (its creation day when it
  has no close date) — Salesforce's rule for opportunities under advanced currency management:
  ``start_date <= day < next_start_date`` (the next rate's start when ``next_start_date`` is
  empty); else the currency's standing rate (``start_date`` empty); else none, and
  ``amount_corporate`` stays empty. A deal with no currency is taken to be in the corporate
  currency (single-currency orgs export no ``CurrencyIsoCode``).
* **Another corporate currency than the rates' own.** When the setting names a currency other
  than the one the rates are quoted against (``IsCorporate``), amounts go through that base:
  ``fx_rate`` = rate(deal's currency) / rate(setting's currency), both on the deal's day; a
  setting's currency with no rate leaves the amounts unconverted (and the analytics refuse).
"""

from __future__ import annotations

import ibis
from ibis import _

from revloop.model import tables
from revloop.model.steps import BuildOptions, Inputs, Step
from revloop.store.queries import trim

_OPPS = tables.staging(tables.OPPORTUNITIES)
_RATES = tables.staging(tables.CURRENCY_RATES)
_FAR = ibis.date(9999, 12, 31)


def _code(column: ibis.Value) -> ibis.Value:
    return trim(column).upper()  # Ibis' strip() eats v/f on Spark


def corporate_currency(opps: ibis.Table, rates: ibis.Table, configured: str | None
                       ) -> str | None:
    """The corporate currency (see the module docstring); ``""`` when no deal names a
    currency (all amounts are in one, unnamed); None when it cannot be told."""
    if configured:
        return configured.strip().upper()
    base = rates_base(rates)
    if base:
        return base
    used = opps.filter(opps.currency.notnull() & (trim(opps.currency) != ""))
    codes = sorted({str(v) for v in _code(used.currency).to_pyarrow().to_pylist() if v})
    if not codes:  # no deal names a currency: all in one, unnamed
        return ""
    return codes[0] if len(codes) == 1 else None


def rates_base(rates: ibis.Table) -> str | None:
    """The currency the imported rates are quoted against (Salesforce ``CurrencyType``'s
    ``IsCorporate``), when exactly one is marked."""
    marked = rates.filter(rates.is_corporate == True)  # noqa: E712
    named = sorted({str(v) for v in _code(marked.currency).to_pyarrow().to_pylist() if v})
    return named[0] if len(named) == 1 else None


def _dated(rates: ibis.Table) -> ibis.Table:
    """Dated rates with the day each stops being in force (exclusive)."""
    r = rates.filter(rates.start_date.notnull() & rates.rate.notnull() & (rates.rate > 0))
    r = r.mutate(r_code=_code(r.currency))
    following = r.start_date.lead().over(ibis.window(group_by=r.r_code, order_by=r.start_date))
    return r.select(r_code=r.r_code, r_start=r.start_date, r_rate=r.rate.cast("float64"),
                    r_end=ibis.coalesce(r.next_start_date, following, _FAR))


def _standing(rates: ibis.Table) -> ibis.Table:
    r = rates.filter(rates.start_date.isnull() & rates.rate.notnull() & (rates.rate > 0))
    return (r.group_by(s_code=_code(r.currency))
            .agg(s_rate=r.rate.cast("float64").max()))


def _rate_on_day(o: ibis.Table, code: ibis.Value, rates: ibis.Table) -> ibis.Table:
    """Per opportunity (``k``), the rate of ``code`` in force on its day (``o_day``): the
    dated rate, else the standing one, else NULL."""
    x = o.select(k=o.opportunity_id, c=code, d=o.o_day)
    dated = _dated(rates)
    j = x.left_join(dated, (x.c == dated.r_code) & (dated.r_start <= x.d) & (x.d < dated.r_end))
    # overlapping ranges (a messy rate file) must not double a deal: the latest start wins
    pick = ibis.row_number().over(ibis.window(group_by=j.k, order_by=ibis.desc(j.r_start)))
    j = j.mutate(r_pick=pick).filter(_.r_pick == 0)
    standing = _standing(rates)
    j = j.left_join(standing, j.c == standing.s_code)
    return j.select(k=j.k, rate=ibis.coalesce(j.r_rate, j.s_rate))


def opportunities_mart(inputs: Inputs, options: BuildOptions) -> ibis.Table:
    """Opportunities with ``corporate_currency``, ``fx_rate`` and ``amount_corporate``."""
    opps, rates = inputs[_OPPS], inputs[_RATES]
    corporate = corporate_currency(opps, rates, options.corporate_currency)
    o = opps.mutate(o_code=_code(opps.currency),
                    o_day=ibis.coalesce(opps.close_date, opps.created_at.date()))
    own = _rate_on_day(o, o.o_code, rates)
    j = o.left_join(own, o.opportunity_id == own.k)
    if corporate is None:  # several currencies and none is corporate: nothing is converted
        rate = ibis.null("float64")
    else:
        base = rates_base(rates) or corporate
        rebased = base != corporate  # the setting names another currency: through the base
        if rebased:
            target = _rate_on_day(o, ibis.literal(corporate), rates).select(
                t_k=_.k, t_rate=_.rate)
            j = j.left_join(target, j.opportunity_id == target.t_k)
        # a rate is units of the currency per one unit of the rates' base; the base's own
        # rate is 1 even when the file does not list it
        vs_base = ibis.coalesce(j.rate, ibis.ifelse(j.o_code == base, 1.0, ibis.null("float64")))
        if rebased:
            vs_base = vs_base / j.t_rate
        own_currency = j.o_code.isnull() | (j.o_code == "") | (j.o_code == corporate)
        rate = ibis.ifelse(own_currency, ibis.literal(1.0), vs_base)
    out = j.mutate(corporate_currency=ibis.literal(corporate or None, "string"),
                   fx_rate=rate.cast("float64"))
    out = out.mutate(amount_corporate=out.amount.cast("float64") / out.fx_rate)
    return out.select(*opps.columns, "corporate_currency", "fx_rate", "amount_corporate")


STEP = Step(
    name=tables.OPPORTUNITIES, inputs=(_OPPS, _RATES), build=opportunities_mart,
    doc="opportunities with the corporate currency, the rate in force on the close date "
        "and the amount converted",
)
