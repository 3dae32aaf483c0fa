"""JobsHook: start, read, list and cancel jobs on the API a ``jobs`` connection names.

Sync methods (requests) serve workers; ``a``-prefixed methods (aiohttp) serve the triggerer and
need ``async with hook:`` so that one HTTP session lives as long as the trigger does.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from functools import cached_property
from typing import Any, Protocol

from airflow.providers.common.compat.sdk import BaseHook

from airflow_jobs_provider.apis.base import BatchResult, HttpJobsApi, JobsApi
from airflow_jobs_provider.apis.exchange import arun_exchange, run_exchange
from airflow_jobs_provider.apis.job import Job
from airflow_jobs_provider.apis.lineage import JobLineage
from airflow_jobs_provider.apis.links import JobLinks
from airflow_jobs_provider.apis.paging import ListWindow
from airflow_jobs_provider.apis.registry import build_api
from airflow_jobs_provider.apis.settings import CONN_TYPE, DEFAULT_CONN_ID, ApiSettings
from airflow_jobs_provider.apis.starting import StartOptions, StartOutcome, arun_plan, run_plan
from airflow_jobs_provider.apis.starting import start as start_plan
from airflow_jobs_provider.apis.story import StoryPage
from airflow_jobs_provider.exceptions import JobsError
from airflow_jobs_provider.hooks.http import AsyncTransport, SyncTransport
from airflow_jobs_provider.hooks.retry import RetryPolicy
from airflow_jobs_provider.hooks.shared_setup import Setup, SetupLease, lease_setup
from airflow_jobs_provider.version_compat import AIRFLOW_V_3_1_PLUS


class SyncSender(Protocol):
    """A sync transport: HTTP (hooks/http.py) or Faktory's TCP protocol (hooks/faktory.py)."""

    @property
    def session(self) -> Any: ...

    def send(self, message: Any, /) -> Any: ...


class AsyncSender(Protocol):
    """The async twin of SyncSender, for the triggerer."""

    async def send(self, message: Any, /) -> Any: ...

    async def close(self) -> None: ...


