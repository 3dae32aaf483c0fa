"""DAG-parse cost: what importing our operator and sensor adds to a DAG file that imports ``airflow.sdk``.

Every DAG file is parsed again and again by the DAG processor, so a provider's import time is paid
at each parse. Each sample is a fresh interpreter (no warm module cache): it imports
``airflow.sdk``, then times the import of the provider modules; the best of several runs is kept,
as the least disturbed by the rest of the machine. The same sample reports whether the import
pulled in the HTTP stack (aiohttp, requests), which only the triggerer and workers need.
"""

from __future__ import annotations

import json
import subprocess
import sys

PROVIDER_MODULES = ("airflow_jobs_provider.operators.jobs", "airflow_jobs_provider.sensors.jobs")
AIRBYTE_MODULES = ("airflow.providers.airbyte.operators.airbyte", "airflow.providers.airbyte.sensors.airbyte")
HEAVY = ("aiohttp", "requests", "httpx", "airflow_jobs_provider.hooks.http")
SAMPLE = """
import importlib, json, sys, time
import airflow.sdk
before = set(sys.modules)
started = time.perf_counter()
for name in sys.argv[1:]:
    importlib.import_module(name)
elapsed = time.perf_counter() - started
added = set(sys.modules) - before
print(json.dumps({"ms": elapsed * 1000, "loaded": [name for name in %r if name in added]}))
"""


def sample(modules: tuple[str, ...]) -> dict[str, object]:
    """One fresh interpreter's import time of ``modules`` on top of ``airflow.sdk``."""
    answer = subprocess.run(
        [sys.executable, "-c", SAMPLE % (HEAVY,), *modules], check=True, capture_output=True, text=True
    )
    return json.loads(answer.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def import_overhead(modules: tuple[str, ...] = PROVIDER_MODULES, runs: int = 7) -> dict[str, object]:
    """Best-of-``runs`` milliseconds, and the heavy modules those imports added (not airflow.sdk's own)."""
    samples = [sample(modules) for _ in range(runs)]
    best = min(float(str(entry["ms"])) for entry in samples)
    loaded = sorted({name for entry in samples for name in entry["loaded"]})  # type: ignore[attr-defined]
    return {"modules": list(modules), "best_ms": round(best, 2), "runs": runs, "heavy_modules_loaded": loaded}


def airbyte_available() -> bool:
    try:
        sample(AIRBYTE_MODULES[:1])
    except subprocess.CalledProcessError:
        return False
    return True


if __name__ == "__main__":
    print(json.dumps(import_overhead(), indent=2))
