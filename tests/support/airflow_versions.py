"""Skip markers for tests that need a newer Airflow than the one installed; each says why.

``make test`` runs the suite on the latest patch of 2.11, 3.0, 3.1, 3.2 and 3.3. A feature test
skipped on an older minor has a counterpart that pins down what that minor does instead (e.g. a
retry starts a second job). Only ``once_on_latest_airflow`` tests have none: they do not depend
on the Airflow version at all.
"""

from __future__ import annotations

import importlib.util

import pytest

from airflow_jobs_provider.version_compat import AIRFLOW_V_3_0_PLUS, AIRFLOW_V_3_2_PLUS, AIRFLOW_V_3_3_PLUS

AIRFLOW_3_0_OR_3_1 = AIRFLOW_V_3_0_PLUS and not AIRFLOW_V_3_2_PLUS

needs_resumable_jobs = pytest.mark.skipif(
    not AIRFLOW_V_3_3_PLUS,
    reason="Airflow 3.3+: resumable jobs (the task state store a retried task reconnects through)",
)
before_resumable_jobs = pytest.mark.skipif(
    AIRFLOW_V_3_3_PLUS, reason="Airflow < 3.3 behaviour (no task state store); 3.3+ reconnects, tested separately"
)
needs_trigger_on_kill = pytest.mark.skipif(
    not AIRFLOW_V_3_3_PLUS,
    reason="Airflow 3.3+: the triggerer calls BaseTrigger.on_kill when a user kills a deferred task",
)
only_airflow_2 = pytest.mark.skipif(AIRFLOW_V_3_0_PLUS, reason="Airflow 2 behaviour; Airflow 3 has its own test")
only_airflow_3 = pytest.mark.skipif(not AIRFLOW_V_3_0_PLUS, reason="Airflow 3 behaviour; Airflow 2 has its own test")
once_on_latest_airflow = pytest.mark.skipif(
    not AIRFLOW_V_3_3_PLUS,
    reason="does not depend on the Airflow version and is costly (own client venv, soak): run once, in the 3.3 pass",
)
needs_connection_form_loader = pytest.mark.skipif(
    AIRFLOW_3_0_OR_3_1 and importlib.util.find_spec("flask_appbuilder") is None,
    reason="Airflow 3.0/3.1: provider connection-form fields load only with flask_appbuilder (the FAB provider),"
    " which is not installed; 3.2+ reads conn-fields, 2.11 has FAB built in",
)
keeps_a_connection_whose_extra_is_not_json = pytest.mark.skipif(
    AIRFLOW_3_0_OR_3_1,
    reason="Airflow 3.0/3.1 drop a connection whose extra is not JSON before the provider sees it;"
    " test_bad_input.py pins that separately",
)
only_airflow_3_0_and_3_1 = pytest.mark.skipif(not AIRFLOW_3_0_OR_3_1, reason="Airflow 3.0/3.1 behaviour")
