"""A small multi-currency company: deals in USD, MXN, COP and PEN, dated and standing rates.

Rates are Salesforce's: units of the currency per one USD (the corporate currency).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

D = dt.date
#: (currency, rate, start_date, next_start_date); a None start is the standing rate.
RATES: list[tuple[str, float, dt.date | None, dt.date | None]] = [
    ("USD", 1.0, None, None),
    ("MXN", 17.0, D(2024, 1, 1), D(2024, 4, 1)),
    ("MXN", 16.5, D(2024, 4, 1), D(2024, 7, 1)),
    ("MXN", 18.0, D(2024, 7, 1), None),  # open-ended: in force until a later one
    ("MXN", 20.0, None, None),  # standing: before 2024
    ("COP", 3900.0, D(2024, 1, 1), None),
    ("COP", 4100.0, D(2024, 6, 1), None),  # the next start ends the one before
    ("PEN", 3.75, None, None),  # standing only
]
#: (id, currency, amount, close_date, stage, is_closed, is_won)
DEALS: list[tuple[str, str, float, dt.date, str, bool, bool]] = [
    ("o1", "USD", 10_000.0, D(2024, 2, 10), "Closed Won", True, True),
    ("o2", "MXN", 170_000.0, D(2024, 3, 31), "Closed Won", True, True),  # 17.0
    ("o3", "MXN", 165_000.0, D(2024, 4, 1), "Closed Won", True, True),  # 16.5 from that day
    ("o4", "MXN", 90_000.0, D(2024, 8, 15), "Closed Lost", True, False),  # 18.0
    ("o5", "MXN", 40_000.0, D(2023, 11, 2), "Closed Won", True, True),  # standing 20.0
    ("o6", "COP", 7_800_000.0, D(2024, 5, 31), "Closed Won", True, True),  # 3900
    ("o7", "COP", 8_200_000.0, D(2024, 6, 1), "Proposal", False, False),  # 4100
    ("o8", "PEN", 37_500.0, D(2024, 9, 9), "Closed Won", True, True),  # standing 3.75
]
#: Won revenue in USD, by hand: 10,000 + 170,000/17 + 165,000/16.5 + 40,000/20
#: + 7,800,000/3,900 + 37,500/3.75
WON = 10_000 + 10_000 + 10_000 + 2_000 + 2_000 + 10_000


def write_money_world(folder: Path) -> list[Path]:
    """Canonical CSV files of the company: opportunities, their history, the rates."""
    folder.mkdir(parents=True, exist_ok=True)
    opps = folder / "opportunities.csv"
    lines = ["opportunity_id,amount,currency,stage,created_at,close_date,is_closed,is_won"]
    lines += [f"{i},{a},{c},{s},{d - dt.timedelta(days=40)} 09:00:00,{d},{str(cl).lower()},"
              f"{str(w).lower()}" for i, c, a, d, s, cl, w in DEALS]
    opps.write_text("\n".join(lines) + "\n", encoding="utf-8")
    history = folder / "stage_transitions.csv"
    lines = ["entity_type,entity_id,to_stage,occurred_at,amount"]
    for i, _, a, d, s, *_ in DEALS:
        lines.append(f"opportunity,{i},Qualification,{d - dt.timedelta(days=40)} 09:00:00,"
                     f"{a / 2}")
        lines.append(f"opportunity,{i},{s},{d} 17:00:00,{a}")
    history.write_text("\n".join(lines) + "\n", encoding="utf-8")
    rates = folder / "currency_rates.csv"
    lines = ["currency,rate,start_date,next_start_date,is_corporate"]
    lines += [f"{c},{r},{s or ''},{n or ''},{str(c == 'USD').lower()}" for c, r, s, n in RATES]
    rates.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return [opps, history, rates]
