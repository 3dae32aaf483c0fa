"""An Airbyte connection's record (public API ``GET /connections/{id}``) read for links and lineage.

The record names the workspace (the web app's URLs need it), the source, the destination and
the configured streams. The web app's base is the connection's ``ui_url`` extra, else the one
the API host implies: ``https://cloud.airbyte.com`` for ``https://api.airbyte.com/v1``, and
``http://HOST:8000`` for a self-managed ``http://HOST:8000/api/public/v1``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from airflow_jobs_provider.apis.lineage import Dataset, JobLineage, unique
from airflow_jobs_provider.apis.links import UI_URL_EXTRA, UnsafeUrlError, checked_url, host_of
from airflow_jobs_provider.apis.settings import ApiSettings

CLOUD_API_HOST = "api.airbyte.com"
CLOUD_WEB_APP = "https://cloud.airbyte.com"
PUBLIC_API_PATH = "/api/public/v1"
UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
STATISTICS = ("rowsSynced", "bytesSynced", "duration")


def web_app_url(settings: ApiSettings) -> str | None:
    """The web app's base URL, or None when the API host implies none (set extra ``ui_url``)."""
    given = settings.extras.get(UI_URL_EXTRA)
    if given:
        return checked_url(given, f"connection {settings.conn_id!r} extra {UI_URL_EXTRA!r}").rstrip("/")
    base = settings.base_url.rstrip("/")
    if host_of(base) == CLOUD_API_HOST:
        return CLOUD_WEB_APP
    if base.endswith(PUBLIC_API_PATH):
        return base[: -len(PUBLIC_API_PATH)]
    return None


def timeline_url(web: str, record: Mapping[str, Any], connection_id: str) -> tuple[str | None, str | None]:
    """``{web}/workspaces/{workspaceId}/connections/{connectionId}/timeline``, or None and why not."""
    workspace = record.get("workspaceId")
    if not isinstance(workspace, str) or not UUID.fullmatch(workspace):
        return None, f"airbyte's connection {connection_id} names no workspace UUID ({str(workspace)[:80]!r})"
    if not UUID.fullmatch(connection_id):
        return None, f"airbyte connection id {connection_id[:80]!r} is not a UUID"
    try:
        return checked_url(f"{web}/workspaces/{workspace}/connections/{connection_id}/timeline", "airbyte's page"), None
    except UnsafeUrlError as error:
        return None, str(error)


def lineage(base_url: str, record: Mapping[str, Any], job: Mapping[str, Any]) -> JobLineage:
    """Each configured stream read from the source and written to the destination.

    Namespaces ``airbyte://<API host>/sources/<sourceId>`` and ``.../destinations/<destinationId>``;
    a name is the stream's (``<stream namespace>.<stream>`` when it has one); on the destination
    side the connection's ``prefix`` and namespace rule apply, as Airbyte writes the tables.
    """
    host = host_of(base_url) or CLOUD_API_HOST
    source, destination = record.get("sourceId"), record.get("destinationId")
    configurations = record.get("configurations")
    streams = configurations.get("streams") if isinstance(configurations, Mapping) else []
    inputs: list[Dataset] = []
    outputs: list[Dataset] = []
    for stream in streams if isinstance(streams, list) else []:
        name = stream.get("name") if isinstance(stream, Mapping) else None
        if not isinstance(name, str) or not name:
            continue
        namespace = stream.get("namespace") if isinstance(stream.get("namespace"), str) else None
        if isinstance(source, str) and UUID.fullmatch(source):
            inputs.append(Dataset(f"airbyte://{host}/sources/{source}", f"{namespace}.{name}" if namespace else name))
        if isinstance(destination, str) and UUID.fullmatch(destination):
            written = f"{record.get('prefix') or ''}{name}"
            target = _destination_namespace(record, namespace)
            written = f"{target}.{written}" if target else written
            outputs.append(Dataset(f"airbyte://{host}/destinations/{destination}", written))
    statistics = {key: job[key] for key in STATISTICS if isinstance(job.get(key), (int, float, str))}
    return JobLineage(unique(inputs), unique(outputs), statistics, source="airbyte connection")


def _destination_namespace(record: Mapping[str, Any], stream_namespace: str | None) -> str | None:
    rule = record.get("namespaceDefinition")
    if rule == "source":
        return stream_namespace
    if rule == "custom_format" and isinstance(record.get("namespaceFormat"), str):
        return record["namespaceFormat"].replace("${SOURCE_NAMESPACE}", stream_namespace or "") or None
    return None