class JobsHook(BaseHook):
    """
    Talk to a jobs API through an Airflow connection of type ``jobs``.

    :param jobs_conn_id: connection whose host is the API's base URL (Faktory: its ``tcp://``
        address), password the token and extra ``api`` the API (``tinybird``, ``keboola``,
        ``airbyte``, ``faktory`` or ``rest``).
    :param status_overrides: raw state → canonical state, on top of the API's own table.
    :param retry_policy: how transient failures are retried (the same for sync and async); by
        default the one the connection's ``retry_*`` extras describe.
    """

    conn_name_attr = "jobs_conn_id"
    default_conn_name = DEFAULT_CONN_ID
    conn_type = CONN_TYPE
    hook_name = "Jobs API"

    def __init__(
        self,
        jobs_conn_id: str = DEFAULT_CONN_ID,
        *,
        status_overrides: Mapping[str, str] | None = None,
        retry_policy: RetryPolicy | None = None,
    ) -> None:
        super().__init__()
        self.jobs_conn_id = jobs_conn_id
        self.status_overrides = dict(status_overrides or {})
        self._retry_policy = retry_policy
        self._settings: ApiSettings | None = None
        self._async: AsyncSender | None = None
        self._lease: SetupLease | None = None

    # -- connection
    @property
    def settings(self) -> ApiSettings:
        if self._settings is None:
            self._settings = self._read_settings(self.get_connection(self.jobs_conn_id))
        return self._settings

    def _read_settings(self, conn: Any) -> ApiSettings:
        settings = ApiSettings.from_connection(conn)
        if settings.token:
            from airflow.providers.common.compat.sdk import mask_secret

            mask_secret(settings.token)
        return settings

    @property
    def retry_policy(self) -> RetryPolicy:
        """The policy given to the hook, else the one the connection's ``retry_*`` extras describe."""
        if self._retry_policy is None:
            self._retry_policy = RetryPolicy(**self.settings.retry)  # type: ignore[arg-type]
        return self._retry_policy

    @cached_property
    def api(self) -> JobsApi[Any, Any]:
        api = build_api(self.settings, self.status_overrides)
        api.on_secret = _mask_secret  # e.g. Airbyte's access tokens, minted while the task runs
        return api

    # -- sync (workers)
    @cached_property
    def _sync(self) -> SyncSender:
        sync_transport, _ = _transports_for(self.api)
        return sync_transport(self.settings, self.retry_policy)

    def get_conn(self) -> Any:
        """The requests.Session every sync call of this hook reuses."""
        return self._sync.session

    def start_job(self, spec: Mapping[str, Any], *, if_running: str = "start", resolve_uncertain: bool = True) -> Job:
        """Start a job; see ``start`` (this returns only the job)."""
        return self.start(spec, if_running=if_running, resolve_uncertain=resolve_uncertain).job

    def start(
        self, spec: Mapping[str, Any], *, if_running: str = "start", resolve_uncertain: bool = True
    ) -> StartOutcome:
        """Start a job, or join one of the same target that runs (``if_running``), and say how it went.

        A start that may have reached the API although its answer was lost is looked for by the API's
        filters (apis/starting.py); ``resolve_uncertain=False`` raises JobStartUncertainError at once.
        """
        options = StartOptions.from_settings(self.settings, resolve_uncertain=resolve_uncertain)
        plan = start_plan(self.api, spec, clock=time.time, options=options, if_running=if_running)
        return run_plan(plan, self._sync.send, time.sleep, self.log.info)

    def get_job(self, job_id: str) -> Job:
        return run_exchange(self.api.get_job(job_id), self._sync.send)

    def list_jobs(self, **filters: Any) -> list[Job]:
        return run_exchange(self.api.list_jobs(filters), self._sync.send)

    def list_window(self, filters: Mapping[str, Any], **window: Any) -> ListWindow:
        """The jobs of a time window of the list, over as many pages as it takes (``JobsApi.list_window``)."""
        return run_exchange(self.api.list_window(filters, **window), self._sync.send)

    def cancel_job(self, job_id: str) -> Job:
        return run_exchange(self.api.cancel_job(job_id), self._sync.send)

    def story(self, job: Job, cursor: Mapping[str, Any] | None = None) -> StoryPage:
        """What is new in the job's own story since ``cursor`` (its events, attempts, errors: apis/story.py)."""
        return run_exchange(self.api.story(job, cursor), self._sync.send)

    def job_links(self, job: Job) -> JobLinks:
        """The job's UI page and API resource (apis/links.py); records it needs are read once per hook."""
        return run_exchange(self.api.job_links(job), self._sync.send)

    def job_lineage(self, job: Job, spec: Mapping[str, Any] | None = None) -> JobLineage:
        """What the job read and wrote, for OpenLineage (``spec``: the start body, if known)."""
        return run_exchange(self.api.job_lineage(job, spec), self._sync.send)

    def test_connection(self) -> tuple[bool, str]:
        try:
            return True, run_exchange(self.api.probe(), self._sync.send)
        except JobsError as error:
            return False, str(error)

    # -- async (triggerer): ``async with JobsHook(...) as hook``
    async def __aenter__(self) -> JobsHook:
        if self._settings is None and self._retry_policy is None:
            # The hooks of one connection on the loop share its lookup, adapter and transport (hooks/shared_setup.py)
            key = (self.jobs_conn_id, tuple(sorted(self.status_overrides.items())))
            self._lease = await lease_setup(key, self._shared_setup)
        if self._lease is not None:
            setup = self._lease.setup
            self._settings = setup.settings
            if setup.transport is not None:
                self.__dict__["api"], self._retry_policy, self._async = setup.api, setup.policy, setup.transport
                return self
        if self._settings is None:
            self._settings = self._read_settings(await _aget_connection(self.jobs_conn_id))
        self._async = self._own_transport()
        return self

    async def _shared_setup(self) -> Setup:
        """What every hook of this connection may use: HTTP adapters and transports hold no per-job state."""
        settings = self._read_settings(await _aget_connection(self.jobs_conn_id))
        api = _async_api(settings, self.status_overrides)
        if not isinstance(api, HttpJobsApi):
            return Setup(settings)  # Faktory: a connection of its own per hook
        policy = RetryPolicy(**settings.retry)  # type: ignore[arg-type]
        return Setup(settings, api, policy, AsyncTransport(settings, policy))

    def _own_transport(self) -> AsyncSender:
        from airflow_jobs_provider.hooks.loop_shared import shared

        self.api.share(shared)  # e.g. one Airbyte access token for every trigger of the connection
        _, async_transport = _transports_for(self.api)
        return async_transport(self.settings, self.retry_policy)

    async def __aexit__(self, *exc_info: object) -> None:
        lease, self._lease = self._lease, None
        transport, self._async = self._async, None
        if lease is not None and transport is lease.setup.transport:
            await lease.release()  # the last hook out closes the shared transport
            return
        if lease is not None:
            await lease.release()
        if transport is not None:
            await transport.close()

    @property
    def _session(self) -> AsyncSender:
        if self._async is None:
            raise RuntimeError("use 'async with JobsHook(...) as hook:' before calling its async methods")
        return self._async

    async def astart_job(
        self, spec: Mapping[str, Any], *, if_running: str = "start", resolve_uncertain: bool = True
    ) -> Job:
        return (await self.astart(spec, if_running=if_running, resolve_uncertain=resolve_uncertain)).job

    async def astart(
        self, spec: Mapping[str, Any], *, if_running: str = "start", resolve_uncertain: bool = True
    ) -> StartOutcome:
        """The async twin of ``start``."""
        options = StartOptions.from_settings(self.settings, resolve_uncertain=resolve_uncertain)
        plan = start_plan(self.api, spec, clock=time.time, options=options, if_running=if_running)
        return await arun_plan(plan, self._session.send, asyncio.sleep, self.log.info)

    async def aget_job(self, job_id: str) -> Job:
        return await arun_exchange(self.api.get_job(job_id), self._session.send)

    async def aget_jobs(self, job_ids: Sequence[str]) -> dict[str, BatchResult]:
        """Several jobs in one request, on APIs with ``api.supports_batch_get`` (see ``JobsApi.get_jobs``)."""
        return await arun_exchange(self.api.get_jobs(job_ids), self._session.send)

    async def achanged_since(self, since: float | None, max_pages: int) -> ListWindow:
        """The jobs changed since ``since`` (API clock), on APIs with ``api.supports_changed_feed``."""
        return await arun_exchange(self.api.changed_since(since, max_pages), self._session.send)

    async def alist_jobs(self, **filters: Any) -> list[Job]:
        return await arun_exchange(self.api.list_jobs(filters), self._session.send)

    async def alist_window(self, filters: Mapping[str, Any], **window: Any) -> ListWindow:
        return await arun_exchange(self.api.list_window(filters, **window), self._session.send)

    async def acancel_job(self, job_id: str) -> Job:
        return await arun_exchange(self.api.cancel_job(job_id), self._session.send)

    async def astory(self, job: Job, cursor: Mapping[str, Any] | None = None) -> StoryPage:
        return await arun_exchange(self.api.story(job, cursor), self._session.send)

    async def ajob_links(self, job: Job) -> JobLinks:
        """The job's links in the triggerer (a task ended there logs its summary with the page)."""
        return await arun_exchange(self.api.job_links(job), self._session.send)

    # -- connection form before Airflow 3.2 (3.2+ reads conn-fields and ui-field-behaviour from provider info)
    @classmethod
    def get_connection_form_widgets(cls) -> dict[str, Any]:
        """The ``api`` field of provider info's ``conn-fields``, as a text box.

        Airflow 2.11 accepts only String, Password, Integer and Boolean fields: any other class
        (a SelectField) makes it drop the whole ``jobs`` connection type. So the choices are
        listed in the description and checked when the form is saved.
        """
        from flask_appbuilder.fieldwidgets import BS3TextFieldWidget
        from flask_babel import lazy_gettext
        from wtforms import StringField
        from wtforms.validators import AnyOf, Optional

        from airflow_jobs_provider.get_provider_info import CONN_FIELDS

        api = CONN_FIELDS["api"]
        names = list(api["schema"]["enum"])
        return {
            "api": StringField(
                lazy_gettext(api["label"]),
                description=f"{api['description']}: {', '.join(names)}",
                widget=BS3TextFieldWidget(),
                validators=[Optional(), AnyOf(names)],
                default=api["schema"]["default"],
            )
        }

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        """Provider info's ``ui-field-behaviour`` in the shape Airflow 2 validates: ``hidden_fields``."""
        from airflow_jobs_provider.get_provider_info import UI_FIELD_BEHAVIOUR

        return {key.replace("-", "_"): value for key, value in UI_FIELD_BEHAVIOUR.items()}


