"""Which adapter speaks the API a connection names."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airflow_jobs_provider.apis.airbyte.api import AirbyteApi
from airflow_jobs_provider.apis.base import JobsApi
from airflow_jobs_provider.apis.faktory.api import FaktoryApi
from airflow_jobs_provider.apis.keboola import KeboolaApi
from airflow_jobs_provider.apis.rest import RestApi
from airflow_jobs_provider.apis.settings import ApiSettings
from airflow_jobs_provider.apis.tinybird import TinybirdApi
from airflow_jobs_provider.exceptions import JobsConfigError

API_CLASSES: dict[str, type[JobsApi[Any, Any]]] = {
    TinybirdApi.name: TinybirdApi,
    RestApi.name: RestApi,
    FaktoryApi.name: FaktoryApi,
    AirbyteApi.name: AirbyteApi,
    KeboolaApi.name: KeboolaApi,
}


def build_api(settings: ApiSettings, status_overrides: Mapping[str, str] | None = None) -> JobsApi[Any, Any]:
    try:
        api_class = API_CLASSES[settings.api]
    except KeyError:
        raise JobsConfigError(
            f"connection {settings.conn_id!r} names api {settings.api!r}, which this provider does not "
            f"speak; use one of {', '.join(sorted(API_CLASSES))}"
        ) from None
    return api_class(settings, status_overrides)
