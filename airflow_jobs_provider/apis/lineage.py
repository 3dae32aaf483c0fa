"""What a job read and wrote, in plain data: the adapters fill it, lineage/ turns it into OpenLineage.

Namespaces and names follow the spirit of OpenLineage's naming conventions (a ``scheme://authority``
namespace, a path-like name within it); each API's page documents its own (docs/lineage.md).
No field may hold a secret: URLs are stripped of user info, query and fragment first
(``apis.links.strip_secrets``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Dataset:
    namespace: str
    name: str


@dataclass(frozen=True)
class JobLineage:
    """Inputs and outputs of one job, the job's statistics (rows, bytes, ...) and where they came from."""

    inputs: tuple[Dataset, ...] = ()
    outputs: tuple[Dataset, ...] = ()
    statistics: Mapping[str, Any] = field(default_factory=dict)
    source: str = ""
    """How the datasets were found, e.g. "keboola open-api-lineage" or "the job spec"."""

    @property
    def empty(self) -> bool:
        return not self.inputs and not self.outputs


def unique(datasets: list[Dataset]) -> tuple[Dataset, ...]:
    """The datasets in first-seen order, each once."""
    return tuple(dict.fromkeys(datasets))


def dataset_from(value: Any) -> Dataset | None:
    """A dataset from an answer's ``{"namespace", "name"}`` object, or from a URI string
    ``scheme://authority/path`` (namespace ``scheme://authority``, name ``path``); None otherwise."""
    from airflow_jobs_provider.apis.links import strip_secrets

    if isinstance(value, Mapping):
        namespace, name = value.get("namespace"), value.get("name")
        if isinstance(namespace, str) and isinstance(name, str) and namespace.strip() and name.strip():
            if "://" in namespace:
                clean = strip_secrets(namespace)
                if clean is None:
                    return None
                namespace = clean.rstrip("/")
            return Dataset(namespace, name)
        return None
    if isinstance(value, str):
        clean = strip_secrets(value)
        if clean is None:
            return None
        scheme, _, rest = clean.partition("://")
        authority, _, path = rest.partition("/")
        return Dataset(f"{scheme}://{authority}", path or "/")
    return None
