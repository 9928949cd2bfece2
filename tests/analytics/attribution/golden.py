"""The golden path set of issue 5 and its independently published figures."""

from __future__ import annotations

from pathlib import Path

from revloop.analytics.attribution.paths import Journeys, from_sequences

GOLDEN_CSV = """path,conversions,nulls,value
paid_search>email>direct,3,5,300
social>paid_search,1,9,80
email,2,4,150
display>social>email>email,1,6,120
organic>direct,2,2,210
paid_search,0,10,0
display>display>paid_search>direct,1,3,95
social,0,7,0
organic>email>paid_search>social>direct,2,1,400
email>organic,1,4,60
"""

P_CONVERSION = 0.203125
REMOVAL_EFFECTS = {"direct": 0.615385, "email": 0.595145, "paid_search": 0.399444,
                   "social": 0.359826, "organic": 0.260595, "display": 0.145179}
MARKOV = {"direct": 3.367609, "email": 3.256850, "paid_search": 2.185903, "social": 1.969099,
          "organic": 1.426069, "display": 0.794471}
SHAPLEY = {"email": 4.233333, "direct": 2.733333, "paid_search": 2.233333, "organic": 1.9,
           "social": 1.233333, "display": 0.666667}
LINEAR = {"email": 4.4, "direct": 2.65, "paid_search": 2.15, "organic": 1.9, "social": 1.15,
          "display": 0.75}


def golden_rows() -> list[tuple[list[str], float, float, float]]:
    rows = []
    for line in GOLDEN_CSV.strip().splitlines()[1:]:
        path, conv, nulls, value = line.split(",")
        rows.append((path.split(">"), float(conv), float(nulls), float(value)))
    return rows


def golden_journeys() -> Journeys:
    rows = golden_rows()
    return from_sequences([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows],
                          [r[3] for r in rows])


def write_golden(folder: Path) -> Path:
    path = folder / "golden_paths.csv"
    path.write_text(GOLDEN_CSV, encoding="utf-8")
    return path
