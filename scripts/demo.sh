#!/usr/bin/env bash
# The demo: a fresh DuckDB store, the three real data sets through their mapping files,
# the model build, and a summary of what is there.
set -euo pipefail
datasets=${1:-../shared/datasets}
revloop=.venv/bin/revloop
db="duckdb:///out/demo.duckdb"
mkdir -p out
rm -f out/demo.duckdb out/demo.duckdb.wal

if [ ! -d "$datasets" ]; then
  echo "The real data sets are not at $datasets (set DATASETS=...)." >&2
  exit 1
fi
$revloop --db "$db" init
echo; echo "== Olist marketing funnel (leads, first touches, won deals)"
$revloop --db "$db" import mapped "$datasets"/olist_marketing_funnel/*.csv --mapping examples/olist.yaml
echo; echo "== Maven CRM (accounts, sales teams, opportunities)"
$revloop --db "$db" import mapped "$datasets"/maven_crm_sales_opportunities/{accounts,sales_teams,sales_pipeline}.csv --mapping examples/maven_crm.yaml
echo; echo "== X Education leads (all attributes + converted outcome)"
$revloop --db "$db" import mapped "$datasets/x_education_lead_scoring/Leads.csv" --mapping examples/x_education.yaml
echo; echo "== Importing the Olist files again changes nothing"
$revloop --db "$db" import mapped "$datasets"/olist_marketing_funnel/*.csv --mapping examples/olist.yaml --json \
  | .venv/bin/python -c 'import json, sys; d = json.load(sys.stdin); print("read {read:,}  stored {stored:,}  duplicates {duplicates:,}  quarantined {quarantined:,}".format(**d))'
echo; echo "== Build"
$revloop --db "$db" build
echo
$revloop --db "$db" status
echo
echo "Demo store: out/demo.duckdb — try:  .venv/bin/revloop --db $db quarantine list"
