"""Provider metadata Airflow reads through the ``apache_airflow_provider`` entry point."""

from __future__ import annotations

from typing import Any

UI_FIELD_BEHAVIOUR: dict[str, Any] = {
    "hidden-fields": ["schema"],
    "relabeling": {"host": "Base URL", "login": "Login / client id", "password": "API token / secret"},
    "placeholders": {
        "host": "https://api.tinybird.co",
        "password": "token sent as the API expects it (Bearer header, X-Api-Key, ...)",
        "extra": '{"api": "tinybird"}',
    },
}

CONN_FIELDS: dict[str, Any] = {
    "api": {
        "label": "API",
        "description": "Which jobs API this connection speaks",
        "schema": {
            "type": "string",
            "default": "tinybird",
            "enum": ["tinybird", "rest", "keboola", "airbyte", "faktory"],
        },
    },
}


def get_provider_info() -> dict[str, Any]:
    return {
        "package-name": "airflow-jobs-provider",
        "name": "Jobs API",
        "description": (
            "Start background jobs on Tinybird, Keboola, Airbyte, Faktory and any REST jobs API, "
            "and watch them to the end."
        ),
        "versions": ["0.1.0"],
        "integrations": [
            {
                "integration-name": "Jobs API",
                "external-doc-url": "https://www.tinybird.co/docs/api-reference/jobs-api",
                "tags": ["service"],
            }
        ],
        "hooks": [{"integration-name": "Jobs API", "python-modules": ["airflow_jobs_provider.hooks.jobs"]}],
        "operators": [{"integration-name": "Jobs API", "python-modules": ["airflow_jobs_provider.operators.jobs"]}],
        "sensors": [{"integration-name": "Jobs API", "python-modules": ["airflow_jobs_provider.sensors.jobs"]}],
        "triggers": [{"integration-name": "Jobs API", "python-modules": ["airflow_jobs_provider.triggers.jobs"]}],
        "connection-types": [
            {
                "hook-class-name": "airflow_jobs_provider.hooks.jobs.JobsHook",
                "connection-type": "jobs",
                "hook-name": "Jobs API",
                "conn-fields": CONN_FIELDS,
                "ui-field-behaviour": UI_FIELD_BEHAVIOUR,
            }
        ],
        "extra-links": ["airflow_jobs_provider.operators.jobs.JobLink"],
    }
