"""The canonical revenue model: the build (staging → intermediate → marts) as named steps.

* :mod:`revloop.model.tables` — the name of every table the build writes;
* :mod:`revloop.model.steps` — the step framework: each step declares the tables it reads,
  and :func:`~revloop.model.steps.plan` derives the order;
* :mod:`revloop.model.staging` — ``stg_<entity>`` from ``raw_<entity>``;
* :mod:`revloop.model.identity` — identity resolution (``int_*``), see ``docs/identity.md``;
* :mod:`revloop.model.marts` — the marts analytics read;
* :mod:`revloop.model.build` — runs the steps against a store.
"""
