"""When a watch reads the job's story (tasks/story_pace.py, tasks/story.py): a story that costs
requests is read at the first look, on a change of state, at the end, and once per story interval;
one the job answer carries is read at every poll. Real API adapters, a counting stand-in for the hook."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import pytest

from airflow_jobs_provider.apis.base import JobsApi
from airflow_jobs_provider.apis.job import Job, JobStatus
from airflow_jobs_provider.apis.keboola import KeboolaApi
from airflow_jobs_provider.apis.links import JobLinks
from airflow_jobs_provider.apis.settings import ApiSettings
from airflow_jobs_provider.apis.story import StoryPage, story_interval_extra
from airflow_jobs_provider.apis.tinybird import TinybirdApi
from airflow_jobs_provider.exceptions import JobsConfigError
from airflow_jobs_provider.tasks import options
from airflow_jobs_provider.tasks.story import JobStory
from airflow_jobs_provider.tasks.story_pace import DEFAULT_STORY_INTERVAL, PACE_KEY, story_interval
from tests.support.api_settings import TOKEN, tinybird_settings


class StoryHook:
    """What JobStory asks of a hook: its API adapter, one story read (counted), the job's links."""

    def __init__(self, api: JobsApi[Any, Any]) -> None:
        self.api = api
        self.settings = api.settings
        self.cursors: list[Mapping[str, Any]] = []

    def job_links(self, job: Job) -> JobLinks:
        return JobLinks(page=f"https://connection.keboola.com/admin/projects/1/queue/{job.job_id}")

    def story(self, job: Job, cursor: Mapping[str, Any]) -> StoryPage:
        self.cursors.append(dict(cursor))
        return StoryPage((f"line {len(self.cursors)}",), {**cursor, "since": len(self.cursors)})


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def keboola(**extras: Any) -> KeboolaApi:
    return KeboolaApi(
        ApiSettings("k", "keboola", "https://queue.keboola.com", TOKEN, extras={"api": "keboola", **extras})
    )


def job(status: JobStatus = JobStatus.RUNNING, raw: str = "processing") -> Job:
    return Job("42", status, raw, payload={"runId": "42"})


def story(clock: Clock, **kwargs: Any) -> JobStory:
    return JobStory(logging.getLogger("test"), clock=clock, poll_interval=1.0, **kwargs)


def test_a_costly_story_is_read_at_the_first_look_on_a_change_at_the_end_and_once_an_interval():
    hook, clock = StoryHook(keboola()), Clock()
    watch = story(clock, interval=60.0)

    watch.follow(hook, job(JobStatus.PENDING, "waiting"))  # first look
    for _ in range(10):  # ten polls, nothing changed
        clock.now += 1
        watch.follow(hook, job(JobStatus.PENDING, "waiting"))
    assert len(hook.cursors) == 1
    watch.follow(hook, job())  # waiting -> processing
    assert len(hook.cursors) == 2
    clock.now += 59
    watch.follow(hook, job())
    assert len(hook.cursors) == 2
    clock.now += 1
    watch.follow(hook, job())  # a story interval since the last read
    assert len(hook.cursors) == 3
    watch.follow(hook, job(JobStatus.SUCCEEDED, "success"))  # the end, at once
    assert len(hook.cursors) == 4
    assert [cursor.get("since") for cursor in hook.cursors] == [None, 1, 2, 3], "each read goes on from the last"
    assert all(PACE_KEY not in cursor for cursor in hook.cursors), "the API sees its own cursor only"


def test_a_story_the_job_answer_carries_is_read_at_every_poll():
    hook, clock = StoryHook(TinybirdApi(tinybird_settings())), Clock()
    watch = story(clock)
    for _ in range(5):
        watch.follow(hook, job())
    assert len(hook.cursors) == 5


def test_the_pace_travels_with_the_cursor_from_worker_to_trigger():
    hook, clock = StoryHook(keboola()), Clock()
    worker = story(clock, interval=60.0)
    worker.follow(hook, job())
    trigger = story(clock, cursor=dict(worker.cursor), interval=60.0)
    clock.now += 10
    trigger.follow(hook, job())
    assert len(hook.cursors) == 1, "the trigger's first poll does not read again what the worker just read"
    clock.now -= 3600  # the triggerer's clock is behind the worker's
    trigger.follow(hook, job())
    assert len(hook.cursors) == 2


def test_job_story_false_reads_nothing_but_the_summary_line_stays(caplog):
    hook, clock = StoryHook(keboola()), Clock()
    watch = story(clock, enabled=False)
    watch.follow(hook, job())
    watch.follow(hook, job(JobStatus.SUCCEEDED, "success"))
    with caplog.at_level(logging.INFO, logger="test"):
        watch.summarize(hook, job(JobStatus.SUCCEEDED, "success"))
    assert hook.cursors == []
    assert "Summary: job 42 SUCCEEDED (raw: success): https://connection.keboola.com/admin/projects/1/queue/42" in (
        caplog.text
    ), "the page to open is the job's page in the vendor's UI"


def test_the_connection_extra_job_story_false_reads_nothing():
    hook, clock = StoryHook(keboola(job_story=False)), Clock()
    story(clock).follow(hook, job(JobStatus.SUCCEEDED, "success"))
    assert hook.cursors == []


def test_the_story_interval_is_the_task_s_else_the_connection_s_else_five_minutes_or_30_polls():
    assert story_interval(0.0, 120.0, 10.0) == 0.0
    assert story_interval(None, 120.0, 10.0) == 120.0
    assert story_interval(None, None, 1.0) == DEFAULT_STORY_INTERVAL
    assert story_interval(None, None, 60.0) == 1800.0


def test_story_interval_zero_from_the_connection_reads_at_every_poll():
    hook, clock = StoryHook(keboola(story_interval="0")), Clock()
    watch = story(clock)
    for _ in range(3):
        watch.follow(hook, job())
    assert len(hook.cursors) == 3


@pytest.mark.parametrize("value", [-1, "soon", True, float("nan"), [5]])
def test_a_bad_story_interval_extra_is_a_config_error_that_names_it(value):
    with pytest.raises(JobsConfigError, match="extra 'story_interval' must be a number of seconds"):
        story_interval_extra(keboola(story_interval=value).settings)


@pytest.mark.parametrize("value", [-0.5, "60", True])
def test_a_bad_story_interval_argument_fails_at_parse_time(value):
    with pytest.raises(JobsConfigError, match="story_interval must be a number of seconds"):
        options.story_interval(value)


def test_job_story_must_be_a_bool():
    with pytest.raises(JobsConfigError, match="job_story must be True or False"):
        options.story_switch("no")
