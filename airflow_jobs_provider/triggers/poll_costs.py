"""What the shared polls cost (triggers/batch_poller.py), counted by structure: requests per watched job
per poll interval, by API. Benchmarks and tests read it; the pollers only add to it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class PollCost:
    """What the shared polls of one API cost in this process, counted by structure, not by clock.

    ``rounds``: full rounds (one per interval); ``job_rounds``: the jobs they were for, summed;
    ``requests``: the requests those rounds and the first looks sent (a token request aside).
    """

    rounds: int = 0
    job_rounds: int = 0
    requests: int = 0

    @property
    def per_job_per_interval(self) -> float:
        return self.requests / self.job_rounds if self.job_rounds else 0.0


_COSTS: dict[str, PollCost] = {}


def poll_cost(api: str) -> PollCost:
    """The running tally of ``api``'s shared polls (made on first use)."""
    return _COSTS.setdefault(api, PollCost())


def poll_costs(reset: bool = False) -> dict[str, PollCost]:
    """Requests per watched job per interval by API name: ``{api: PollCost}``, for benchmarks and tests.

    Take it after the watches are running (``reset=True`` first, to leave start-up out): between two
    calls, ``requests / job_rounds`` is what one watched job costs per poll interval.
    """
    costs = dict(_COSTS)
    if reset:
        _COSTS.clear()
    return costs
