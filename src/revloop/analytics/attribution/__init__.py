"""Attribution and influenced revenue: rule-based and data-driven models on one journey form.

Where things are: ``paths`` (journeys in memory and their transforms), ``heuristics`` (first,
last, last non-direct, linear, time decay, U/W/full-path and custom milestone weights),
``markov`` (exact order 1–4), ``shapley`` (Zhao et al. closed form, unordered and ordered),
``bootstrap`` (confidence intervals), ``compare`` (model-comparison table), ``pathfile``
(aggregated path files), ``journeys`` (journeys from the store, in Ibis), ``spend`` (cost
metrics), ``runner`` (typed request in, typed result out), ``plotting`` (charts).
"""
