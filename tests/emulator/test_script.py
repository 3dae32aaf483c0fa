"""Validation of scripts sent to the control endpoint (pure, no server)."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_jobs_provider.emulator.core.script import Script, ScriptError, parse_script

BASE = Script(outcome="succeeded", duration=2.0, queue_seconds=0.5, progress=(50.0,), error="base")


def test_fields_left_out_come_from_the_base_script() -> None:
    script, times = parse_script({"outcome": "failed", "times": 3}, BASE, allow_times=True)
    assert script == Script(outcome="failed", duration=2.0, queue_seconds=0.5, progress=(50.0,), error="base")
    assert times == 3


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"duration": -1}, "'duration' must be a number of seconds >= 0"),
        ({"duration": True}, "'duration' must be a number"),
        ({"queue_seconds": "1"}, "'queue_seconds' must be a number"),
        ({"duration": float("nan")}, "'duration' must be a number"),
        ({"progress": [10, 120]}, "between 0 and 100"),
        ({"progress": 50}, "must be a list"),
        ({"outcome": ""}, "'outcome' must be one of succeeded, failed, cancelled"),
        ({"outcome": 3}, "'outcome' must be one of"),
        ({"error": 5}, "'error' must be a string"),
        ({"times": 0}, "'times' must be an integer >= 1"),
        ({"times": 1.5}, "'times' must be an integer"),
        ({"speed": 2}, "unknown field(s) speed"),
    ],
)
def test_bad_fields_are_refused_with_the_field_named(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ScriptError) as caught:
        parse_script(fields, BASE, allow_times=True)
    assert message in str(caught.value)


def test_times_is_refused_where_it_makes_no_sense() -> None:
    with pytest.raises(ScriptError, match=r"unknown field\(s\) times"):
        parse_script({"times": 2}, BASE, allow_times=False)
