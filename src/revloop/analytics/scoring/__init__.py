"""Lead and account scoring: rule-based lead scores and predictive models (6QA).

Where things are: ``requests`` / ``results`` (what each run is asked for and gives back),
``runners/`` (``rules``, ``train``, ``apply``, ``evaluate``, ``explain``, ``models``: one
runner each), ``catalog`` (the models by name), ``rules/`` (the rules file: parsing and
validation), ``rules_engine`` and ``conditions`` (rule scores in Ibis), ``features_contact`` /
``features_account`` / ``features_opportunity`` (point-in-time features in Ibis),
``estimator`` (LightGBM with calibration and TreeSHAP reasons), ``training``, ``evaluation``,
``apply`` (scoring with stored models), ``model_store`` and ``model_card`` (versions and cards),
``buckets`` (grades, buying stages, 6QA), ``metrics``, ``calibration``, ``asof`` (points in
time), ``json_attributes`` (custom-attribute profiles), ``plotting``.
"""
