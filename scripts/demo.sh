#!/usr/bin/env bash
# The demo: a synthetic B2B company with known ground truth, generated, imported through the
# canonical importer into a fresh DuckDB store, built and summarised; then the public real
# data sets through their mapping files into a second store.
set -euo pipefail
datasets=${1:-../shared/datasets}
scale=${DEMO_SCALE:-0.05}
revloop=.venv/bin/revloop
db="duckdb:///out/demo.duckdb"
mkdir -p out
rm -rf out/company out/demo.duckdb out/demo.duckdb.wal out/real.duckdb out/real.duckdb.wal

echo "== A synthetic company (scale $scale, seed 1): files, import, build, ground truth"
$revloop generate --scale "$scale" --seed 1 --out out/company --db "$db"
echo; echo "== Importing the same files again changes nothing"
$revloop --db "$db" import canonical out/company/*.parquet --json \
  | .venv/bin/python -c 'import json, sys; d = json.load(sys.stdin); print("read {read:,}  stored {stored:,}  duplicates {duplicates:,}  quarantined {quarantined:,}".format(**d))'
echo
$revloop --db "$db" status
echo; echo "== The integrated funnel, account level (buying groups)"
$revloop --db "$db" funnel --level account
echo; echo "== Attribution: which channels earned the pipeline (account level, 90-day lookback), against the truth"
$revloop --db "$db" attribute -m last_touch,last_non_direct,w_shaped,markov,shapley --lookback-days 90
echo; echo "== Scoring: rule-based lead scores, predictive models, 6QA against the MQL threshold"
$revloop --db "$db" score rules --rules examples/scoring.yaml --json > /dev/null
$revloop --db "$db" score train --json > /dev/null
$revloop --db "$db" score apply --json > /dev/null
$revloop --db "$db" score evaluate accounts --rules examples/scoring.yaml --json \
  | .venv/bin/python scripts/demo_scoring_summary.py

if [ -d "$datasets" ]; then
  real="duckdb:///out/real.duckdb"
  echo; echo "== Real public data: Olist marketing funnel, Maven CRM, X Education leads"
  $revloop --db "$real" import mapped "$datasets"/olist_marketing_funnel/*.csv --mapping examples/olist.yaml
  $revloop --db "$real" import mapped "$datasets"/maven_crm_sales_opportunities/{accounts,sales_teams,sales_pipeline}.csv --mapping examples/maven_crm.yaml
  $revloop --db "$real" import mapped "$datasets/x_education_lead_scoring/Leads.csv" --mapping examples/x_education.yaml
  $revloop --db "$real" build
else
  echo "(the public data sets are not at $datasets; set DATASETS=... to include them)"
fi
echo
echo "Stores: out/demo.duckdb (synthetic company, truth_* tables beside the marts) and out/real.duckdb."
echo "Files:  out/company/ (canonical Parquet, truth/ and manifest.json). Try:"
echo "  .venv/bin/revloop --db $db quarantine list"
