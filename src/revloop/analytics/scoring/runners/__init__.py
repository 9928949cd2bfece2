"""The scoring runners, one module each: ``rules`` (rule-based lead scores and the rules-file
check), ``train``, ``apply``, ``evaluate``, ``explain`` and ``models`` (the stored versions).
Each exposes ``run(store, request, context)``; requests are in
:mod:`revloop.analytics.scoring.requests`, results in :mod:`revloop.analytics.scoring.results`.
"""
