"""Headline of `revloop score evaluate accounts --json` for the demo (reads stdin)."""

import json
import sys

doc = json.load(sys.stdin)
e = next(x for x in doc["evaluations"] if x["model"] == "in_market")
six_qa, mql = e["comparison"]["6qa"], e["baseline"]["mql_flag"]
truth, m = e["truth"] or {}, e["metrics"]
print(f"In-market model, out of time: AUC {m['auc']:.3f}, ECE {m['ece']:.3f}; "
      f"AUC against the true in-market windows {truth.get('in_market_auc_vs_truth', 0):.3f}.")
print(f"6QA accounts opened a deal within 90 days at {six_qa['rate']:.1%}, accounts over the MQL "
      f"threshold at {mql['rate']:.1%}: {six_qa['rate'] / max(mql['rate'], 1e-9):.1f}× "
      f"(the truth's ceiling: {truth.get('ceiling_ratio_vs_mql', 0):.1f}×).")
