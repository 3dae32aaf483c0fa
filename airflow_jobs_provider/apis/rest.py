"""A jobs API described entirely in the connection's extras, so any other API works with no code.

Example extra (the emulator's Acme Batch API)::

    {"api": "rest",
     "start": "POST /acme/v2/runs", "get": "GET /acme/v2/runs/{job_id}",
     "cancel": "POST /acme/v2/runs/{job_id}/abort", "list": "GET /acme/v2/runs",
     "job_root": "run", "list_root": "runs",
     "id_field": "id", "state_field": "state", "message_field": "error",
     "progress_field": "progress", "url_field": "links.ui",
     "states": {"QUEUED": "PENDING", "RUNNING": "RUNNING", "ABORTING": "RUNNING",
                "SUCCEEDED": "SUCCEEDED", "FAILED": "FAILED", "ABORTED": "CANCELLED"},
     "auth_header": "X-Api-Key", "auth_scheme": ""}

Links: ``url_field`` names the job's web page (the "Job" button), checked as untrusted input and
kept to the hosts of extra ``link_hosts`` when that is given; ``job_api_url`` is the ``get``
endpoint. Lineage: extras ``inputs_field`` / ``outputs_field`` name lists of datasets in the job
answer, each ``{"namespace", "name"}`` or a URI ``scheme://authority/path``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from airflow_jobs_provider.apis.base import CANCEL_REFUSED, HttpJobsApi, answer
from airflow_jobs_provider.apis.exchange import Exchange, Request, Response
from airflow_jobs_provider.apis.job import Job, JobStatus
from airflow_jobs_provider.apis.lineage import Dataset, JobLineage, dataset_from, unique
from airflow_jobs_provider.apis.links import JobLinks, checked_or_none
from airflow_jobs_provider.apis.settings import ApiSettings
from airflow_jobs_provider.apis.values import dig, progress_value, quote_job_id
from airflow_jobs_provider.exceptions import JobsApiError, JobsConfigError

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
REQUIRED = ("start", "get", "id_field", "state_field", "states")
OPTIONAL_PATHS = (
    "job_root", "list_root", "message_field", "progress_field", "url_field", "inputs_field", "outputs_field",
)  # fmt: skip


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str

    @classmethod
    def parse(cls, text: Any, name: str, conn_id: str) -> Endpoint:
        words = text.split() if isinstance(text, str) else []
        if len(words) != 2 or words[0].upper() not in METHODS or not words[1].startswith("/"):
            raise JobsConfigError(
                f"connection {conn_id!r}: extra {name!r} must read 'METHOD /path', e.g. "
                f"'GET /v1/jobs/{{job_id}}'; got {text!r}"
            )
        return cls(words[0].upper(), words[1])

    def path_for(self, job_id: str | None = None) -> str:
        if "{job_id}" in self.path:
            if job_id is None:
                raise JobsConfigError(f"path {self.path} names {{job_id}} but this call has no job")
            return self.path.replace("{job_id}", quote_job_id(job_id))
        return self.path


class RestApi(HttpJobsApi):
    name = "rest"

    def __init__(self, settings: ApiSettings, status_overrides: Mapping[str, str] | None = None):
        extras = settings.extras
        conn_id = settings.conn_id
        missing = [key for key in REQUIRED if not extras.get(key)]
        if missing:
            raise JobsConfigError(
                f"connection {conn_id!r} (api 'rest') lacks extra {', '.join(missing)}; "
                "see the README's 'Declarative REST API' section for a complete example"
            )
        self.states = _state_table(extras["states"], conn_id)
        super().__init__(settings, status_overrides)
        self.endpoints = {
            name: Endpoint.parse(extras[name], name, conn_id)
            for name in ("start", "get", "cancel", "list")
            if extras.get(name)
        }
        if "{job_id}" not in self.endpoints["get"].path:
            raise JobsConfigError(f"connection {conn_id!r}: extra 'get' must contain {{job_id}} in its path")
        for key in ("id_field", "state_field", *OPTIONAL_PATHS):
            if key in extras and not isinstance(extras[key], str):
                raise JobsConfigError(f"connection {conn_id!r}: extra {key!r} must be a dotted path string")
        self.fields = {key: extras.get(key) or "" for key in ("id_field", "state_field", *OPTIONAL_PATHS)}
        hosts = extras.get("link_hosts")
        if hosts is not None and (not isinstance(hosts, list) or not all(isinstance(h, str) and h for h in hosts)):
            raise JobsConfigError(f"connection {conn_id!r}: extra 'link_hosts' must be a list of host names")
        self.link_hosts = [host.lower() for host in hosts] if hosts is not None else None
        self.auth_header = str(extras.get("auth_header") or "Authorization")
        self.auth_scheme = str(extras.get("auth_scheme", "Bearer") or "")

    def headers(self) -> dict[str, str]:
        if not self.settings.token:
            return {}
        value = f"{self.auth_scheme} {self.settings.token}" if self.auth_scheme else self.settings.token
        return {self.auth_header: value}

    def endpoint(self, operation: str) -> Endpoint:
        try:
            return self.endpoints[operation]
        except KeyError:
            raise JobsConfigError(
                f"connection {self.settings.conn_id!r} (api 'rest') has no {operation!r} endpoint: "
                f"add extra {operation!r}: 'METHOD /path'"
            ) from None

    def request(self, operation: str, job_id: str | None = None, **kwargs: Any) -> Request:
        endpoint = self.endpoint(operation)
        return Request(endpoint.method, endpoint.path_for(job_id), headers=self.headers(), **kwargs)

    def start_request(self, spec: Mapping[str, Any]) -> Request:
        return self.request("start", json=dict(spec), replayable=False)

    def parse_started(self, response: Response) -> Job:
        return self.job_from(self.json_object(response, "start a job"), None)

    def get_request(self, job_id: str) -> Request:
        return self.request("get", job_id)

    def parse_job(self, response: Response, job_id: str) -> Job:
        return self.job_from(self.json_object(response, f"read job {job_id}"), job_id)

    def list_request(self, filters: Mapping[str, Any]) -> Request:
        params = {key: str(value) for key, value in filters.items() if value is not None}
        return self.request("list", params=params)

    def parse_list(self, response: Response) -> list[Job]:
        items = dig(response.body, self.fields["list_root"]) if self.fields["list_root"] else response.body
        if not isinstance(items, list):
            raise JobsApiError(
                f"rest list answer has no array at {self.fields['list_root'] or '(top level)'}: "
                "set extra 'list_root' to the dotted path of the job array"
            )
        return [self.job_from({"_": item}, None, root="_") for item in items]

    def cancel_request(self, job_id: str) -> Request:
        return self.request("cancel", job_id)

    def cancel_job(self, job_id: str) -> Exchange[Job]:
        response = yield self.cancel_request(job_id)
        if response.status in CANCEL_REFUSED:
            return (yield from self.cancel_refused(response, job_id))
        self.checked(response, "cancel", job_id)
        if isinstance(response.body, Mapping) and dig(response.body, self._path("state_field")) is not None:
            return self.parse_job(response, job_id)
        # Many APIs answer a cancel with 202/204 and no job: read the job back instead of guessing.
        current = yield self.get_request(job_id)
        return self.parse_job(self.checked(current, "read", job_id), job_id)

    def probe(self) -> Exchange[str]:
        if "list" in self.endpoints:
            return (yield from super().probe())
        return f"Connection {self.settings.conn_id!r} is configured (no 'list' endpoint to call)"

    def job_from(self, body: Mapping[str, Any], job_id: str | None, root: str | None = None) -> Job:
        root = self.fields["job_root"] if root is None else root
        document = dig(body, root) if root else body
        if not isinstance(document, Mapping):
            raise JobsApiError(f"rest answer has no job object at {root!r}: check extra 'job_root'")
        found_id = dig(document, self.fields["id_field"])
        if found_id in (None, "") and job_id is None:
            raise JobsApiError(
                f"rest answer has no job id at {self.fields['id_field']!r}: check extra 'id_field' "
                f"(answer: {str(document)[:200]})"
            )
        the_id = str(found_id) if found_id not in (None, "") else str(job_id)
        raw = dig(document, self.fields["state_field"])
        if raw is None or isinstance(raw, (dict, list)):
            raise JobsApiError(
                f"rest answer for job {the_id} has no state at {self.fields['state_field']!r}: "
                "check extra 'state_field'"
            )
        message = dig(document, self.fields["message_field"]) if self.fields["message_field"] else None
        url = dig(document, self.fields["url_field"]) if self.fields["url_field"] else None
        progress = dig(document, self.fields["progress_field"]) if self.fields["progress_field"] else None
        return Job(
            job_id=the_id,
            status=self.resolve(raw, the_id),
            raw_status=str(raw),
            url=str(url) if url else None,
            progress=progress_value(progress),
            message=str(message) if message else None,
            payload=dict(document),
        )

    def job_links(self, job: Job) -> Exchange[JobLinks]:
        problems: list[str] = []
        page = checked_or_none(job.url, f"rest {self.fields['url_field']!r}", self.link_hosts, problems)
        api = f"{self.settings.base_url}{self.endpoint('get').path_for(job.job_id)}"
        return (yield from answer(JobLinks(page=page, api=api, problems=tuple(problems))))

    def job_lineage(self, job: Job, spec: Mapping[str, Any] | None = None) -> Exchange[JobLineage]:
        return (yield from answer(JobLineage(self._datasets(job, "inputs_field"), self._datasets(job, "outputs_field"),
                                             source="rest answer")))

    def _datasets(self, job: Job, key: str) -> tuple[Dataset, ...]:
        if not self.fields[key]:
            return ()
        found = dig(job.payload, self.fields[key])
        items = found if isinstance(found, list) else [found] if found is not None else []
        return unique([dataset for item in items if (dataset := dataset_from(item)) is not None])

    def _path(self, key: str) -> str:
        root = self.fields["job_root"]
        return f"{root}.{self.fields[key]}" if root else self.fields[key]


def _state_table(states: Any, conn_id: str) -> dict[str, JobStatus]:
    if not isinstance(states, Mapping) or not states:
        raise JobsConfigError(
            f"connection {conn_id!r}: extra 'states' must map each raw state to one of PENDING, RUNNING, "
            "SUCCEEDED, FAILED, CANCELLED"
        )
    table: dict[str, JobStatus] = {}
    for raw, canonical in states.items():
        try:
            table[str(raw)] = JobStatus.parse(canonical)
        except ValueError as exc:
            raise JobsConfigError(f"connection {conn_id!r}: extra states[{raw!r}]: {exc}") from None
    if JobStatus.SUCCEEDED not in table.values():
        raise JobsConfigError(f"connection {conn_id!r}: extra 'states' maps no raw state to SUCCEEDED")
    return table
