"""The production-shaped deployment: what users run, on loopback, started and stopped by the suite.

- PostgreSQL as the metadata database (a throwaway cluster, ``services.Postgres``);
- the CeleryExecutor with Redis as its broker (``services.Redis``) and the Celery result backend
  in PostgreSQL; two Celery workers (``worker-1``, ``worker-2``);
- two triggerers (``triggerer-1``, ``triggerer-2``). ``[triggerer] max_trigger_to_select_per_loop``
  is 1, the HA setting Airflow's docs recommend (well below the capacity), so the triggerers
  share new triggers instead of the first one to look taking all of them; ``capacity`` is 3, so
  the cases' six triggers split three and three, and a survivor adopts as it frees room;
- the api-server, scheduler, dag-processor and the emulator as in the SQLite deployment.

Which triggerer holds a trigger is read from the ``trigger`` table: each triggerer is started
alone and the TriggererJob row it creates is noted, so a job id names a component.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from tests.e2e.deployment import START_TIMEOUT, VENV_BIN, Deployment, _base_env
from tests.e2e.processes import free_port
from tests.e2e.prod.services import Postgres, Redis
from tests.support.polling import poll_until

TRIGGERERS = ("triggerer-1", "triggerer-2")
WORKERS = ("worker-1", "worker-2")
WORKER_CONCURRENCY = 3
TRIGGERER_CAPACITY = 3


class ProductionDeployment(Deployment):
    def __init__(self) -> None:
        super().__init__()
        self.home.chmod(0o711)  # PostgreSQL's user must reach its data dir under the home
        service_env = {**_base_env(), "AIRFLOW_HOME": str(self.home)}  # the home marks them as ours for cleanup
        self.postgres = Postgres(self.home / "postgres", self.logs, service_env)
        self.redis = Redis(self.home / "redis", self.logs, service_env)
        self.triggerer_jobs: dict[int, str] = {}
        """TriggererJob id -> the component that runs (or ran) it."""

    def start_services(self) -> None:
        self.components["postgres"] = self.postgres.component
        self.postgres.start()
        self.components["redis"] = self.redis.component
        self.redis.start()

    def stop(self) -> list[str]:
        """Stop the Airflow processes all at once (Celery's warm shutdown is slow), then the services."""
        services = {"postgres", "redis", "emulator"}
        airflow = [component for name, component in self.components.items() if name not in services]
        for component in airflow:
            component.signal_stop()
        for component in airflow:
            component.wait_stopped()
        return super().stop()

    def settings(self) -> dict[str, dict[str, str]]:
        settings = super().settings()
        settings["core"].update({"executor": "CeleryExecutor", "parallelism": "16"})
        settings["database"] = {"sql_alchemy_conn": self.postgres.url, "sql_alchemy_pool_size": "3"}
        settings["celery"] = {
            "broker_url": self.redis.url,
            "result_backend": f"db+{self.postgres.url}",
            "worker_concurrency": str(WORKER_CONCURRENCY),
            "sync_parallelism": "1",
        }
        # Each triggerer holds at most TRIGGERER_CAPACITY triggers, so 2 x 3 triggers split 3/3 for sure; a
        # survivor adopts a dead one's triggers as its own finish and free room (what capacity is for).
        settings["triggerer"].update({"max_trigger_to_select_per_loop": "1", "capacity": str(TRIGGERER_CAPACITY)})
        # A SIGKILLed worker's task is failed (and retried) once its heartbeat is this old.
        settings["scheduler"]["task_instance_heartbeat_timeout"] = "20"
        return settings

    def airflow_commands(self) -> dict[str, list[str]]:
        commands = super().airflow_commands()
        del commands["triggerer"]
        airflow = str(VENV_BIN / "airflow")
        for name in TRIGGERERS:
            commands[name] = [airflow, "triggerer"]
        for name in WORKERS:
            commands[name] = [
                airflow, "celery", "worker", "--concurrency", str(WORKER_CONCURRENCY),
                "--celery-hostname", f"{name}@%h", "--pid", str(self.home / f"{name}.pid"),
                "--without-mingle", "--without-gossip",
            ]  # fmt: skip
        return commands

    def component_env(self, name: str, env: dict[str, str]) -> dict[str, str]:
        """Each triggerer and worker serves its logs on a port of its own: they share one host."""
        if name in TRIGGERERS:
            return {**env, "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port())}
        if name in WORKERS:
            return {**env, "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port())}
        return env

    def start_component(self, name: str) -> None:
        """Start it; a triggerer is waited for until its TriggererJob row names it."""
        if name not in TRIGGERERS:
            super().start_component(name)
            return
        before = set(self.alive_triggerer_jobs())
        super().start_component(name)

        def registered() -> int | None:
            if not self.components[name].running:
                raise RuntimeError(f"{name} exited:\n{self.components[name].log_tail()}")
            new = set(self.alive_triggerer_jobs()) - before - set(self.triggerer_jobs)
            return new.pop() if new else None

        job_id = poll_until(registered, timeout=START_TIMEOUT, interval=0.5, what=f"{name} to register")
        self.triggerer_jobs[job_id] = name

    def alive_triggerer_jobs(self) -> list[int]:
        """TriggererJobs that heartbeat: a SIGKILLed triggerer's row keeps ``end_date`` NULL forever."""
        rows = self.postgres.query(
            "SELECT id FROM job WHERE job_type = 'TriggererJob' AND end_date IS NULL"
            " AND latest_heartbeat > now() - interval '10 seconds'"
        )
        return [int(row[0]) for row in rows]  # type: ignore[call-overload]

    def triggerer_of_job(self, job_id: Any) -> str | None:
        return None if job_id is None else self.triggerer_jobs.get(int(job_id), f"job {job_id}")

    def task_triggers(self) -> dict[tuple[str, str, str], str | None]:
        """(dag_id, run_id, task_id) of each deferred task -> the triggerer holding its trigger (None: unassigned)."""
        rows = self.postgres.query(
            "SELECT ti.dag_id, ti.run_id, ti.task_id, t.triggerer_id FROM trigger t"
            " JOIN task_instance ti ON ti.trigger_id = t.id"
        )
        return {(str(d), str(r), str(t)): self.triggerer_of_job(job) for d, r, t, job in rows}

    def asset_triggers(self, asset_name: str) -> list[str | None]:
        """The triggerer of each watcher trigger of the asset (None: unassigned)."""
        rows = self.postgres.query(
            "SELECT t.triggerer_id FROM trigger t JOIN asset_watcher w ON w.trigger_id = t.id"
            " JOIN asset a ON a.id = w.asset_id WHERE a.name = %s",
            (asset_name,),
        )
        return [self.triggerer_of_job(row[0]) for row in rows]

    def spread(self, triggers: dict[Any, str | None]) -> dict[str | None, list[Any]]:
        held: dict[str | None, list[Any]] = defaultdict(list)
        for key, holder in triggers.items():
            held[holder].append(key)
        return dict(held)

    def worker_running(self, pid: int) -> str:
        """The Celery worker whose process tree holds ``pid`` (a task process)."""
        for name in WORKERS:
            if any(proc.pid == pid for proc in self.components[name].family()):
                return name
        raise AssertionError(f"no Celery worker runs process {pid}")