def _transports_for(api: JobsApi[Any, Any]) -> tuple[Callable[..., SyncSender], Callable[..., AsyncSender]]:
    """The sync and async transports that carry this API's messages: HTTP, or Faktory's protocol over TCP."""
    if isinstance(api, HttpJobsApi):
        return SyncTransport, AsyncTransport
    from airflow_jobs_provider.apis.faktory.api import FaktoryApi
    from airflow_jobs_provider.hooks.faktory import FaktoryAsyncTransport, FaktorySyncTransport

    if isinstance(api, FaktoryApi):
        return FaktorySyncTransport, FaktoryAsyncTransport
    raise TypeError(f"no transport carries the messages of {type(api).__name__}")


def _async_api(settings: ApiSettings, status_overrides: Mapping[str, str]) -> JobsApi[Any, Any]:
    """An adapter for the triggerer: the secrets masker hooked in, loop-shared state (tokens) taken."""
    from airflow_jobs_provider.hooks.loop_shared import shared

    api = build_api(settings, status_overrides)
    api.on_secret = _mask_secret
    api.share(shared)
    return api


def _mask_secret(secret: str) -> None:
    from airflow.providers.common.compat.sdk import mask_secret

    mask_secret(secret)


async def _aget_connection(conn_id: str) -> Any:
    """Resolve a connection without blocking the triggerer's event loop."""
    if AIRFLOW_V_3_1_PLUS:
        return await BaseHook.aget_connection(conn_id)
    return await asyncio.to_thread(BaseHook.get_connection, conn_id)  # Airflow 2.11 and 3.0: no async lookup
