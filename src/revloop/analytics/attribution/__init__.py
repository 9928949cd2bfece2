"""Attribution and influenced revenue: rule-based and data-driven models on one journey form.

Where things are: ``request`` (what a run is asked for), ``runner`` (``run`` on the store,
``run_paths`` on a path file), ``result`` (the typed result), ``catalog`` (every model by
name), ``paths`` (journeys in memory and their transforms), ``heuristics`` (first, last, last
non-direct, linear, time decay, U/W/full-path and custom milestone weights), ``markov`` (exact
order 1–4), ``shapley`` (Zhao et al. closed form, unordered and ordered), ``bootstrap``
(confidence intervals), ``compare`` (model-comparison table), ``pathfile`` (aggregated path
files), ``journeys`` (journeys from the store, in Ibis), ``spend`` (cost metrics), ``truth``
(recovery of the generator's true effects), ``plotting`` (charts).
"""
