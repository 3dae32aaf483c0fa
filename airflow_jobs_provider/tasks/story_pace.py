"""When a watch reads the job's story, so that story reads stay off the per-poll request count.

Batched polling reads 1,000 jobs in 10 requests an interval (triggers/batch_poller.py); a story
read per job per poll would add 1,000. So a story that costs requests of its own (Keboola's
events, Airbyte's Config API attempts, a REST log endpoint: ``JobsApi.story_costs_requests``) is
read only

- at the watch's first look,
- when a poll shows the job changed state (canonical or raw: a handful of times in a job's life;
  progress alone is not a change here, it can move at every poll, and the progress line logs it),
- when the job has ended (the rest of its story, with the final events), and
- otherwise once per story interval while it runs: the task's ``story_interval``, else connection
  extra ``story_interval``, else the larger of ``DEFAULT_STORY_INTERVAL`` and
  ``STORY_INTERVAL_POLLS`` poll intervals (at most 1/30 of a request per job per interval).

A story the job's own answer carries (Tinybird's details, Faktory's ``desc``) costs nothing and
is read at every poll. The pace is plain JSON in the story cursor, so it travels from the worker
to the trigger and between reschedule-mode pokes with the rest of the cursor.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from airflow_jobs_provider.apis.job import Job

DEFAULT_STORY_INTERVAL = 300.0
"""Seconds between story reads of a running job that shows no change (at least)."""
STORY_INTERVAL_POLLS = 30
"""Poll intervals between story reads of a running job that shows no change (at least)."""
PACE_KEY = "pace"
"""The story cursor's key for the pace (the APIs' own keys are theirs: ``since``, ``seen``…)."""


def story_interval(given: float | None, extra: float | None, poll_interval: float) -> float:
    """The task's value, else the connection's, else the larger of 5 minutes and 30 poll intervals."""
    if given is not None:
        return given
    if extra is not None:
        return extra
    return max(DEFAULT_STORY_INTERVAL, STORY_INTERVAL_POLLS * poll_interval)


@dataclass
class StoryPace:
    """When the story was last read (epoch seconds) and the job's state then."""

    read_at: float | None = None
    seen: list[Any] | None = None

    @classmethod
    def from_cursor(cls, cursor: Mapping[str, Any]) -> StoryPace:
        kept = cursor.get(PACE_KEY)
        if not isinstance(kept, Mapping):
            return cls()
        at, seen = kept.get("at"), kept.get("seen")
        return cls(
            at if isinstance(at, (int, float)) and not isinstance(at, bool) else None,
            seen if isinstance(seen, list) else None,
        )

    def due(self, job: Job, now: float, interval: float) -> bool:
        """Read now? At the first look, on a change, at the end, and once per ``interval`` otherwise."""
        if job.status.is_terminal or self.read_at is None or self.seen != state_of(job):
            return True
        return not self.read_at <= now < self.read_at + interval  # a clock that went back reads too

    def read(self, job: Job, now: float) -> dict[str, Any]:
        """Note a read; the JSON the cursor keeps."""
        self.read_at, self.seen = now, state_of(job)
        return {"at": now, "seen": self.seen}


def state_of(job: Job) -> list[str]:
    return [job.status.value, job.raw_status]
