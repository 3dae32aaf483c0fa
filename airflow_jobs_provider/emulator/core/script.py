"""What a scripted job will do, and the validation of scripts sent to the control endpoint.

A script is the emulator's whole notion of "job behaviour": how long a job waits, how long it
works, which progress it reports on the way and how it ends. Keeping it a frozen value makes the
lifecycle a pure function of (script, facts, now).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

CANONICAL_OUTCOMES = ("succeeded", "failed", "cancelled")
SCRIPT_FIELDS = frozenset({"outcome", "duration", "queue_seconds", "progress", "error"})


class ScriptError(ValueError):
    """A script the control endpoint refuses; the message is shown to the caller as is."""


@dataclass(frozen=True)
class Script:
    """How one job behaves.

    :param outcome: ``succeeded``, ``failed`` or ``cancelled`` (mapped to each API's final state),
        or any raw state of that API, served verbatim once the job would have finished.
    :param duration: seconds spent working.
    :param queue_seconds: seconds spent waiting before work starts.
    :param progress: percentages shown one after the other, spread evenly over ``duration``;
        empty means the progress grows linearly.
    :param error: message reported by jobs that end failed.
    """

    outcome: str = "succeeded"
    duration: float = 1.0
    queue_seconds: float = 0.2
    progress: tuple[float, ...] = ()
    error: str = "Scripted failure"


BUILT_IN_SCRIPT = Script()


def parse_script(data: Mapping[str, Any], base: Script, *, allow_times: bool) -> tuple[Script, int]:
    """Read script fields (and ``times`` when allowed); fields left out come from ``base``.

    Returns ``(script, times)``. Raises ScriptError naming the first bad field, so a test
    author sees at once why the emulator refused the script.
    """
    allowed = SCRIPT_FIELDS | ({"times"} if allow_times else set())
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ScriptError(f"unknown field(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}")
    changes: dict[str, Any] = {}
    if "outcome" in data:
        changes["outcome"] = _outcome(data["outcome"])
    for name in ("duration", "queue_seconds"):
        if name in data:
            changes[name] = _seconds(name, data[name])
    if "progress" in data:
        changes["progress"] = _progress(data["progress"])
    if "error" in data:
        if not isinstance(data["error"], str):
            raise ScriptError("field 'error' must be a string")
        changes["error"] = data["error"]
    return replace(base, **changes), _times(data.get("times", 1))


def script_json(script: Script) -> dict[str, Any]:
    """The script as the control endpoint shows it back."""
    return {
        "outcome": script.outcome,
        "duration": script.duration,
        "queue_seconds": script.queue_seconds,
        "progress": list(script.progress),
        "error": script.error,
    }


def _outcome(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ScriptError(f"field 'outcome' must be one of {', '.join(CANONICAL_OUTCOMES)} or a raw state string")
    return value.strip()


def _number(value: Any) -> float | None:
    """A finite JSON number (bools excluded: JSON true is not a duration), else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _seconds(name: str, value: Any) -> float:
    number = _number(value)
    if number is None or number < 0:
        raise ScriptError(f"field {name!r} must be a number of seconds >= 0, got {value!r}")
    return number


def _progress(value: Any) -> tuple[float, ...]:
    if not isinstance(value, list):
        raise ScriptError(f"field 'progress' must be a list of percentages, got {value!r}")
    steps = tuple(_number(step) for step in value)
    if any(step is None or not 0 <= step <= 100 for step in steps):
        raise ScriptError(f"field 'progress' must hold numbers between 0 and 100, got {value!r}")
    return tuple(float(step) for step in steps if step is not None)


def _times(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ScriptError(f"field 'times' must be an integer >= 1, got {value!r}")
    return value
