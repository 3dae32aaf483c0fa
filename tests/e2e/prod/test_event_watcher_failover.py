"""An event watcher whose triggerer is SIGKILLed: the other triggerer takes it over, and every
finished job still gives exactly one asset event.

``example_event_consumer`` is scheduled on an asset that a ``JobEventTrigger`` watches. The
producer starts three Tinybird copies. The first ends and is reported; the watcher's triggerer
is SIGKILLed; the second ends while no triggerer runs the watcher; the surviving triggerer
adopts it, reads its cursor back from the asset state store (PostgreSQL), reports the second
job, then the third. No triggerer is restarted, and no job is reported twice or missed.
"""

from __future__ import annotations

from collections import Counter

import pytest

from tests.e2e.prod.deployment import TRIGGERERS, ProductionDeployment
from tests.e2e.scenario import STEP_TIMEOUT
from tests.e2e.test_event_driven import (
    ASSET,
    committed_job_ids,
    consumer_runs,
    list_polls,
    start_copies,
    wait_for_consumer_runs,
    watching,
)
from tests.support.polling import poll_until

pytestmark = pytest.mark.e2e
__all__ = ["watching"]  # the fixture, shared with the SQLite deployment's event cases


def asset_events(deployment: ProductionDeployment) -> Counter[str]:
    """How many asset events the asset holds for each job id."""
    (asset,) = deployment.api.call("GET", f"/assets?name_pattern={ASSET}")["assets"]
    events = deployment.api.call("GET", f"/assets/events?asset_id={asset['id']}&limit=100")["asset_events"]
    jobs = [(event.get("extra") or {}).get("payload", {}).get("job") for event in events]
    return Counter(job["job_id"] for job in jobs if job)


def holder(deployment: ProductionDeployment) -> str | None:
    holders = deployment.asset_triggers(ASSET)
    return holders[0] if len(holders) == 1 else None


def test_the_other_triggerer_takes_the_watcher_over(deployment: ProductionDeployment, watching):
    emulator = deployment.emulator
    assert emulator is not None
    before = len(consumer_runs(deployment))
    events_before = asset_events(deployment)
    # The copies start in parallel on two Celery workers, in no known order: each is ended by hand.
    first, during_outage, after = start_copies(deployment, "copies-across-a-failover", durations=(600, 600, 600))
    emulator.force_state("tinybird", first, "done")
    wait_for_consumer_runs(deployment, before + 1)
    poll_until(
        lambda: first in committed_job_ids(deployment),
        timeout=STEP_TIMEOUT,
        interval=0.5,
        what="the first report to be committed",
    )

    doomed = poll_until(lambda: holder(deployment), timeout=STEP_TIMEOUT, interval=0.5, what="the watcher's triggerer")
    (survivor,) = [name for name in TRIGGERERS if name != doomed]
    deployment.components[doomed].kill_hard()
    emulator.force_state("tinybird", during_outage, "done")  # ends while nobody watches
    poll_until(
        lambda: holder(deployment) == survivor,
        timeout=STEP_TIMEOUT,
        interval=0.5,
        what=f"{survivor} to adopt the watcher of the killed {doomed}",
    )
    wait_for_consumer_runs(deployment, before + 2)
    emulator.force_state("tinybird", after, "done")

    reports = wait_for_consumer_runs(deployment, before + 3)[before:]
    assert sorted(job_id for report in reports for job_id in report) == sorted([first, during_outage, after])
    polls = list_polls(deployment)
    poll_until(lambda: list_polls(deployment) >= polls + 3, timeout=STEP_TIMEOUT, interval=0.5, what="three more polls")
    assert len(consumer_runs(deployment)) == before + 3, "no job is reported twice"
    events = asset_events(deployment) - events_before
    assert events == Counter({first: 1, during_outage: 1, after: 1}), f"one asset event per finished job: {events}"
    assert {first, during_outage, after} <= committed_job_ids(deployment), "the cursor holds every reported job"
    assert not deployment.components[doomed].running, "no triggerer was restarted: the survivor did it all"
