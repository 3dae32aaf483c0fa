"""A trigger as the triggerer gets it (rebuilt from the kwargs its serialize() stored), and its one event."""

from __future__ import annotations

import importlib
from typing import Any

from airflow_jobs_provider.version_compat import AIRFLOW_V_3_0_PLUS, AIRFLOW_V_3_2_PLUS


def rebuilt(trigger: Any) -> Any:
    """What the triggerer does: serialize, store the kwargs, rebuild the trigger from them.

    Airflow 3.2+ passes the kwargs through airflow.sdk.serde; older versions (2.11 to 3.1) through
    the Trigger row's Fernet-encrypted BaseSerialization (``Trigger.encrypt_kwargs`` since 3.0,
    ``Trigger._encrypt_kwargs`` on 2.11). Either rejects what is not plain data.
    """
    classpath, kwargs = trigger.serialize()
    stored: Any
    if AIRFLOW_V_3_2_PLUS:
        from airflow.sdk.serde import deserialize, serialize

        stored = deserialize(serialize(kwargs))
    else:
        from airflow.models.trigger import Trigger

        encrypt = Trigger.encrypt_kwargs if AIRFLOW_V_3_0_PLUS else Trigger._encrypt_kwargs
        stored = Trigger._decrypt_kwargs(encrypt(kwargs))
    module, _, name = classpath.rpartition(".")
    return getattr(importlib.import_module(module), name)(**stored)


async def first_event(trigger: Any) -> dict[str, Any]:
    """Run a status trigger to its end: it fires exactly one event and returns; that event's payload."""
    events = [event.payload async for event in trigger.run()]
    assert len(events) == 1, "a trigger fires exactly one event and returns"
    return events[0]
